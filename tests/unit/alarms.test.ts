/**
 * The alarm store with a fake Hub API: serious new events and events turning overdue raise alarms, the
 * picture at start does not, acknowledging clears, and an alarm left alone escalates to supervision once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { CommandRequest, HubApi, RowsChange, ViewRow } from '../../protocol';
import { useHubStore } from '../../renderer/src/stores/hub';
import { ESCALATE_AFTER_MS, useAlarmStore } from '../../renderer/src/stores/alarms';

type Row = ViewRow<'events'>;
const event = (id: string, extra: Partial<Row> = {}): Row =>
  ({ id, title: `事件 ${id}`, severity: 1, stepDeadline: new Date(Date.now() + 3_600_000).toISOString(), status: 'new', ...extra }) as Row;

describe('alarms', () => {
  let push: (rows: Map<string, Row>, change: RowsChange<Row>) => void = () => {};
  const sent: CommandRequest[] = [];

  beforeEach(() => {
    vi.useFakeTimers();
    setActivePinia(createPinia());
    const hub = useHubStore();
    hub.api = {
      subscribeRows: async (_q: unknown, listener: typeof push) => {
        push = listener;
        return async () => {};
      },
      submitCommand: async (c: CommandRequest) => {
        sent.push(c);
        return { commandId: c.commandId, status: 'pending', queuedAt: new Date().toISOString(), predicted: true };
      },
    } as unknown as HubApi;
    sent.length = 0;
  });
  afterEach(() => vi.useRealTimers());

  it('rings for serious new events and newly overdue ones, not for the picture at start', async () => {
    const alarms = useAlarmStore();
    await alarms.start();
    const rows = new Map([['a', event('a', { severity: 4 })], ['b', event('b', { stepDeadline: new Date(Date.now() - 1000).toISOString() })]]);
    push(rows, { upserts: [...rows.values()], removes: [], reset: true });
    expect(alarms.active).toEqual([]);
    rows.set('c', event('c', { severity: 3 }));
    rows.set('d', event('d', { severity: 1 }));
    rows.set('e', event('e', { severity: 4, pending: true })); // my own guess: not news
    push(rows, { upserts: [rows.get('c')!, rows.get('d')!, rows.get('e')!], removes: [], reset: false });
    expect(alarms.active.map((a) => `${a.kind}:${a.eventId}`)).toEqual(['severe:c']);
    rows.set('d', event('d', { stepDeadline: new Date(Date.now() + 500).toISOString() }));
    vi.advanceTimersByTime(2000);
    expect(alarms.active.map((a) => `${a.kind}:${a.eventId}`)).toEqual(['severe:c', 'overdue:d']);
    alarms.acknowledge();
    expect(alarms.active.map((a) => a.eventId)).toEqual(['d']);
    await alarms.dispose();
  });

  it('a fresh whole result is a new baseline (no storm when the hub swaps in a snapshot)', async () => {
    const alarms = useAlarmStore();
    await alarms.start();
    push(new Map(), { upserts: [], removes: [], reset: true });
    const rows = new Map(Array.from({ length: 50 }, (_, i) => [`x${i}`, event(`x${i}`, { severity: 4 })] as const));
    push(rows, { upserts: [...rows.values()], removes: [], reset: true });
    expect(alarms.active).toEqual([]);
    await alarms.dispose();
  });

  it('an alarm nobody acknowledges escalates once, as supervision of the event', async () => {
    const alarms = useAlarmStore();
    await alarms.start();
    const rows = new Map<string, Row>();
    push(rows, { upserts: [], removes: [], reset: true });
    rows.set('f', event('f', { severity: 4 }));
    push(rows, { upserts: [rows.get('f')!], removes: [], reset: false });
    vi.advanceTimersByTime(ESCALATE_AFTER_MS - 2000);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(4000);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'event.supervise', payload: { eventId: 'f' } });
    expect(alarms.active[0]!.escalated).toBe(true);
    vi.advanceTimersByTime(ESCALATE_AFTER_MS);
    expect(sent).toHaveLength(1);
    await alarms.dispose();
  });

  it('drops alarms whose event is closed, so an unattended wall does not collect them forever', async () => {
    const alarms = useAlarmStore();
    await alarms.start();
    const rows = new Map<string, Row>();
    push(rows, { upserts: [], removes: [], reset: true });
    for (let i = 0; i < 500; i++) {
      rows.set(`s${i}`, event(`s${i}`, { severity: 4 }));
      push(rows, { upserts: [rows.get(`s${i}`)!], removes: [], reset: false });
      if (i >= 10) rows.delete(`s${i - 10}`); // closed ten events later
    }
    push(rows, { upserts: [], removes: ['s489'], reset: false });
    expect(alarms.active.length).toBeLessThanOrEqual(11);
    expect(alarms.active.every((a) => rows.has(a.eventId))).toBe(true);
    await alarms.dispose();
  });
});
