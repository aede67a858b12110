/**
 * Replay bench (复盘回放, backend/history/): a 24-hour city day at scale 1 simulated at ×60 on a fake wall clock
 * (tick() once a city minute, the KPIs every 10 city minutes, the history service's round every tick), on a city
 * with BENCH_HISTORY_DAYS of generated history. Prints the change log and checkpoint bytes the day added, the
 * biggest writers of the log, and the time to rebuild the state at a random T of the day (cold: a new reader,
 * then warm) and while playing forward (a seek every 10 city seconds over an hour).
 * Run: npm run bench -- replay   (BENCH_HISTORY_DAYS default 30, BENCH_SEEKS default 200, BENCH_HOURS default 24)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend } from '../backend/index';
import { HistoryReader } from '../backend/history/state-at';

const historyDays = Number(process.env.BENCH_HISTORY_DAYS ?? 30);
const seeks = Number(process.env.BENCH_SEEKS ?? 200);
const hours = Number(process.env.BENCH_HOURS ?? 24);
const MIN = 60_000;
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-replay-'));
let wall = Date.now() - 3 * 86_400_000;
const t0 = performance.now();
const backend = await startBackend({
  dbFile: join(dir, 'backend.sqlite'),
  simulate: false,
  historyDays,
  speed: 60,
  wallClock: () => wall,
  startAtMs: wall,
  tokens: { dispatcher: 'bench-token' },
  tokensFile: null,
  kpiIntervalMs: 3_600_000,
  alarms: false,
  sip: undefined,
  history: { pollMs: 0 },
});
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(2)} MB`;
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${pct(s, 50).toFixed(1)} ms, p99 ${pct(s, 99).toFixed(1)} ms, max ${s.at(-1)!.toFixed(1)} ms (n=${s.length})`;
};
try {
  const { store, state, history, clock } = backend;
  const c0 = performance.now();
  await history.run();
  const firstMs = performance.now() - c0;
  const first = await store.historySize();
  console.log(`city: ${state.collections.grids.size} grids, ${state.collections.staff.size} staff, ${state.collections.events.size} events, ${state.collections.timeline.size} timeline records (${historyDays} days generated) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`first checkpoint (at start): ${mb(first.chunkBytes)} gz in ${first.chunks} chunks, written in ${firstMs.toFixed(0)} ms`);
  const dayStartSeq = state.seq;
  const dayStartAt = clock.nowMs();
  const checkpointMs: number[] = [];
  const t1 = performance.now();
  for (let minute = 1; minute <= hours * 60; minute++) {
    wall += 1000; // one city minute at ×60
    await backend.tick();
    if (minute % 10 === 0) await backend.refreshKpis();
    const before = (await store.checkpointRange())?.count ?? 0;
    const c0 = performance.now();
    await history.run();
    if (((await store.checkpointRange())?.count ?? 0) > before) checkpointMs.push(performance.now() - c0);
  }
  const dayEndAt = clock.nowMs();
  const after = await store.historySize();
  const batches = state.seq - dayStartSeq;
  console.log(`simulated ${hours} city hours in ${((performance.now() - t1) / 1000).toFixed(0)} s: ${batches} batches, ${after.checkpoints - first.checkpoints} checkpoints (each ${ms(checkpointMs)} to write)`);
  const perDay = 24 / hours;
  console.log(`change log: ${mb(after.changeBytes - first.changeBytes)} for the day (${mb((after.changeBytes - first.changeBytes) * perDay)} per city day)`);
  console.log(`checkpoints: ${mb(after.chunkBytes - first.chunkBytes)} gz added for the day (${mb((after.chunkBytes - first.chunkBytes) * perDay)} per city day), ${after.chunks - first.chunks} new chunks`);
  // Who writes the log: bytes by collection, and the KPI batches' share (at ×1 they come 60 times as often per city day).
  const byCollection = new Map<string, number>();
  let kpiBatches = 0;
  let kpiBytes = 0;
  for (let cursor = dayStartSeq; ; ) {
    const page = await store.changesBetween(cursor, new Date(dayEndAt).toISOString(), 5000);
    for (const b of page) {
      for (const c of b.changes) byCollection.set(c.collection, (byCollection.get(c.collection) ?? 0) + JSON.stringify(c).length);
      if (b.changes.length > 0 && b.changes.every((c) => c.collection === 'kpis')) {
        kpiBatches++;
        kpiBytes += JSON.stringify(b.changes).length;
      }
    }
    if (page.length < 5000) break;
    cursor = page.at(-1)!.seq;
  }
  console.log(`log by collection: ${[...byCollection].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${mb(n)}`).join(', ')}`);
  if (kpiBatches > 0) console.log(`KPI batches: ${kpiBatches}, ${(kpiBytes / kpiBatches / 1024).toFixed(1)} KB each; at ×1 (one every 10 s) that is ${mb((kpiBytes / kpiBatches) * 8640)} per city day`);

  const randomT = (): number => dayStartAt + Math.random() * (dayEndAt - dayStartAt);
  const cold = new HistoryReader({ store });
  const s0 = performance.now();
  await cold.stateAt(randomT());
  console.log(`first seek, cold reader: ${(performance.now() - s0).toFixed(0)} ms`);
  const times: number[] = [];
  for (let i = 0; i < seeks; i++) {
    const s = performance.now();
    await cold.stateAt(randomT());
    times.push(performance.now() - s);
  }
  console.log(`random seeks over the day (chunk cache warming): ${ms(times)}; ${cold.stats.chunksDecoded} chunks decoded, ${cold.stats.batchesApplied} batches applied`);
  const warm: number[] = [];
  for (let i = 0; i < seeks; i++) {
    const s = performance.now();
    await cold.stateAt(randomT());
    warm.push(performance.now() - s);
  }
  console.log(`random seeks, warm: ${ms(warm)}`);
  const play: number[] = [];
  const from = dayStartAt + (dayEndAt - dayStartAt) / 2;
  for (let t = from; t < from + 60 * MIN; t += 10_000) {
    const s = performance.now();
    await cold.stateAt(t);
    play.push(performance.now() - s);
  }
  console.log(`playing forward an hour (a seek every 10 city s): ${ms(play)}; states reused ${cold.stats.statesReused}`);
  console.log(`memory: ${mb(process.memoryUsage().rss)} RSS`);
} finally {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
}
