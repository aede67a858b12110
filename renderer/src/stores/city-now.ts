/**
 * "Now" on the city's clock, as the window shows it: the backend's clock (it may run faster than real time in a
 * demo), or, while 复盘回放 is active, the replay's time T, so countdowns and overdue marks read as they stood then.
 * The sign-in dialog's lock countdown stays on the live clock (it is about now, not about the city).
 */
import { serverNowMs, type ConnectionState } from '../../../protocol';
import { useHubStore } from './hub';
import { useReplayStore } from './replay';

/** T while replaying, else the server's clock now (pure: for tests and for callers with their own inputs). */
export function cityNowMs(replayAtMs: number | null, serverClock: ConnectionState['serverClock'] | null, localNowMs: number = Date.now()): number {
  return replayAtMs ?? serverNowMs(serverClock ?? null, localNowMs);
}

/** A function reading the city's "now" (reactive where it is read inside a computed: T, the clock's anchor). */
export function useCityNow(): () => number {
  const hub = useHubStore();
  const replay = useReplayStore();
  return () => cityNowMs(replay.atMs, hub.connection?.serverClock ?? null);
}
