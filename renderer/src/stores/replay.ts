/**
 * 复盘回放 as this window sees it: the hub's one replay session (hub/replay/), which every window of the console
 * follows through the topic `replay`, and the Hub API calls that move it (start, seek, play, stop, tracks). While
 * it is active the window's rows are the city at T (the hub serves them), "now" is T (useCityNow), actions are
 * hidden, commands are refused here before the hub refuses them, and alarms never ring.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { REPLAY_IDLE, REPLAY_SPEED_MAX, type HistoryTracks, type HubApi, type ReplayStartParams, type ReplayState } from '../../../protocol';
import { toUserFacingError, useHubStore } from './hub';
import { isDemoWindow } from './sign-in';

/** The speeds the time bar offers (× city time). */
export const REPLAY_SPEEDS = [1, 2, 5, 10, 30, REPLAY_SPEED_MAX] as const;

/** T moved by delta, kept within [from, to]. */
export function steppedTime(state: Pick<ReplayState, 'from' | 'to' | 'at'>, deltaMs: number): string | null {
  if (!state.at || !state.from || !state.to) return null;
  const at = Math.min(Date.parse(state.to), Math.max(Date.parse(state.from), Date.parse(state.at) + deltaMs));
  return new Date(at).toISOString();
}

/** Where T lies in [from, to], 0–1 (the scrubber), and back. */
export function rangeFraction(state: Pick<ReplayState, 'from' | 'to' | 'at'>): number {
  if (!state.at || !state.from || !state.to) return 0;
  const from = Date.parse(state.from);
  const span = Date.parse(state.to) - from;
  return span <= 0 ? 0 : Math.min(1, Math.max(0, (Date.parse(state.at) - from) / span));
}
export function timeAtFraction(state: Pick<ReplayState, 'from' | 'to'>, fraction: number): string | null {
  if (!state.from || !state.to) return null;
  const from = Date.parse(state.from);
  const f = Math.min(1, Math.max(0, fraction));
  return new Date(Math.round(from + (Date.parse(state.to) - from) * f)).toISOString();
}

export const useReplayStore = defineStore('replay', () => {
  const hub = useHubStore();
  const state = shallowRef<ReplayState>(REPLAY_IDLE);
  /** A move asked for and not answered yet (the time bar waits). */
  const busy = ref(false);
  let stopTopic: (() => Promise<void>) | null = null;

  const active = computed(() => state.value.active);
  /** T in epoch ms while replay is active, else null. */
  const atMs = computed(() => (state.value.active && state.value.at ? Date.parse(state.value.at) : null));

  async function start(): Promise<void> {
    if (stopTopic || !hub.api) return;
    try {
      stopTopic = await hub.api.subscribe({ topic: 'replay' }, (value) => (state.value = value));
    } catch (e) {
      if (hub.phase === 'ready') hub.error = toUserFacingError(e);
    }
  }

  async function dispose(): Promise<void> {
    const stop = stopTopic;
    stopTopic = null;
    state.value = REPLAY_IDLE;
    await stop?.().catch(() => undefined);
  }

  /** One move: the answer is the topic's state (a refusal of the history is its `error`; a hub refusal the window's). */
  async function move(call: (api: HubApi) => Promise<ReplayState>): Promise<boolean> {
    if (!hub.api) return false;
    busy.value = true;
    try {
      state.value = await call(hub.api);
      return state.value.error === null;
    } catch (e) {
      hub.error = toUserFacingError(e);
      return false;
    } finally {
      busy.value = false;
    }
  }

  const open = (params: ReplayStartParams): Promise<boolean> => move((api) => api.replayStart(params));
  const openRange = (from: string, to: string): Promise<boolean> => open({ from, to });
  const openEvent = (eventId: string, marginMin?: number): Promise<boolean> => open(marginMin === undefined ? { eventId } : { eventId, marginMin });
  const seek = (at: string): Promise<boolean> => move((api) => api.replaySeek(at));
  const play = (speed: number): Promise<boolean> => move((api) => api.replayPlay(Math.min(REPLAY_SPEED_MAX, Math.max(1, Math.round(speed)))));
  const pause = (): Promise<boolean> => move((api) => api.replayPlay(0));
  const backToLive = (): Promise<boolean> => move((api) => api.replayStop());

  /** ±delta from T, within the range (the time bar's steps). */
  function step(deltaMs: number): Promise<boolean> {
    const at = steppedTime(state.value, deltaMs);
    return at === null ? Promise.resolve(false) : seek(at);
  }

  /** Staff tracks over a range (the map's tracks layer); a refusal is the caller's to show. */
  async function tracks(from: string, to: string, staffIds?: string[]): Promise<HistoryTracks> {
    if (!hub.api) throw new Error('hub not attached');
    return hub.api.replayTracks(staffIds && staffIds.length > 0 ? { from, to, staffIds } : { from, to });
  }

  /** A demo screen follows the console's replay; it does not drive it (the hub refuses it too). */
  const mayDrive = typeof window === 'undefined' || !isDemoWindow();

  return { state, busy, active, atMs, mayDrive, start, dispose, openRange, openEvent, seek, play, pause, step, backToLive, tracks };
});
