/**
 * A hub data dir whose cache already holds a small city and N events, so a host started with --no-backend serves
 * a realistic events collection at once (no backend to sync from, nothing simulated): for host fuzz tests and
 * the host memory bench, where the size of what a page may ask for is the point.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Change, GovEvent, TimelineRecord } from '../protocol';
import { CACHE_FILE_NAME, HubCache, silentLogger } from '../hub';
import { generateCity } from '../backend/city-generator/city';
import { rulesFromCatalog } from '../backend/city-generator/catalog';

/**
 * Writes cache.sqlite in dataDir: a city of `scale` (1 ≈ 708 grids) and `events` events (~1 KB each encoded)
 * with their history records, one in forty open. Also the hub cold-start bench's cache.
 */
export function seedHubCache(dataDir: string, events: number, scale = 0.2, cityOptions: { seed: number; staffPerGrid: number } = { seed: 7, staffPerGrid: 2 }): { events: number; grids: number; staff: number; sample: { category: string; location: [number, number] } } {
  mkdirSync(dataDir, { recursive: true });
  const city = generateCity({ seed: cityOptions.seed, scale, staffPerGrid: cityOptions.staffPerGrid });
  const cache = new HubCache(join(dataDir, CACHE_FILE_NAME), silentLogger);
  let seq = 0;
  const put = (changes: Change[]): void => cache.applyDelta(++seq, changes);
  const upserts = <T extends { id: string }>(collection: Change['collection'], items: T[]): Change[] => items.map((data) => ({ op: 'upsert', collection, id: data.id, data }));
  put([...upserts('adminUnits', city.adminUnits), ...upserts('grids', city.grids), ...upserts('departments', city.departments)]);
  put(upserts('rules', rulesFromCatalog().map((r) => ({ ...r, id: r.category }))));
  put([...upserts('staff', city.staff), ...upserts('cameras', city.cameras), ...upserts('resources', city.resources)]);
  const rules = rulesFromCatalog();
  const day = 86_400_000;
  const base = Date.now() - 30 * day;
  for (let start = 0; start < events; start += 5000) {
    const batch: GovEvent[] = [];
    const history: TimelineRecord[] = [];
    for (let i = start; i < Math.min(events, start + 5000); i++) {
      const grid = city.grids[i % city.grids.length]!;
      const rule = rules[i % rules.length]!;
      const reported = base + (i * 997) % (30 * day);
      const open = i % 40 === 0;
      const at = (ms: number): string => new Date(reported + ms).toISOString();
      const id = `E${String(i).padStart(13, '0')}`;
      const actions = ['report', 'accept', 'dispatch', 'sign', ...(open ? [] : ['feedback', 'followup', 'close'])];
      actions.forEach((action, k) => history.push({ id: `${id}.${String(k).padStart(4, '0')}`, eventId: id, districtId: grid.districtId, index: k, at: at(k * 600_000), actor: 'sim:seat', actorName: '其他坐席（模拟）', action }));
      batch.push({
        id,
        source: 'grid-app',
        category: rule.category,
        severity: 1 + (i % 4),
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
  return { events, grids: city.grids.length, staff: city.staff.length, sample: { category: rules[0]!.category, location: city.grids[0]!.center } };
}
