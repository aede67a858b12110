/**
 * Hub bench 2: cold start from a cache of 100,000 events and ~10,000 staff (a 6,000-grid city), backend
 * unreachable, to the first full picture a window needs: open events, all staff, live positions, KPIs.
 * Prints the time per run (median of 5) and the cache size.
 * Run: npm run bench -- hub-cold-start   (BENCH_EVENTS)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Change, GovEvent, TimelineRecord } from '../protocol';
import { CACHE_FILE_NAME, Hub, HubCache } from '../electron/hub';
import { silentLogger } from '../common/logger';
import { generateCity } from '../backend/sim/city';
import { Rng } from '../backend/sim/random';
import { rulesFromCatalog } from '../backend/sim/catalog';

const eventCount = Number(process.env.BENCH_EVENTS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-cold-'));
const t0 = performance.now();
const city = generateCity({ seed: 3, scale: 8.5, staffPerGrid: 1.7 });
const cache = new HubCache(join(dir, CACHE_FILE_NAME), silentLogger);
let seq = 0;
const put = (changes: Change[]): void => cache.applyDelta(++seq, changes);
const upserts = <T extends { id: string }>(collection: Change['collection'], items: T[]): Change[] => items.map((data) => ({ op: 'upsert', collection, id: data.id, data }));
put([...upserts('adminUnits', city.adminUnits), ...upserts('grids', city.grids), ...upserts('departments', city.departments)]);
put(upserts('rules', rulesFromCatalog().map((r) => ({ ...r, id: r.category }))));
put([...upserts('staff', city.staff), ...upserts('cameras', city.cameras), ...upserts('resources', city.resources)]);
const rng = new Rng('cold-start');
const rules = rulesFromCatalog();
const day = 86_400_000;
for (let start = 0; start < eventCount; start += 5000) {
  const batch: GovEvent[] = [];
  const history: TimelineRecord[] = [];
  for (let i = start; i < Math.min(eventCount, start + 5000); i++) {
    const grid = city.grids[rng.int(0, city.grids.length - 1)]!;
    const rule = rng.pick(rules);
    const reported = Date.now() - rng.float(0, 365) * day;
    const open = i % 40 === 0; // ~2.5 % open, as in the simulated city
    const at = (ms: number): string => new Date(reported + ms).toISOString();
    const id = `E${String(i).padStart(13, '0')}`;
    const actions = ['report', 'accept', 'dispatch', 'sign', ...(open ? [] : ['feedback', 'followup', 'close'])];
    // The history: records of their own, as the backend keeps them.
    actions.forEach((action, k) => history.push({ id: `${id}.${String(k).padStart(4, '0')}`, eventId: id, districtId: grid.districtId, index: k, at: at(k * 600_000), actor: 'sim:seat', actorName: '其他坐席（模拟）', action }));
    batch.push({
      id,
      source: 'grid-app',
      category: rule.category,
      severity: rng.int(1, 4),
      title: '楼道堆放杂物存在消防隐患',
      description: '网格员巡查发现某小区楼道堆放大量纸箱杂物，已拍照上报，请相关部门尽快清理。',
      location: grid.center,
      address: grid.name,
      gridId: grid.id,
      districtId: grid.districtId,
      status: open ? 'handling' : 'closed',
      step: open ? 'handle' : 'close',
      reportedAt: at(0),
      stepDeadline: open ? at(2 * day) : null,
      finalDeadline: at(5 * day),
      assignee: { departmentId: rule.departmentId, staffId: null },
      coHandlers: [],
      coHandlingRequests: [],
      supervised: false,
      escalation: 'grid',
      mergedInto: null,
      reporter: null,
      evaluation: open ? null : { satisfaction: 'satisfied', comment: '' },
      closedAt: open ? null : at(day),
      acceptedAt: at(600_000),
      dispatchedAt: at(1_200_000),
      handledAt: open ? null : at(day / 2),
      timelineCount: actions.length,
      actors: ['sim:seat'],
      cameraId: null,
      version: 7,
    });
  }
  put(upserts('events', batch));
  put(upserts('timeline', history));
}
cache.setMeta('user', JSON.stringify({ id: 'dispatcher', name: '调度员', role: 'dispatcher', districtScope: null }));
cache.close();
const sizeMb = statSync(join(dir, CACHE_FILE_NAME)).size / 1024 / 1024;
console.log(`cache built in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${eventCount} events, ${city.staff.length} staff, ${city.grids.length} grids, ${sizeMb.toFixed(0)} MiB`);

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
