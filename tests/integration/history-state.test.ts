/**
 * The history kept for replay on the real path (backend on a SQLite file, real WebSockets, commands through the
 * pipeline, a fake wall clock): the state rebuilt for a past time T equals the live state captured at T, before
 * and after a checkpoint, seeking backwards and forwards; GET /history/state answers it scoped and audited, and
 * refuses bad input in Chinese; retention drops what is older than its days while a console behind it still
 * resumes (by a snapshot).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TEST_TOKENS, startTestBackend } from '../../harness/backend';
import { clientPool, type WireClient } from '../../harness/wire-client';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { COLLECTIONS, HistoryRange, HistoryRefusal, HistoryState, type CollectionName, type Department, type GovEvent, type Grid } from '../../protocol';
import type { CheckpointRecord } from '../../backend/store/types';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const START = Date.parse('2026-11-30T01:00:00Z');
let wall = START;
let backend: Awaited<ReturnType<typeof startTestBackend>>;
const pool = clientPool(() => backend.url);
let desk: WireClient;

/** The live state at a moment: its Maps copied (records are replaced by apply, never changed: the copy stays the state then). */
interface Captured {
  at: number;
  seq: number;
  collections: Map<CollectionName, Map<string, unknown>>;
}
const seen: Captured[] = [];
function capture(): Captured {
  const { state, clock } = backend;
  const captured = { at: clock.nowMs(), seq: state.seq, collections: new Map(COLLECTIONS.map((c) => [c, new Map(state.collections[c] as Map<string, unknown>)])) };
  seen.push(captured);
  return captured;
}
/** Records by id, comparable: a staff member's position is not history (the simulator and phones move it in place; replay takes tracks). */
function comparable(collection: CollectionName, records: Iterable<unknown>): Array<[string, unknown]> {
  return [...records]
    .map((r): [string, unknown] => {
      const { position: _p, ...rest } = r as { id: string; position?: unknown };
      return [rest.id, collection === 'staff' ? rest : r];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}
async function expectRebuilt(captured: Captured): Promise<void> {
  const rebuilt = await backend.history.reader.stateAt(captured.at);
  expect(rebuilt.state.seq).toBe(captured.seq);
  for (const c of COLLECTIONS) expect(comparable(c, rebuilt.state.collections[c].values()), `${c} at ${new Date(captured.at).toISOString()}`).toEqual(comparable(c, captured.collections.get(c)!.values()));
}
const base = (): string => backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
const get = (path: string, token: string | null = TEST_TOKENS.dispatcher): Promise<Response> => fetch(`${base()}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
async function refusal(path: string, status: number, token?: string | null): Promise<HistoryRefusal> {
  const res = await get(path, token);
  expect(res.status).toBe(status);
  return HistoryRefusal.parse(await res.json());
}

beforeAll(async () => {
  backend = await startTestBackend({ wallClock: () => wall, startAtMs: wall, kpiIntervalMs: 3_600_000, history: { pollMs: 0, keepDays: 1 } });
  desk = await pool.connect(TEST_TOKENS.dispatcher);
});
afterAll(async () => {
  pool.closeAll();
  await backend?.close();
  backend?.cleanup();
});

let firstCheckpoint: { seq: number; at: string };
let midCheckpoint: CheckpointRecord;

describe('history kept for replay', () => {
  it('rebuilds the state at T exactly as it stood live, before and after a checkpoint, seeking back and forth', async () => {
    // The first start writes a checkpoint (in the background: run() is its round); the state then is the first one captured.
    await backend.history.run();
    const range = await backend.store.checkpointRange();
    expect(range?.count).toBe(1);
    firstCheckpoint = range!.first;
    capture();
    const grids = desk.all<Grid>('grids');
    const department = desk.all<Department>('departments')[0]!;
    for (let i = 0; i < 6; i++) {
      wall += 3 * MIN;
      const grid = grids[(i * 97) % grids.length]!;
      const ack = await desk.command('event.report', { source: 'hotline', category: 'sanitation', severity: 2, title: `回放测试 ${i}`, description: '', location: grid.center });
      const eventId = ack.result.eventId as string;
      await desk.command('event.accept', { eventId });
      if (i % 2 === 0) await desk.command('event.dispatch', { eventId, departmentId: department.id });
      await backend.refreshKpis();
      capture();
      if (i === 2) midCheckpoint = await backend.history.checkpoint();
    }
    expect(midCheckpoint.seq).toBe(seen[3]!.seq);
    expect(Object.keys(midCheckpoint.manifest).sort()).toEqual([...COLLECTIONS].sort());
    // Backwards from the newest, then forwards again (rebuilt states reused for the seeks forward).
    for (const c of [...seen].reverse()) await expectRebuilt(c);
    const reused = backend.history.reader.stats.statesReused;
    for (const c of seen) await expectRebuilt(c);
    expect(backend.history.reader.stats.statesReused).toBeGreaterThan(reused);
    // Between two steps: the state of the step before.
    const between = await backend.history.reader.stateAt(seen[4]!.at + MIN);
    expect(between.state.seq).toBe(seen[4]!.seq);
  });

  it('answers GET /history/state scoped to the reader’s area and audited; bad input is refused in Chinese', async () => {
    const at = seen[5]!;
    const iso = new Date(at.at).toISOString();
    const range = HistoryRange.parse(await (await get('/history/range')).json());
    expect(range).toMatchObject({ earliest: firstCheckpoint.at, retentionDays: 1, checkpoints: 2 });
    const city = HistoryState.parse(await (await get(`/history/state?at=${encodeURIComponent(iso)}`)).json());
    expect(city).toMatchObject({ at: iso, seq: at.seq, checkpoint: { seq: midCheckpoint.seq } });
    expect(comparable('events', city.collections.events!)).toEqual(comparable('events', at.collections.get('events')!.values()));
    const scoped = HistoryState.parse(await (await get(`/history/state?at=${at.at}&collections=events,kpis`, TEST_TOKENS['dispatcher-d01'])).json());
    expect(Object.keys(scoped.collections).sort()).toEqual(['events', 'kpis']);
    const events = scoped.collections.events as GovEvent[];
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(city.collections.events!.length);
    for (const e of events) expect(e.districtId).toBe('d01');
    expect(scoped.collections.kpis).toHaveLength(3);
    expect(scoped.collections.kpis).not.toEqual(city.collections.kpis); // computed for the district, not the city's rows

    expect(await refusal(`/history/state?at=${at.at}`, 401, null)).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('需要有效的令牌') });
    expect(await refusal('/history/state?at=yesterday', 400)).toMatchObject({ code: 'bad-query', message: expect.stringContaining('查询参数有误') });
    expect(await refusal(`/history/state?at=${at.at}&collections=events,secrets`, 400)).toMatchObject({ code: 'bad-query' });
    expect(await refusal(`/history/state?at=${at.at}&extra=1`, 400)).toMatchObject({ code: 'bad-query' });
    expect(await refusal(`/history/state?at=${wall + MIN}`, 400)).toMatchObject({ code: 'future', message: expect.stringContaining('晚于当前时间') });
    expect(await refusal(`/history/state?at=${START - MIN}`, 410)).toMatchObject({ code: 'before-history', message: expect.stringContaining('早于最早的回放记录') });
    expect((await get('/history/state', TEST_TOKENS.dispatcher)).status).toBe(400);
    const audit = (backend.store as SqliteStore).auditLog(200).filter((l) => l.kind === 'history-read');
    expect(audit.map((l) => l.detail.refused ?? 200)).toEqual(expect.arrayContaining([200, 401, 400, 410]));
    expect(audit.find((l) => l.userId === 'dispatcher-d01')?.detail).toMatchObject({ what: 'state', seq: at.seq });
  });

  it('keeps its days: older checkpoints and batches go, replay starts at the kept checkpoint, a console behind it gets a snapshot', async () => {
    const before = await backend.store.historySize();
    wall += DAY + HOUR;
    const grid = desk.all<Grid>('grids')[0]!;
    await desk.command('event.report', { source: 'hotline', category: 'sanitation', severity: 2, title: '一天以后', description: '', location: grid.center });
    capture();
    await backend.history.checkpoint();
    const pruned = await backend.history.prune();
    // The first checkpoint and the batches up to the one kept (the newest a day old: the mid-run one) are gone.
    expect(pruned.checkpoints).toBe(1);
    const after = await backend.store.historySize();
    expect(after.batches).toBe(backend.state.seq - midCheckpoint.seq);
    expect(pruned.batches).toBe(before.batches + 1 - after.batches); // the report above is the one batch added since
    expect(pruned.batches).toBeGreaterThan(0);
    expect(await backend.store.checkpointRange()).toMatchObject({ first: { seq: midCheckpoint.seq }, count: 2 });
    expect(await backend.store.changesSince(midCheckpoint.seq - 1, 10)).toBeNull();
    for (const c of seen.filter((x) => x.at >= Date.parse(midCheckpoint.at))) await expectRebuilt(c);
    expect(await refusal(`/history/state?at=${seen[1]!.at}`, 410)).toMatchObject({ code: 'beyond-retention', message: expect.stringContaining('超出保留期（保留 1 天）') });
    // A console that last synced before the kept checkpoint resumes with a snapshot; one after it, by deltas.
    const stale = await pool.connect(TEST_TOKENS.dispatcher, { lastSeq: seen[1]!.seq });
    expect(stale.welcome?.sync).toBe('snapshot');
    expect(stale.seq).toBe(backend.state.seq);
    const recent = await pool.connect(TEST_TOKENS.dispatcher, { lastSeq: midCheckpoint.seq });
    expect(recent.welcome?.sync).toBe('deltas');
    expect(recent.seq).toBe(backend.state.seq);
  });

  it('says so when no history is kept at all (404)', async () => {
    const db = new Database(join(backend.dir, 'backend.sqlite'));
    try {
      db.exec('DELETE FROM checkpoints');
    } finally {
      db.close();
    }
    // Another user (the reads above spent the dispatcher's burst of the per-user read limit).
    expect(await refusal(`/history/state?at=${wall}`, 404, TEST_TOKENS.leader)).toMatchObject({ code: 'no-data', message: expect.stringContaining('该时段没有记录') });
    expect(HistoryRange.parse(await (await get('/history/range', TEST_TOKENS.leader)).json())).toMatchObject({ earliest: null, checkpoints: 0 });
  });
});
