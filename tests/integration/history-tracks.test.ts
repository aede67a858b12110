/**
 * Staff tracks for replay on the real path (backend on a SQLite file, the simulator's ticks on a fake wall clock at
 * ×1, live positions over a real WebSocket, HTTP): where GET /history/positions puts each staff member at T is
 * where the live broadcast put them at T (within the 2 m tolerance), across an hour and a write; a status change
 * is kept; GET /history/tracks answers polylines; both are scoped to the reader's area and audited, bad input is
 * refused in Chinese; retention drops the hours older than its days.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distance } from '@turf/turf';
import { TEST_TOKENS, startTestBackend } from '../../harness/backend';
import { clientPool, until, type WireClient } from '../../harness/wire-client';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { positionAt } from '../../backend/history/track-line';
import { HistoryPositions, HistoryRefusal, HistoryTracks, STAFF_STATUS_CODES, type Grid, type PositionsPayload, type Staff } from '../../protocol';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Three minutes before an hour: the run crosses it (and the duty roster changes there); ticks 0.4 s past each second. */
const START = Date.parse('2026-11-30T01:57:00.400Z');
const SECONDS = 300;
const HANDLING = STAFF_STATUS_CODES.indexOf('handling');
let wall = START;
let backend: Awaited<ReturnType<typeof startTestBackend>>;
const pool = clientPool(() => backend.url);
let desk: WireClient;
/** Every positions frame the desk was sent, by city time. */
const live = new Map<number, PositionsPayload>();
let worker: Staff;
let handlingFrom = 0;

