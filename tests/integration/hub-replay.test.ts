/**
 * The hub's replay (复盘回放) on the real path: a backend on a SQLite file whose city runs on a fake wall clock at
 * ×1 (one tick a city second), a hub linked over a real WebSocket, its history read over HTTP. An incident is
 * scripted live (report → dispatch to a staff member → handled by them → follow-up → close, with commands), the
 * live state captured every second; then, over the Hub API of a window: the rows at T show the event as it stood
 * (new, then dispatched to that staff member), the positions at T are those of GET /history/positions, seeks go
 * back and forth, playing forward crosses a status change, commands are refused, a bad seek leaves its Chinese
 * message on the topic and the replay usable, and stopping sends the live rows again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKENS, startTestBackend } from '../../harness/backend';
import { clientPool, until, type WireClient } from '../../harness/wire-client';
import { makeTempDir, waitFor } from '../../harness/temp';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { Hub, type HubSession } from '../../hub';
import { HistoryPositions, HistoryBatches, HistoryChanges, HistoryRefusal, STAFF_STATUS_CODES, type GovEvent, type PositionsPayload, type Grid, type HubReply, type ReplayState, type Staff, type SubscriptionUpdate } from '../../protocol';

const START = Date.parse('2026-11-30T01:00:00.000Z');
const SECONDS = 420;
let wall = START;
let backend: Awaited<ReturnType<typeof startTestBackend>>;
const pool = clientPool(() => backend.url);
let desk: WireClient;
let hub: Hub;
const temp = makeTempDir('zongzhi-hub-replay-');
let eventId = '';
let worker = '';
let heard: PositionsPayload | null = null;
/** The event as it stood live after each second's tick (status, assigned staff member). */
const live = new Map<number, { status: string; staffId: string | null }>();
const at = (s: number): string => new Date(START + s * 1000).toISOString();

/** A window: its rows per subscription, as the renderer's client keeps them (pages joined, patches applied). */
class Window {
  readonly rows = new Map<string, Map<string, Record<string, unknown>>>();
  readonly resets = new Map<string, number>();
  readonly patches: Array<{ at: number; subscriptionId: string }> = [];
  replay: ReplayState | null = null;
  private readonly pages = new Map<string, unknown[]>();
  readonly session: HubSession;
  constructor() {
    this.session = hub.openSession({ bridge: 'websocket', displayRole: 'dispatch', label: 'replay-test' }, (u) => this.take(u));
  }
  private take(u: SubscriptionUpdate): void {
    if (u.kind === 'error') throw new Error(u.error.message);
    if (u.topic === 'replay' && u.kind === 'snapshot') return void (this.replay = u.data as ReplayState);
    const held = this.rows.get(u.subscriptionId) ?? new Map<string, Record<string, unknown>>();
    this.rows.set(u.subscriptionId, held);
    if (u.kind === 'snapshot') {
      const data = [...(this.pages.get(u.subscriptionId) ?? []), ...(u.data as unknown[])];
      if (u.more) return void this.pages.set(u.subscriptionId, data);
      this.pages.delete(u.subscriptionId);
      held.clear();
      for (const row of data as Array<Record<string, unknown>>) held.set(row.id as string, row);
      this.resets.set(u.subscriptionId, (this.resets.get(u.subscriptionId) ?? 0) + 1);
    } else {
      for (const id of u.removes) held.delete(id);
      for (const row of u.upserts) held.set(row.id as string, row);
      this.patches.push({ at: Date.now(), subscriptionId: u.subscriptionId });
    }
  }
  async call<T = unknown>(method: string, params: unknown = {}): Promise<T> {
    const reply: HubReply = await this.session.handle(method, params);
    if (!reply.ok) throw Object.assign(new Error(reply.error.message), reply.error);
    return reply.result as T;
  }
  async subscribe(query: unknown): Promise<string> {
    return (await this.call<{ subscriptionId: string }>('subscribe', { query })).subscriptionId;
  }
}

