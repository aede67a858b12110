/**
 * The console's alarm store with a fake Hub API: it shows the backend's alarm records — every unacknowledged one
 * rings, those raised before the console started included — sounds at the volume and repetition of the highest
 * rung calling the user's role (a leader only from the rung that calls leaders), acknowledges by command (never
 * escalating on its own), and lets only roles with the right acknowledge.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { CommandRequest, ConnectionState, HubApi, RowsChange, UserRole, ViewRow } from '../../protocol';
import { DEFAULT_LEVEL_PROFILES } from '../../domain';
import { useHubStore } from '../../renderer/src/stores/hub';
import { useAlarmStore } from '../../renderer/src/stores/alarms';

type Row = ViewRow<'alarms'>;
const T = '2026-11-30T08:00:00.000Z';
const alarm = (id: string, extra: Partial<Row> = {}): Row => ({
  id: `alarm-${id}`, eventId: id, districtId: 'd1', gridId: 'g1', title: `事件 ${id}`, severity: 3, source: 'hotline', cameraId: null,
  reasons: [{ kind: 'severe', key: 'severe', at: T, detail: '严重程度 3 级' }], createdAt: T, raisedAt: T, rung: 1, rungAt: T,
  ackedAt: null, ackedBy: null, ackedById: null, ackedConsole: null, ackNote: null, reportedAt: T, version: 1, ...extra,
});

describe('the console alarm store', () => {
  const listeners = new Map<string, (rows: Map<string, unknown>, change: RowsChange<unknown>) => void>();
  const sent: CommandRequest[] = [];

  function signIn(role: UserRole, level: 'daily' | 'emergency' = 'daily'): void {
    const hub = useHubStore();
    hub.connection = { user: { id: 'u', name: '某人', role }, commandLevel: level } as unknown as ConnectionState;
  }
  function push(rows: Row[]): void {
    const map = new Map(rows.map((r) => [r.id, r]));
    listeners.get('alarms')!(map, { upserts: rows, removes: [], reset: true });
  }

  beforeEach(() => {
    setActivePinia(createPinia());
    listeners.clear();
    sent.length = 0;
    useHubStore().api = {
      subscribeRows: async (q: { collection: string }, listener: (rows: Map<string, unknown>, change: RowsChange<unknown>) => void) => {
        listeners.set(q.collection, listener);
        listener(new Map(), { upserts: [], removes: [], reset: true });
        return async () => {};
      },
      submitCommand: async (c: CommandRequest) => {
        sent.push(c);
        return { commandId: c.commandId, status: 'pending', queuedAt: T, predicted: true };
      },
    } as unknown as HubApi;
  });

  it('rings for every unacknowledged alarm at start, highest rung first, and sounds as that rung says', async () => {
    signIn('dispatcher');
    const alarms = useAlarmStore();
    await alarms.start();
    push([alarm('A'), alarm('B', { rung: 2, raisedAt: '2026-11-30T08:01:00.000Z' }), alarm('C', { ackedAt: T, ackedBy: '值班员' })]);
    expect(alarms.active.map((a) => a.eventId)).toEqual(['B', 'A']);
    expect(alarms.sound).toEqual(DEFAULT_LEVEL_PROFILES.daily.alarms.chain[1]);
    expect(alarms.rungName(alarms.active[0]!)).toBe('值班长');
    push([alarm('A'), alarm('B', { ackedAt: T })]);
    expect(alarms.sound).toEqual(DEFAULT_LEVEL_PROFILES.daily.alarms.chain[0]);
    push([]);
    expect(alarms.sound).toBeNull();
  });

  it("a leader sees alarms but hears them only from the leader's rung; the level's own profile is used when stored", async () => {
    signIn('leader');
    const alarms = useAlarmStore();
    await alarms.start();
    push([alarm('A', { rung: 2 })]);
    expect(alarms.active).toHaveLength(1);
    expect(alarms.sound).toBeNull();
    push([alarm('A', { rung: 3 })]);
    expect(alarms.sound?.name).toBe('中心领导');
    const stored = { ...DEFAULT_LEVEL_PROFILES.daily, alarms: { ...DEFAULT_LEVEL_PROFILES.daily.alarms, chain: [{ name: '领导值班', roles: ['leader' as const], ackWithinMinutes: null, volume: 0.2, repeatSeconds: 10 }] } };
    listeners.get('levelProfiles')!(new Map([['daily', stored]]), { upserts: [stored], removes: [], reset: true });
    expect(alarms.sound).toMatchObject({ name: '领导值班', volume: 0.2 });
  });

  it('acknowledges by command (the first ringing one by default) and never escalates by itself', async () => {
    signIn('duty');
    const alarms = useAlarmStore();
    await alarms.start();
    push([alarm('A'), alarm('B', { rung: 2 })]);
    expect(alarms.mayAcknowledge).toBe(true);
    expect(await alarms.acknowledge()).toBe(true);
    expect(await alarms.acknowledge('alarm-A')).toBe(true);
    expect(sent.map((c) => [c.type, c.payload])).toEqual([['alarm.acknowledge', { alarmId: 'alarm-B' }], ['alarm.acknowledge', { alarmId: 'alarm-A' }]]);
    expect(sent.some((c) => c.type !== 'alarm.acknowledge')).toBe(false);
  });

  it('a viewer may not acknowledge, and hears nothing', async () => {
    signIn('viewer');
    const alarms = useAlarmStore();
    await alarms.start();
    push([alarm('A', { rung: 3 })]);
    expect(alarms.mayAcknowledge).toBe(false);
    expect(alarms.sound).toBeNull();
  });
});
