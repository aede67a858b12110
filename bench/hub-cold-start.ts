/**
 * Hub bench 2: cold start from a cache of 100,000 events and ~10,000 staff (a 6,000-grid city), backend
 * unreachable, to the first full picture a window needs: open events, all staff, live positions, KPIs.
 * Prints the time per run (median of 5) and the cache size.
 * Run: npm run bench -- hub-cold-start   (BENCH_EVENTS)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_FILE_NAME, Hub } from '../hub';
import { seedHubCache } from '../harness/seeded-cache';

const eventCount = Number(process.env.BENCH_EVENTS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-cold-'));
const t0 = performance.now();
// A 6,000-grid city (~10,000 staff) and the events with their history, as a year of a city's cache holds them.
const seeded = seedHubCache(dir, eventCount, 8.5, { seed: 3, staffPerGrid: 1.7 });
const sizeMb = statSync(join(dir, CACHE_FILE_NAME)).size / 1024 / 1024;
console.log(`cache built in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${seeded.events} events, ${seeded.staff} staff, ${seeded.grids} grids, ${sizeMb.toFixed(0)} MiB`);

const times: number[] = [];
for (let run = 0; run < 5; run++) {
  const started = performance.now();
  const hub = new Hub({ dataDir: dir, version: 'bench', backend: null, flushIntervalMs: 16 });
  const firsts = new Set<string>();
  const session = hub.openSession({ bridge: 'ipc', displayRole: 'combined', label: 'bench' }, (u) => {
    if (u.kind === 'snapshot') firsts.add(u.subscriptionId);
  });
  const queries = [
    { topic: 'collection', collection: 'events', filter: { openOnly: true } },
    { topic: 'collection', collection: 'staff' },
    { topic: 'collection', collection: 'grids' },
    { topic: 'collection', collection: 'kpis' },
    { topic: 'positions' },
  ];
  for (const query of queries) await session.handle('subscribe', { query });
  while (firsts.size < queries.length) await new Promise((r) => setImmediate(r));
  times.push(performance.now() - started);
  hub.close();
}
times.sort((a, b) => a - b);
console.log(`cold start (backend unreachable) to the first full picture: median ${times[2]!.toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms)`);
console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
else console.log(dir);
