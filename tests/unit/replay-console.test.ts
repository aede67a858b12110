/**
 * 复盘回放 in the console's window with a fake Hub API: the replay store follows the topic and moves the hub's
 * replay (a history refusal stays on the topic, a hub refusal becomes the window's error); "now" is T while it is
 * active (useCityNow), the server's clock otherwise; commands and calls are refused before the hub with the hub's
 * words; the alarms (live, the hub keeps them so) still ring but cannot be acknowledged; the time bar's steps and scrubber stay within the range;
 * the tracks layer draws the last 15 minutes before T, cut at gaps and status changes.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { HubError, REPLAY_IDLE, REPLAY_REFUSAL, serverNowMs, type CommandRequest, type ConnectionState, type HubApi, type ReplayState, type RowsChange, type ViewRow } from '../../protocol';
import { REPLAY_ERROR_CODE, toUserFacingError, useHubStore } from '../../renderer/src/stores/hub';
import { rangeFraction, steppedTime, timeAtFraction, useReplayStore } from '../../renderer/src/stores/replay';
import { cityNowMs, useCityNow } from '../../renderer/src/stores/city-now';
import { useAlarmStore } from '../../renderer/src/stores/alarms';
import { send } from '../../renderer/src/data';
import { TRACK_WINDOW_MS, trackPiecesAt } from '../../renderer/src/map/track-pieces';

const FROM = '2026-11-30T08:00:00.000Z';
const TO = '2026-11-30T09:00:00.000Z';
const AT = '2026-11-30T08:30:00.000Z';
const replaying = (extra: Partial<ReplayState> = {}): ReplayState => ({ ...REPLAY_IDLE, active: true, from: FROM, to: TO, at: AT, eventId: 'E1', ...extra });
const clock = { serverTime: '2026-11-30T10:00:00.000Z', localTime: new Date(Date.now()).toISOString(), clockRate: 1 } as ConnectionState['serverClock'];

describe('the console during replay', () => {
  let topic: ((state: ReplayState) => void) | null;
  const sent: CommandRequest[] = [];
  const calls: Array<{ method: string; params: unknown }> = [];
  let answer: (method: string, params: unknown) => ReplayState;
  const alarmListeners = new Map<string, (rows: Map<string, unknown>, change: RowsChange<unknown>) => void>();

  beforeEach(() => {
    setActivePinia(createPinia());
    topic = null;
    sent.length = 0;
    calls.length = 0;
    answer = () => replaying();
    const record = (method: string, params: unknown): Promise<ReplayState> => {
      calls.push({ method, params });
      return Promise.resolve().then(() => answer(method, params));
    };
    const hub = useHubStore();
    hub.connection = { user: { id: 'u', name: '调度员', role: 'dispatcher' }, commandLevel: 'daily', serverClock: clock } as unknown as ConnectionState;
    hub.api = {
      subscribe: async (q: { topic: string }, listener: (v: ReplayState) => void) => {
        if (q.topic === 'replay') topic = listener;
        return async () => {};
      },
      subscribeRows: async (q: { collection: string }, listener: (rows: Map<string, unknown>, change: RowsChange<unknown>) => void) => {
        alarmListeners.set(q.collection, listener);
        listener(new Map(), { upserts: [], removes: [], reset: true });
        return async () => {};
      },
      submitCommand: async (c: CommandRequest) => {
        sent.push(c);
        return { commandId: c.commandId, status: 'pending', queuedAt: AT, predicted: true };
      },
      replayStart: (p: unknown) => record('replayStart', p),
      replaySeek: (at: string) => record('replaySeek', at),
      replayPlay: (speed: number) => record('replayPlay', speed),
      replayStop: () => record('replayStop', {}),
    } as unknown as HubApi;
  });

  it('follows the topic; "now" is T while replaying and the server clock when live', async () => {
    const replay = useReplayStore();
    const now = useCityNow();
    await replay.start();
    expect(replay.active).toBe(false);
    const live = now();
    expect(Math.abs(live - serverNowMs(clock))).toBeLessThan(1000);
    topic!(replaying());
    expect(replay.active).toBe(true);
    expect(now()).toBe(Date.parse(AT));
    topic!(REPLAY_IDLE);
    expect(replay.atMs).toBeNull();
    expect(cityNowMs(null, null, 1234)).toBe(1234);
    expect(cityNowMs(5678, clock, 1234)).toBe(5678);
  });

  it('moves the hub replay: an event with its margin, steps within the range, speed kept in 1–60', async () => {
    const replay = useReplayStore();
    await expect(replay.openEvent('E1')).resolves.toBe(true);
    await replay.openEvent('E1', 5);
    expect(calls.map((c) => c.params)).toEqual([{ eventId: 'E1' }, { eventId: 'E1', marginMin: 5 }]);
    expect(replay.state.at).toBe(AT);
    await replay.step(-60 * 60_000);
    expect(calls.at(-1)).toEqual({ method: 'replaySeek', params: FROM });
    await replay.play(600);
    expect(calls.at(-1)).toEqual({ method: 'replayPlay', params: 60 });
    await replay.pause();
    expect(calls.at(-1)).toEqual({ method: 'replayPlay', params: 0 });
  });

  it('a refusal of the history stays on the topic; a hub refusal is the window error', async () => {
    const replay = useReplayStore();
    answer = () => replaying({ error: { code: 'future', message: '不能回放未来的时刻 / T is in the future' } });
    await expect(replay.seek('2030-01-01T00:00:00.000Z')).resolves.toBe(false);
    expect(replay.state.error?.code).toBe('future');
    expect(useHubStore().error).toBeNull();
    answer = () => {
      throw new HubError('unavailable', '未在回放 / no replay is active: start one first');
    };
    await expect(replay.seek(AT)).resolves.toBe(false);
    expect(useHubStore().error).toMatchObject({ code: 'unavailable' });
    expect(replay.busy).toBe(false);
  });

  it('refuses commands while replaying, and live alarms still ring but are not acknowledged; live again, both work', async () => {
    const replay = useReplayStore();
    const alarms = useAlarmStore();
    await replay.start();
    await alarms.start();
    const T = AT;
    const row = { id: 'alarm-A', eventId: 'A', districtId: 'd1', gridId: 'g1', title: '事件 A', severity: 3, source: 'hotline', cameraId: null, reasons: [], createdAt: T, raisedAt: T, rung: 1, rungAt: T, ackedAt: null, ackedBy: null, ackedById: null, ackedConsole: null, ackNote: null, reportedAt: T, version: 1 } as unknown as ViewRow<'alarms'>;
    alarmListeners.get('alarms')!(new Map([[row.id, row]]), { upserts: [row], removes: [], reset: true });
    expect(alarms.sound).not.toBeNull();
    topic!(replaying());
    expect(alarms.sound).not.toBeNull();
    expect(alarms.mayAcknowledge).toBe(false);
    await expect(send('event.accept', { eventId: 'A' })).resolves.toBe(false);
    expect(sent).toHaveLength(0);
    expect(useHubStore().error).toEqual({ code: REPLAY_ERROR_CODE, detail: REPLAY_REFUSAL });
    topic!(REPLAY_IDLE);
    useHubStore().dismissError();
    expect(alarms.sound).not.toBeNull();
    await expect(send('event.accept', { eventId: 'A' })).resolves.toBe(true);
    expect(sent).toHaveLength(1);
    // The hub's own refusal (a window that had not heard the topic yet) reads the same.
    expect(toUserFacingError(new HubError('unauthorized', REPLAY_REFUSAL)).code).toBe(REPLAY_ERROR_CODE);
  });

  it('the time bar stays within [from, to]', () => {
    const s = { from: FROM, to: TO, at: AT };
    expect(steppedTime(s, 10_000)).toBe('2026-11-30T08:30:10.000Z');
    expect(steppedTime(s, 3_600_000)).toBe(TO);
    expect(steppedTime({ ...s, at: null }, 10_000)).toBeNull();
    expect(rangeFraction(s)).toBe(0.5);
    expect(timeAtFraction(s, 0.25)).toBe('2026-11-30T08:15:00.000Z');
    expect(timeAtFraction(s, 7)).toBe(TO);
  });
});

describe('the replay tracks layer model', () => {
  const at = Date.parse(AT);
  it('draws the 15 minutes before T, cut at gaps over 2 minutes and at status changes', () => {
    const p = (dtS: number, lon: number, status = 0): [number, number, number, number] => [at + dtS * 1000, lon, 30, status];
    const pieces = trackPiecesAt(
      [
        // before the window, then three points walking, a gap of 3 minutes, two more, then after T
        { staffId: 'a', points: [p(-TRACK_WINDOW_MS / 1000 - 10, 0), p(-600, 1), p(-540, 2), p(-480, 3), p(-300, 4), p(-240, 5), p(30, 6)] },
        // a status change mid-way: two pieces, joined at the change
        { staffId: 'b', points: [p(-120, 10, 0), p(-60, 11, 0), p(-30, 12, 1), p(0, 13, 1)] },
        // one point only: nothing to draw
        { staffId: 'c', points: [p(-10, 20)] },
      ],
      at,
    );
    expect(pieces.map((x) => [x.staffId, x.status, x.points.map((q) => q[0])])).toEqual([
      ['a', 0, [1, 2, 3]],
      ['a', 0, [4, 5]],
      ['b', 0, [10, 11, 12]],
      ['b', 1, [12, 13]],
    ]);
  });
});