const base = (): string => backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
const get = (path: string, token: string | null = TEST_TOKENS.dispatcher): Promise<Response> => fetch(`${base()}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

beforeAll(async () => {
  backend = await startTestBackend({ scale: 0.2, wallClock: () => wall, startAtMs: wall, kpiIntervalMs: 3_600_000, history: { pollMs: 0, keepDays: 1 }, tracks: { flushMs: 0 } });
  await backend.history.run();
  desk = await pool.connect(TEST_TOKENS.dispatcher);
  desk.onPositions = (p) => (heard = p);
  hub = new Hub({ dataDir: temp.dir, version: 'test', backend: { url: backend.url, token: TEST_TOKENS.dispatcher }, flushIntervalMs: 20 });
  await waitFor(() => hub.connection.value.status === 'online', 'the hub online', 30_000);
});
afterAll(async () => {
  hub?.close();
  pool.closeAll();
  await backend?.close();
  backend?.cleanup();
  temp.cleanup();
});

describe('the hub replays the city', () => {
  it('scripts an incident live: report, dispatch to a staff member, handled, followed up, closed', async () => {
    for (let s = 1; s <= SECONDS; s++) {
      wall = START + s * 1000;
      await backend.tick();
      if (s === 20) {
        // Someone on patrol now (in the positions just broadcast): they take the task from the next tick.
        await until(() => heard?.at === new Date(wall).toISOString(), 'the positions of second 20');
        const [id] = heard!.items.find(([, , , code]) => code === STAFF_STATUS_CODES.indexOf('patrolling'))!;
        const patrolling = desk.all<Staff>('staff').find((x) => x.id === id)!;
        worker = patrolling.id;
        const grid = desk.all<Grid>('grids').find((g) => g.id === patrolling.gridId)!;
        eventId = (await desk.command('event.report', { source: 'hotline', category: 'sanitation', severity: 2, title: '回放测试', description: '', location: grid.center })).result.eventId as string;
      }
      if (s === 60) await desk.command('event.dispatch', { eventId, staffId: worker });
      if (s === 150) await backend.history.checkpoint();
      const event = backend.state.get('events', eventId);
      // The steps after the dispatch, a minute apart (the staff member's phone may take one itself first).
      const steps: Partial<Record<string, string>> = { dispatched: 'event.sign', handling: 'event.feedback', handled: 'event.followup', 'followed-up': 'event.close' };
      const next = s >= 100 && s % 60 === 40 ? steps[event?.status ?? ''] : undefined;
      if (next) await desk.command(next, { eventId, note: '处置完毕', reached: true, satisfaction: 'satisfied', comment: '' }).catch((e: unknown) => console.log(next, e));
      const now = backend.state.get('events', eventId);
      if (now) live.set(s, { status: now.status, staffId: now.assignee?.staffId ?? null });
    }
    const statuses = [...new Set([...live.values()].map((v) => v.status))];
    expect(statuses).toEqual(['new', 'dispatched', 'handling', 'handled', 'followed-up', 'closed']);
    await until(() => desk.seq === backend.state.seq, 'the desk caught up');
    await waitFor(() => hub.cache.lastSeq === backend.state.seq, 'the hub caught up', 30_000);
  });

  it('shows each window the rows and positions at T, seeking back and forth and playing forward', async () => {
    const w = new Window();
    await w.subscribe({ topic: 'replay' });
    const events = await w.subscribe({ topic: 'collection', collection: 'events', filter: { ids: [eventId] } });
    const positions = await w.subscribe({ topic: 'positions' });
    const outbox = await w.subscribe({ topic: 'outbox' });
    await waitFor(() => w.rows.get(events)?.get(eventId)?.status === live.get(SECONDS)!.status, 'the live event');
    expect(w.replay).toMatchObject({ active: false });
    const outboxResets = w.resets.get(outbox);

    const rowAt = async (s: number): Promise<Record<string, unknown>> => {
      await waitFor(() => w.replay?.at === at(s) && (w.rows.get(events)?.get(eventId)?.status as string | undefined) === live.get(s)!.status, `the event at second ${s}`);
      return w.rows.get(events)!.get(eventId)!;
    };
    const started = await w.call<ReplayState>('replayStart', { from: at(10), to: at(SECONDS) });
    expect(started).toMatchObject({ active: true, at: at(10), playing: false, speed: 1, error: null });
    expect(started.marks.filter((m) => m.eventId === eventId).map((m) => m.action)).toEqual(expect.arrayContaining(['report', 'accept', 'dispatch']));
    expect(started.marks.find((m) => m.eventId === eventId)).toMatchObject({ action: 'report', at: at(20), title: '回放测试' });
    // Before the report: the event did not exist.
    await waitFor(() => w.replay?.at === at(10) && w.rows.get(events)?.size === 0, 'no event at second 10');

    // T1: new. T2: dispatched to the worker. Back to T1, forward past both.
    expect((await w.call<ReplayState>('replaySeek', { at: at(40) })).error).toBeNull();
    expect(await rowAt(40)).toMatchObject({ status: 'new' });
    const dispatchedAt = [...live].find(([, v]) => v.status === 'dispatched')![0];
    await w.call('replaySeek', { at: at(dispatchedAt) });
    expect(await rowAt(dispatchedAt)).toMatchObject({ status: 'dispatched', assignee: { staffId: worker } });
    await w.call('replaySeek', { at: at(40) });
    expect(await rowAt(40)).toMatchObject({ status: 'new' });
    const handlingAt = [...live].find(([, v]) => v.status === 'handling')![0];
    await w.call('replaySeek', { at: at(handlingAt + 5) });
    expect(await rowAt(handlingAt + 5)).toMatchObject({ status: 'handling' });

    // The positions at T are the tracks' at T.
    await w.call('replaySeek', { at: at(90) });
    const expected = HistoryPositions.parse(await (await get(`/history/positions?at=${encodeURIComponent(at(90))}`)).json());
    expect(expected.items.length).toBeGreaterThan(10);
    const heldAt90 = (): boolean => w.rows.get(positions)?.size === expected.items.length && [...w.rows.get(positions)!.values()].every((r) => r.t === START + 90_000);
    await waitFor(heldAt90, 'the positions at second 90');
    for (const [id, lon, lat, code] of expected.items) expect(w.rows.get(positions)!.get(id), id).toMatchObject({ p: [lon, lat], s: code, t: START + 90_000 });

    // Commands, calls, wall requests and views are refused while replaying; the outbox stays live.
    const refused = await w.session.handle('submitCommand', { commandId: 'cmd-replay-0001', type: 'event.comment', payload: { eventId, note: 'x' } });
    expect(refused).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('回放中不能发送指令') } });
    expect(await w.session.handle('recordView', { what: 'event', id: eventId })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(await w.session.handle('showOnWall', { wall: 'map', kind: 'event', id: eventId })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(w.resets.get(outbox)).toBe(outboxResets);
    // A demo screen follows the replay but does not drive it.
    const demo = hub.openSession({ bridge: 'websocket', displayRole: 'dispatch', label: 'demo', demo: true }, () => {});
    expect(await demo.handle('replaySeek', { at: at(30) })).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('演示屏不能操作回放') } });
    demo.close();

    // A bad seek (the future, before the history) leaves its message on the topic, T where it was.
    const future = await w.call<ReplayState>('replaySeek', { at: new Date(wall + 3_600_000).toISOString() });
    expect(future).toMatchObject({ active: true, at: at(90), error: { code: 'future', message: expect.stringContaining('晚于当前时间') } });
    const before = await w.call<ReplayState>('replaySeek', { at: new Date(START - 3_600_000).toISOString() });
    expect(before).toMatchObject({ at: at(90), error: { code: 'before-history', message: expect.stringContaining('早于最早的回放记录') } });
    expect(w.replay?.error?.code).toBe('before-history');

    // Playing forward at 60× from just before the handling begins: T crosses the change, the row follows.
    await w.call('replaySeek', { at: at(handlingAt - 30) });
    expect((await w.call<ReplayState>('replayPlay', { speed: 60 })).error).toBeNull();
    await waitFor(() => w.replay !== null && Date.parse(w.replay.at!) > START + (handlingAt + 30) * 1000, 'playing past the handling', 20_000);
    const paused = await w.call<ReplayState>('replayPlay', { speed: 0 });
    expect(paused.playing).toBe(false);
    const s = Math.floor((Date.parse(paused.at!) - START) / 1000);
    expect(live.get(s)!.status).not.toBe('dispatched');
    await waitFor(() => w.rows.get(events)?.get(eventId)?.status === live.get(s)!.status, `the event as it stood at second ${s}`);
    expect(w.patches.some((p) => p.subscriptionId === events)).toBe(true);

    // Back to live: the live rows again, and commands go through.
    const stopped = await w.call<ReplayState>('replayStop');
    expect(stopped).toMatchObject({ active: false });
    await waitFor(() => w.rows.get(events)?.get(eventId)?.status === live.get(SECONDS)!.status, 'the live event again');
    await waitFor(() => (w.rows.get(positions)?.size ?? 0) > 0, 'live positions again');
    expect(await w.session.handle('recordView', { what: 'event', id: eventId })).toMatchObject({ ok: true });
    w.session.close();
  });

  it('starts on an event with its margin; a replay of no event, or no replay, is refused', async () => {
    const w = new Window();
    const closed = backend.state.get('events', eventId) as GovEvent;
    const state = await w.call<ReplayState>('replayStart', { eventId, marginMin: 0 });
    expect(state).toMatchObject({ active: true, eventId, from: closed.reportedAt, at: closed.reportedAt });
    if (closed.closedAt) expect(state.to).toBe(closed.closedAt);
    expect(state.marks.every((m) => m.eventId === eventId)).toBe(true);
    expect(state.marks[0]).toMatchObject({ action: 'report', title: '回放测试' });
    await w.call('replayStop');
    expect(await w.session.handle('replayStart', { eventId: 'no-such-event' })).toMatchObject({ ok: false, error: { code: 'not-found', message: expect.stringContaining('没有这个事件') } });
    expect(await w.session.handle('replaySeek', { at: at(30) })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(await w.session.handle('replayPlay', { speed: 61 })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await w.session.handle('replayStart', { from: at(30), to: at(20) })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    const tracks = await w.call<{ tracks: Array<{ staffId: string }> }>('replayTracks', { from: at(60), to: at(120), staffIds: [worker] });
    expect(tracks.tracks.map((t) => t.staffId)).toEqual([worker]);
    w.session.close();
  });

  it('gives the 复盘 report the event\'s calls from the backend, masked for a demo screen', async () => {
    const cityAt = at(SECONDS - 30);
    const started = new Date(Date.now() - 90_000).toISOString();
    const ended = new Date(Date.now() - 30_000).toISOString();
    await desk.command('call.log', {
      id: 'call-review-1', direction: 'outgoing', peer: 'sip-worker', peerName: '李四光', video: true, startedAt: started, answeredAt: started, endedAt: ended,
      durationS: 60, result: 'answered', cause: '', eventId, groupId: null, userId: 'sip-console', cityAt,
    }, 'call-log-review-1');
    const w = new Window();
    const answer = await w.call<{ calls: Array<{ id: string; at: string; peerName: string; durationS: number }>; truncated: boolean }>('eventCalls', { eventId, from: at(0), to: at(SECONDS + 60) });
    expect(answer.calls).toEqual([expect.objectContaining({ id: 'call-review-1', at: cityAt, peerName: '李四光', durationS: 60 })]);
    expect((await w.call<{ calls: unknown[] }>('eventCalls', { eventId: 'no-such-event', from: at(0), to: at(SECONDS + 60) })).calls).toEqual([]);
    expect(await w.session.handle('eventCalls', { eventId, from: at(60), to: at(0) })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    const demo = hub.openSession({ bridge: 'websocket', displayRole: 'dispatch', label: 'demo', demo: true }, () => {});
    const masked = await demo.handle('eventCalls', { eventId, from: at(0), to: at(SECONDS + 60) });
    expect(masked).toMatchObject({ ok: true, result: { calls: [{ id: 'call-review-1', peerName: '李**' }] } });
    w.session.close();
    demo.close();
  });

  it('answers the replay routes scoped, and refuses bad input in Chinese', async () => {
    const forward = HistoryChanges.parse(await (await get(`/history/changes?fromSeq=0&at=${encodeURIComponent(at(90))}`)).json());
    // From seq 0 the log runs back to the first batch: a delta, or the whole state when it was pruned.
    expect(forward.seq).toBeGreaterThan(0);
    const back = HistoryChanges.parse(await (await get(`/history/changes?fromSeq=${backend.state.seq}&at=${encodeURIComponent(at(40))}`)).json());
    expect(back.reset).toBeUndefined();
    expect(back.changes.find((c) => c.collection === 'events' && c.id === eventId)).toMatchObject({ op: 'upsert', data: { status: 'new' } });
    const early = HistoryChanges.parse(await (await get(`/history/changes?fromSeq=${backend.state.seq}&at=${encodeURIComponent(at(5))}`)).json());
    expect(early.changes.find((c) => c.collection === 'events' && c.id === eventId)).toEqual({ op: 'remove', collection: 'events', id: eventId });
    // A seq the log does not run on from: the whole state at T, to be swapped in.
    const whole = HistoryChanges.parse(await (await get(`/history/changes?fromSeq=999999999&at=${encodeURIComponent(at(40))}`)).json());
    expect(whole.reset).toBe(true);
    expect(whole.changes.every((c) => c.op === 'upsert')).toBe(true);
    expect(whole.changes.filter((c) => c.collection === 'staff')).toHaveLength(backend.state.collections.staff.size);
    expect(whole.changes.find((c) => c.collection === 'events' && c.id === eventId)).toMatchObject({ data: { status: 'new' } });
    const batches = HistoryBatches.parse(await (await get(`/history/batches?after=${back.seq}&until=${encodeURIComponent(at(90))}&limit=50`)).json());
    expect(batches.batches.length).toBeGreaterThan(0);
    expect(batches.batches.every((b) => b.seq > back.seq && b.at <= at(90))).toBe(true);
    // Scoped to the reader's area as the live sync is: a district dispatcher reads their district's records only.
    const scoped = HistoryChanges.parse(await (await get(`/history/changes?fromSeq=0&at=${encodeURIComponent(at(90))}`, TEST_TOKENS['dispatcher-d01'])).json());
    const scopedUpserts = scoped.changes.filter((c) => c.op === 'upsert' && ['staff', 'events', 'timeline'].includes(c.collection));
    for (const c of scopedUpserts) expect((c as { data: { districtId: string } }).data.districtId, `${c.collection} ${c.id}`).toBe('d01');
    expect(scopedUpserts.length).toBeGreaterThan(0);
    expect(scopedUpserts.length).toBeLessThan(forward.changes.filter((c) => c.op === 'upsert' && ['staff', 'events', 'timeline'].includes(c.collection)).length);
    const scopedBatches = HistoryBatches.parse(await (await get(`/history/batches?after=${back.seq}&until=${encodeURIComponent(at(SECONDS))}`, TEST_TOKENS['dispatcher-d01'])).json());
    for (const b of scopedBatches.batches) for (const c of b.changes) if (c.op === 'upsert' && ['staff', 'events', 'timeline'].includes(c.collection)) expect((c.data as { districtId: string }).districtId).toBe('d01');
    const refusal = async (path: string, status: number, token: string | null = TEST_TOKENS.dispatcher): Promise<HistoryRefusal> => {
      const res = await get(path, token);
      expect(res.status, path).toBe(status);
      return HistoryRefusal.parse(await res.json());
    };
    expect(await refusal(`/history/changes?fromSeq=0&at=${START}`, 401, null)).toMatchObject({ code: 'unauthorized' });
    expect(await refusal('/history/changes?fromSeq=x&at=1', 400)).toMatchObject({ code: 'bad-query', message: expect.stringContaining('查询参数有误') });
    expect(await refusal(`/history/changes?fromSeq=0&at=${wall + 60_000}`, 400)).toMatchObject({ code: 'future' });
    expect(await refusal(`/history/changes?fromSeq=0&at=${START - 60_000}`, 410)).toMatchObject({ code: 'before-history' });
    expect(await refusal(`/history/batches?after=0&until=${wall}&limit=99999`, 400)).toMatchObject({ code: 'bad-query' });
    // Every read audited, refused ones too.
    const audit = (backend.store as SqliteStore).auditLog(500).filter((l) => l.kind === 'history-read' && ['changes', 'batches'].includes(l.detail.what as string));
    expect(audit.map((l) => l.detail.refused ?? 200)).toEqual(expect.arrayContaining([200, 401, 400, 410]));
    expect(audit.find((l) => l.userId === 'dispatcher-d01' && l.detail.what === 'changes')?.detail).toMatchObject({ changes: scoped.changes.length });
  });
});
