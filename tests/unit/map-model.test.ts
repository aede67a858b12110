import { describe, expect, it } from 'vitest';
import type { Grid } from '../../protocol';
import { GridLocator, classify, clusterByStreet, drillTowards, gridMetric, legendFor, pointInRing, search } from '../../renderer/src/map/model';

const grid = (id: string, x: number, extra: Partial<Grid> = {}): Grid => ({
  id,
  code: `37010210100${id.padStart(4, '0')}`.slice(0, 15),
  name: `网格${id}`,
  communityId: `c-${id}`,
  streetId: 's1',
  districtId: 'd1',
  polygon: [
    [x, 0],
    [x + 1, 0],
    [x + 1, 1],
    [x, 1],
  ],
  center: [x + 0.5, 0.5],
  households: 10,
  population: 30,
  ...extra,
});
const a = grid('1', 0);
const b = grid('2', 1, { districtId: 'd2', streetId: 's2' });

describe('map model', () => {
  it('finds the grid under a point, and none outside', () => {
    expect(pointInRing([0.5, 0.5], a.polygon)).toBe(true);
    const locator = new GridLocator([a, b], 0.5);
    expect(locator.at([1.5, 0.2])?.id).toBe('2');
    expect(locator.at([5, 5])).toBeNull();
  });
  it('drills city → district → street → community → grid, and jumps to another district', () => {
    let path = drillTowards({ units: [], gridId: null }, a);
    expect(path).toEqual({ units: ['d1'], gridId: null });
    path = drillTowards(path, a);
    path = drillTowards(path, a);
    expect(path.units).toEqual(['d1', 's1', 'c-1']);
    expect(drillTowards(path, a)).toEqual({ units: ['d1', 's1', 'c-1'], gridId: '1' });
    expect(drillTowards(path, b)).toEqual({ units: ['d2'], gridId: null });
  });
  it('colours by fixed classes; staff online runs the other way', () => {
    const values = gridMetric('staffOnline', { events: [], staff: [{ gridId: '1', status: 'patrolling' }, { gridId: '1', status: 'offline' }], nowMs: 0 });
    expect(values.get('1')).toBe(0.5);
    const legend = legendFor('staffOnline');
    expect(classify(1, legend)!.color).toBe(legendFor('openEvents')[0]!.color);
    expect(classify(3, legendFor('openEvents'))!.from).toBe(2);
    const overdue = gridMetric('overdue', { events: [{ gridId: '1', status: 'handling', stepDeadline: '2000-01-01T00:00:00Z' }, { gridId: '1', status: 'closed', stepDeadline: '2000-01-01T00:00:00Z' }], staff: [], nowMs: Date.now() });
    expect(overdue.get('1')).toBe(1);
  });
  it('clusters events per street with the worst severity', () => {
    const grids = new Map([['1', a], ['2', b]]);
    const clusters = clusterByStreet([
      { id: 'e1', gridId: '1', location: [0.2, 0.2], severity: 1 },
      { id: 'e2', gridId: '1', location: [0.4, 0.4], severity: 4 },
      { id: 'e3', gridId: '2', location: [1.5, 0.5], severity: 2 },
    ], grids);
    expect(clusters.find((c) => c.key === 's1')).toMatchObject({ count: 2, maxSeverity: 4, position: [0.30000000000000004, 0.30000000000000004] });
  });
  it('searches codes first, then names, places, staff and events; empty query finds nothing', () => {
    const places = [
      { id: 'pl-SCH-001', code: 'SCH-001', name: '第一小学', address: '一巷10号', position: [0.3, 0.3] as [number, number] },
      { id: 'pl-SCH-0010', code: 'SCH-0010', name: '第十小学', address: '', position: [0.4, 0.4] as [number, number] },
    ];
    const sources = { grids: [a, b], staff: [{ id: 's-1', name: '王芳', position: [0.5, 0.5] as [number, number], gridId: '1' }], events: [{ id: 'ev-9', title: '路灯不亮', address: '网格1 路口', location: [0.5, 0.5] as [number, number] }], units: [], places, gridName: () => '网格1' };
    expect(search('第一小学', sources)[0]).toMatchObject({ kind: 'place', id: 'pl-SCH-001', detail: 'SCH-001 · 一巷10号', position: [0.3, 0.3] });
    // The exact code comes first, a longer code containing it after.
    expect(search('sch-0010', sources).map((h) => h.id)).toEqual(['pl-SCH-0010']);
    expect(search('SCH-001', sources).map((h) => h.id)).toEqual(['pl-SCH-001', 'pl-SCH-0010']);
    expect(search(a.code, sources)[0]).toMatchObject({ kind: 'grid', id: '1' });
    expect(search('王芳', sources)[0]).toMatchObject({ kind: 'staff' });
    expect(search('ev-9', sources)[0]).toMatchObject({ kind: 'event' });
    expect(search('   ', sources)).toEqual([]);
  });
});
