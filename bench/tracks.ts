/**
 * Staff tracks bench (复盘回放, backend/history/tracks.ts): the city at scale 1 simulated at ×1 on a fake wall
 * clock (tick() once a city second) for BENCH_MINUTES, the backend's own recorder on the relay's broadcast, and
 * beside it recorders fed the same positions with other settings (each on a store of its own). Prints, for each:
 * bytes and points kept per on-duty staff-hour, the time spent recording, and how far the position read back at
 * each broadcast second lies from the broadcast one (p50/p99/max over a sample of staff); then the time to answer
 * positions at T from the store.
 * Run: npm run bench -- tracks   (BENCH_MINUTES default 60, BENCH_SCALE default 1)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distance } from '@turf/turf';
import { startBackend } from '../backend/index';
import { SqliteStore } from '../backend/store/sqlite-store';
import { TrackRecorder } from '../backend/history/tracks';
import { hourOf } from '../backend/history/track-codec';
import { positionAt } from '../backend/history/track-line';
import { silentLogger } from '../node-util/logger';
import type { StaffStatus } from '../protocol';
import type { BackendStore } from '../backend/store/types';

const minutes = Number(process.env.BENCH_MINUTES ?? 60);
const scale = Number(process.env.BENCH_SCALE ?? 1);
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-tracks-'));
// 09:30 Beijing time: most staff on duty; ticks 0.437 s past each second, as a live backend's fall anywhere.
let wall = Date.parse('2026-11-30T01:30:00.437Z');
const start = wall;
const backend = await startBackend({ dbFile: join(dir, 'backend.sqlite'), simulate: false, historyDays: 0, scale, wallClock: () => wall, startAtMs: wall, tokens: { dispatcher: 'bench-token' }, tokensFile: null, kpiIntervalMs: 3_600_000, alarms: false, history: { pollMs: 0 }, tracks: { flushMs: 0 } });
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const timed = (r: TrackRecorder): { ms: number } => {
  const spent = { ms: 0 };
  const saw = r.saw.bind(r);
  // CPU time (not wall: the build machine is shared), microseconds.
  r.saw = (at, items) => {
    const t0 = process.cpuUsage();
    saw(at, items);
    const d = process.cpuUsage(t0);
    spent.ms += (d.user + d.system) / 1000;
  };
  return spent;
};
try {
  const { state, clock } = backend;
  const others = [
    { name: 'every 10 s, kept raw (tolerance 0)', options: { sampleS: 10, toleranceM: 0 } },
    { name: 'every 10 s, tolerance 2 m', options: { sampleS: 10, toleranceM: 2 } },
  ].map((o, i) => {
    const store = new SqliteStore(join(dir, `other-${i}.sqlite`));
    const recorder = new TrackRecorder({ store, state, clock, log: silentLogger, keepDays: 30, leading: () => true, flushMs: 0, ...o.options });
    return { ...o, store, recorder, spent: timed(recorder) };
  });
  const own = { name: `the backend's (every position, tolerance ${backend.tracks.toleranceM} m)`, store: backend.store as BackendStore, recorder: backend.tracks, spent: timed(backend.tracks) };
  const all = [own, ...others];
  /** What was broadcast, for a sample of staff: [t, lon, lat] by id. */
  const sampleIds = new Set([...state.collections.staff.keys()].filter((_, i) => i % 10 === 0));
  const seen = new Map<string, Array<[number, number, number]>>();
  let onDutySeconds = 0;
  const t1 = performance.now();
  for (let s = 1; s <= minutes * 60; s++) {
    wall += 1000;
    await backend.tick();
    const at = new Date(clock.nowMs()).toISOString();
    const items: Array<{ id: string; lon: number; lat: number; status: StaffStatus }> = [];
    for (const x of state.collections.staff.values()) {
      if (x.status === 'offline' || !x.position) continue;
      items.push({ id: x.id, lon: x.position[0], lat: x.position[1], status: x.status });
      if (sampleIds.has(x.id)) (seen.get(x.id) ?? seen.set(x.id, []).get(x.id)!).push([clock.nowMs(), x.position[0], x.position[1]]);
    }
    onDutySeconds += items.length;
    for (const o of others) o.recorder.saw(at, items);
    if (s % 60 === 0) for (const r of all) await r.recorder.flush();
  }
  for (const r of all) await r.recorder.flush();
  const staffHours = onDutySeconds / 3600;
  console.log(`city: ${state.collections.staff.size} staff; ${minutes} city minutes at ×1 in ${((performance.now() - t1) / 1000).toFixed(0)} s; ${staffHours.toFixed(0)} on-duty staff-hours`);
  const hours = [hourOf(start), hourOf(clock.nowMs())] as const;
  for (const r of all) {
    const rows = await r.store.tracksIn(hours[0], hours[1]);
    const bytes = rows.reduce((n, row) => n + row.points.length, 0);
    const points = rows.reduce((n, row) => n + row.n, 0);
    const { tracks } = await r.recorder.read(hours[0], hours[1]);
    const errors: number[] = [];
    for (const [id, list] of seen) for (const [t, lon, lat] of list) {
      const p = positionAt(tracks.get(id) ?? [], t);
      errors.push(p ? distance([lon, lat], [p.lon, p.lat], { units: 'meters' }) : Infinity);
    }
    errors.sort((a, b) => a - b);
    console.log(
      `${r.name}: ${(bytes / staffHours).toFixed(0)} B and ${(points / staffHours).toFixed(1)} points per on-duty staff-hour (${(bytes / points).toFixed(1)} B a point; ${(bytes / 1024 / 1024).toFixed(2)} MB in all, ${((bytes / staffHours) * 24 * (staffHours / (minutes / 60)) / 1024 / 1024).toFixed(1)} MB per city day at this duty); recording ${((r.spent.ms / (minutes * 60)) * 100 / 1000).toFixed(2)} % of a core; read back at each broadcast second: p50 ${pct(errors, 50).toFixed(2)} m, p99 ${pct(errors, 99).toFixed(2)} m, max ${errors.at(-1)!.toFixed(2)} m (n=${errors.length})`,
    );
  }
  // Positions at T as the route reads them (the store's rows of the hour around T, decoded, placed).
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = start + Math.random() * (clock.nowMs() - start);
    const t0 = performance.now();
    const { tracks } = await backend.tracks.read(hourOf(t - 120_000), hourOf(t + 120_000));
    let n = 0;
    for (const points of tracks.values()) if (positionAt(points, t)) n++;
    times.push(performance.now() - t0);
    if (i === 0) console.log(`positions at T: ${n} staff placed`);
  }
  times.sort((a, b) => a - b);
  console.log(`positions at T from the store: p50 ${pct(times, 50).toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms (n=${times.length})`);
  for (const o of others) o.store.close();
} finally {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
}
