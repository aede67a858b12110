/** The window's view of the hub: bridge, connection truth, settings. Everything else reads from here. */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { HubError, REPLAY_REFUSAL, type RefusalReason, type ConnectionState, type HelloResult, type HubApi, type Settings, type SettingsPatch, type WallRequestState } from '../../../protocol';

export type HubPhase = 'connecting' | 'ready' | 'failed';

/** An error as the user sees it: a Chinese message chosen by code, with the technical detail one click away. */
export interface UserFacingError {
  code: string;
  detail: string;
  /** A refused command's reason: shown in the window's language when its key is known (ErrorNotice). */
  reason?: RefusalReason;
}

/** The code of a command (call, wall request) refused because 复盘回放 is active: 「回放中不能发送指令，请先返回实时」. */
export const REPLAY_ERROR_CODE = 'replay-active';

export function toUserFacingError(e: unknown): UserFacingError {
  if (e instanceof HubError && e.message === REPLAY_REFUSAL) return { code: REPLAY_ERROR_CODE, detail: e.message };
  if (e instanceof HubError) return e.reason ? { code: e.code, detail: e.message, reason: e.reason } : { code: e.code, detail: e.message };
  return { code: 'internal', detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

export const useHubStore = defineStore('hub', () => {
  const api = shallowRef<HubApi | null>(null);
  const phase = ref<HubPhase>('connecting');
  const hello = ref<HelloResult | null>(null);
  const connection = ref<ConnectionState | null>(null);
  const settings = ref<Settings | null>(null);
  const error = ref<UserFacingError | null>(null);
  const stops: Array<() => Promise<void>> = [];
  /** The latest wall request made after this window opened (older ones were for the walls of that time). */
  const wallRequest = shallowRef<WallRequestState | null>(null);
  let wallSeqSeen = -1;

  const commandLevel = computed(() => connection.value?.commandLevel ?? null);

  async function attach(connect: () => Promise<HubApi>): Promise<void> {
    phase.value = 'connecting';
    try {
      const hub = await connect();
      api.value = hub;
      hello.value = await hub.hello();
      stops.push(await hub.subscribe({ topic: 'settings' }, (value) => (settings.value = value)));
      stops.push(await hub.subscribe({ topic: 'connection' }, (value) => (connection.value = value)));
      stops.push(
        await hub.subscribe({ topic: 'wall' }, (value) => {
          if (wallSeqSeen >= 0 && value.seq > wallSeqSeen) wallRequest.value = value;
          wallSeqSeen = value.seq;
        }),
      );
      phase.value = 'ready';
    } catch (e) {
      error.value = toUserFacingError(e);
      phase.value = 'failed';
    }
  }

  function linkLost(detail: string): void {
    error.value = { code: 'linkLost', detail };
    phase.value = 'failed';
  }

  async function updateSettings(patch: SettingsPatch): Promise<void> {
    if (!api.value) return;
    try {
      settings.value = await api.value.updateSettings(patch);
    } catch (e) {
      error.value = toUserFacingError(e);
    }
  }

  /** A person's 重试 for the embedded backend the supervisor gave up on. */
  async function restartBackend(): Promise<void> {
    if (!api.value) return;
    try {
      await api.value.restartBackend();
    } catch (e) {
      error.value = toUserFacingError(e);
    }
  }

  function dismissError(): void {
    if (phase.value !== 'failed') error.value = null;
  }

  async function detach(): Promise<void> {
    await Promise.allSettled(stops.splice(0).map((stop) => stop()));
    api.value?.close();
    api.value = null;
  }

  return { api, phase, hello, connection, settings, error, commandLevel, wallRequest, attach, linkLost, updateSettings, restartBackend, dismissError, detach };
});