const base = (): string => backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
const get = (path: string, token: string | null = TEST_TOKENS.dispatcher): Promise<Response> => fetch(`${base()}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
async function refusal(path: string, status: number, token: string | null = TEST_TOKENS.duty): Promise<HistoryRefusal> {
  const res = await get(path, token);
  expect(res.status, path).toBe(status);
  return HistoryRefusal.parse(await res.json());
}
const positionsAt = async (t: number, token: string = TEST_TOKENS.dispatcher): Promise<HistoryPositions> => {
  const res = await get(`/history/positions?at=${encodeURIComponent(new Date(t).toISOString())}`, token);
  expect(res.status).toBe(200);
  return HistoryPositions.parse(await res.json());
};
const tracksOf = async (query: string, token: string = TEST_TOKENS.leader): Promise<HistoryTracks> => {
  const res = await get(`/history/tracks?${query}`, token);
  expect(res.status).toBe(200);
  return HistoryTracks.parse(await res.json());
};

beforeAll(async () => {
  backend = await startTestBackend({ scale: 0.2, wallClock: () => wall, startAtMs: wall, kpiIntervalMs: 3_600_000, history: { pollMs: 0, keepDays: 1 }, tracks: { flushMs: 0 } });
  desk = await pool.connect(TEST_TOKENS.dispatcher);
  desk.onPositions = (p) => live.set(Date.parse(p.at), p);
});
afterAll(async () => {
  pool.closeAll();
  await backend?.close();
  backend?.cleanup();
});

describe('staff tracks kept for replay', () => {
  it('puts every staff member at T where the live broadcast put them, across an hour and a write; a status change is kept', async () => {
    for (let s = 1; s <= SECONDS; s++) {
      wall = START + s * 1000;
      await backend.tick();
      if (s === 30) {
        // A task for someone on patrol: they are handling it from the next tick.
        await until(() => live.has(wall), 'the positions of second 30');
        const [id] = live.get(wall)!.items.find(([, , , code]) => code === STAFF_STATUS_CODES.indexOf('patrolling'))!;
        worker = desk.all<Staff>('staff').find((x) => x.id === id)!;
        const grid = desk.all<Grid>('grids').find((g) => g.id === worker.gridId)!;
        const ack = await desk.command('event.report', { source: 'hotline', category: 'sanitation', severity: 2, title: '轨迹测试', description: '', location: grid.center });
        await desk.command('event.dispatch', { eventId: ack.result.eventId as string, staffId: id });
      }
      if (s === 150) expect(await backend.tracks.flush()).toBeGreaterThan(0);
    }
    await until(() => live.has(wall), 'the last positions');
    handlingFrom = [...live.keys()].sort((a, b) => a - b).find((t) => live.get(t)!.items.some(([id, , , code]) => id === worker.id && code === HANDLING))!;
    expect(handlingFrom).toBeGreaterThan(START + 30_000);

    // The last two minutes are only held (not written), the rest written; both read alike.
    const seconds = [1, 5, 29, 31, (handlingFrom - START) / 1000, 64, 121, 179, 180, 181, 247, SECONDS - 1];
    let compared = 0;
    for (const s of seconds) {
      const t = START + s * 1000;
      const broadcast = live.get(t)!;
      const recorded = await positionsAt(t);
      expect(recorded.at).toBe(broadcast.at);
      const byId = new Map(recorded.items.map((i) => [i[0], i]));
      expect([...byId.keys()].sort(), `staff at second ${s}`).toEqual(broadcast.items.map((i) => i[0]).sort());
      for (const [id, lon, lat, code] of broadcast.items) {
        const [, rlon, rlat, rcode] = byId.get(id)!;
        expect(rcode, `${id} at second ${s}`).toBe(code);
        expect(distance([lon, lat], [rlon, rlat], { units: 'meters' }), `${id} at second ${s}`).toBeLessThanOrEqual(2);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(seconds.length * 50);
    // Every second of the run, read as the route reads (the recorder's rows and what it holds, placed at T).
    const { tracks: all } = await backend.tracks.read(Math.floor(START / HOUR), Math.floor(wall / HOUR));
    let worst = 0;
    for (const [t, broadcast] of live) {
      for (const [id, lon, lat, code] of broadcast.items) {
        const p = positionAt(all.get(id) ?? [], t);
        expect(p?.code, `${id} at ${t}`).toBe(code);
        worst = Math.max(worst, distance([lon, lat], [p!.lon, p!.lat], { units: 'meters' }));
      }
    }
    expect(live.size).toBe(SECONDS);
    expect(worst).toBeLessThanOrEqual(2);
    // The status change is a point of its own, at its time.
    const { tracks } = await tracksOf(`from=${START}&to=${wall}&staff=${worker.id}`, TEST_TOKENS.dispatcher);
    expect(tracks.map((t) => t.staffId)).toEqual([worker.id]);
    const change = tracks[0]!.points.findIndex(([, , , code]) => code === HANDLING);
    expect(tracks[0]!.points[change]![0]).toBe(handlingFrom);
    expect(tracks[0]!.points[change - 1]![3]).toBe(STAFF_STATUS_CODES.indexOf('patrolling'));
    // Simplified: far fewer points than the 30 a staff member's 5 minutes at 10 s would be, none lost from the picture.
    expect(tracks[0]!.points.length).toBeLessThan(SECONDS / 10);
  });

  it('answers polylines and positions scoped to the reader’s area, audited; bad input is refused in Chinese', async () => {
    const all = await tracksOf(`from=${new Date(START).toISOString()}&to=${new Date(wall).toISOString()}`);
    const everyone = new Set([...live.values()].flatMap((p) => p.items.map((i) => i[0])));
    expect(new Set(all.tracks.map((t) => t.staffId))).toEqual(everyone);
    for (const t of all.tracks) for (let i = 1; i < t.points.length; i++) expect(t.points[i]![0]).toBeGreaterThanOrEqual(t.points[i - 1]![0]);
    // Simplified: a few points a staff member over the five minutes, not one a second.
    expect(all.tracks.reduce((n, t) => n + t.points.length, 0)).toBeLessThan(all.tracks.length * 20);

    const districtOf = new Map(desk.all<Staff>('staff').map((s) => [s.id, s.districtId]));
    const scoped = await tracksOf(`from=${START}&to=${wall}`, TEST_TOKENS['dispatcher-d01']);
    expect(scoped.tracks.length).toBeGreaterThan(0);
    expect(scoped.tracks.length).toBeLessThan(all.tracks.length);
    for (const t of scoped.tracks) expect(districtOf.get(t.staffId)).toBe('d01');
    const here = await positionsAt(START + 100_000, TEST_TOKENS['dispatcher-d01']);
    expect(here.items.length).toBeGreaterThan(0);
    expect(here.items.length).toBeLessThan(live.get(START + 100_000)!.items.length);
    for (const [id] of here.items) expect(districtOf.get(id)).toBe('d01');

    expect(await refusal(`/history/positions?at=${START}`, 401, null)).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('需要有效的令牌') });
    expect(await refusal('/history/positions?at=yesterday', 400)).toMatchObject({ code: 'bad-query', message: expect.stringContaining('查询参数有误') });
    expect(await refusal(`/history/positions?at=${START}&staff=x`, 400)).toMatchObject({ code: 'bad-query' });
    expect(await refusal(`/history/tracks?from=${START}`, 400)).toMatchObject({ code: 'bad-query', message: expect.stringContaining('需要 from 与 to') });
    expect(await refusal(`/history/tracks?from=${wall}&to=${START}`, 400)).toMatchObject({ code: 'bad-query' });
    expect(await refusal(`/history/tracks?from=${START}&to=${wall}&staff=${Array.from({ length: 501 }, (_, i) => `S${i}`).join(',')}`, 400)).toMatchObject({ code: 'bad-query' });
    expect(await refusal(`/history/positions?at=${wall + MIN}`, 400)).toMatchObject({ code: 'future', message: expect.stringContaining('晚于当前时间') });
    expect(await refusal(`/history/tracks?from=${wall - DAY - MIN}&to=${wall}`, 400)).toMatchObject({ code: 'range-too-long', message: expect.stringContaining('最多查询 24 小时') });
    expect(await refusal(`/history/positions?at=${START - HOUR}`, 404)).toMatchObject({ code: 'no-data', message: expect.stringContaining('该时段没有轨迹记录') });
    expect((await get('/history/tracks', TEST_TOKENS.viewer)).status).toBe(400);
    const audit = (backend.store as SqliteStore).auditLog(300).filter((l) => l.kind === 'history-read' && ['positions', 'tracks'].includes(l.detail.what as string));
    expect(audit.map((l) => l.detail.refused ?? 200)).toEqual(expect.arrayContaining([200, 401, 400, 404]));
    expect(audit.find((l) => l.userId === 'dispatcher-d01' && l.detail.what === 'tracks')?.detail).toMatchObject({ staff: scoped.tracks.length });
  });

  it('keeps its days: hours older than the retention are pruned, and asking for them is refused', async () => {
    await backend.tracks.flush();
    const before = await backend.store.tracksIn(0, 1e9);
    expect(new Set(before.map((r) => r.hour)).size).toBe(2); // 01:00 and 02:00
    // A day and two hours on: both hours of the run are wholly older than the retention (a day).
    wall += DAY + 2 * HOUR;
    await backend.tick();
    await backend.tracks.flush();
    const pruned = await backend.tracks.prune();
    expect(pruned).toBe(before.length);
    const after = await backend.store.tracksIn(0, 1e9);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.hour === Math.floor(wall / HOUR))).toBe(true);
    expect(await refusal(`/history/positions?at=${START + 100_000}`, 410, TEST_TOKENS['duty-2'])).toMatchObject({ code: 'beyond-retention', message: expect.stringContaining('超出保留期（保留 1 天）') });
    expect((await positionsAt(wall, TEST_TOKENS['duty-2'])).items.length).toBeGreaterThan(0);
  });
});
