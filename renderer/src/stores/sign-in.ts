/**
 * The window's side of signing in. The hub owns the signed-in user (ConnectionState.signIn, one for every window);
 * this store only says when this window asks for a password, and holds the last refusal to word it. The password
 * is passed straight to the hub and never kept here.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { SignInResult } from '../../../protocol';
import { toUserFacingError, useHubStore } from './hub';

export type SignInRefusal = Extract<SignInResult, { ok: false }>;

/** A demo / inspection screen (迎检演示) never signs in or out: it stays the console's viewer. */
export const isDemoWindow = (search: string = window.location.search): boolean => new URLSearchParams(search).get('demo') === '1';

export const useSignInStore = defineStore('sign-in', () => {
  const hub = useHubStore();
  const busy = ref(false);
  const refusal = shallowRef<SignInRefusal | null>(null);
  /** Answers received (each try's answer replaces the last: a window tells a new refusal from the same one). */
  const answers = ref(0);
  const demoWindow = isDemoWindow();

  const state = computed(() => hub.connection?.signIn ?? null);
  /** Nobody is signed in (or the session ended): the overlay asks, the picture stays behind it. */
  const asking = computed(() => !demoWindow && hub.phase === 'ready' && (state.value?.state === 'required' || state.value?.state === 'expired'));

  /** Signs the console in; true when signed in. A refusal is kept for the window to word. */
  async function signIn(user: string, password: string): Promise<boolean> {
    if (!hub.api || busy.value) return false;
    busy.value = true;
    try {
      const result = await hub.api.signIn({ user: user.trim(), password });
      refusal.value = result.ok ? null : result;
      return result.ok;
    } catch (e) {
      refusal.value = { ok: false, reason: 'refused', message: toUserFacingError(e).detail, lockedUntil: null };
      return false;
    } finally {
      busy.value = false;
      answers.value++;
    }
  }

  async function signOut(): Promise<void> {
    if (!hub.api) return;
    refusal.value = null;
    try {
      await hub.api.signOut();
    } catch (e) {
      hub.error = toUserFacingError(e);
    }
  }

  function clearRefusal(): void {
    refusal.value = null;
  }

  return { busy, refusal, answers, demoWindow, state, asking, signIn, signOut, clearRefusal };
});
