/** 考核指标上图 (renderer/src/map/kpi-choropleth.ts): the KPI wall's district figures as the map's grid colours. */
import { describe, expect, it } from 'vitest';
import type { KpiSnapshot } from '../../protocol';
import { WallRequest } from '../../protocol';
import { districtKpi, gridValuesOfDistricts, kpiLegend, legendRange } from '../../renderer/src/map/kpi-choropleth';
import { classify } from '../../renderer/src/map/model';

const r = (numerator: number, denominator: number) => ({ numerator, denominator, value: denominator ? numerator / denominator : null });
const snapshot: Pick<KpiSnapshot, 'byDistrict'> = {
  byDistrict: [
    { districtId: 'd01', reported: 10, closed: 9, overdue: 0, closureRate: r(9, 10), satisfactionRate: r(5, 10), score: 92 },
    { districtId: 'd02', reported: 10, closed: 5, overdue: 7, closureRate: r(5, 10), satisfactionRate: r(0, 0), score: 55 },
  ],
};
const grids = [
  { id: 'g1', districtId: 'd01' },
  { id: 'g2', districtId: 'd02' },
  { id: 'g3', districtId: 'd03' },
];

describe('KPI choropleth', () => {
  it('each grid takes its district value; a district without data is NaN (base fill, no class)', () => {
    const closure = gridValuesOfDistricts(grids, districtKpi(snapshot, 'closureRate'));
    expect(closure.get('g1')).toBe(0.9);
    expect(closure.get('g2')).toBe(0.5);
    expect(closure.get('g3')).toBeNaN();
    const legend = kpiLegend('closureRate');
    expect(classify(closure.get('g1')!, legend)!.color).toBe('#2fa86b'); // ≥ 90 %: green
    expect(classify(closure.get('g2')!, legend)!.color).toBe('#e23a3a'); // < 60 %: red
    expect(classify(closure.get('g3')!, legend)).toBeNull();
    // No evaluations: no satisfaction figure, not 0 %.
    expect(gridValuesOfDistricts(grids, districtKpi(snapshot, 'satisfactionRate')).get('g2')).toBeNaN();
  });
  it('overdue counts run the other way: none is green, many is red', () => {
    const legend = kpiLegend('overdue');
    const overdue = districtKpi(snapshot, 'overdue');
    expect(classify(overdue.get('d01')!, legend)!.color).toBe('#2fa86b');
    expect(classify(overdue.get('d02')!, legend)!.color).toBe('#f07a2a');
    expect(legend.map((c) => legendRange('overdue', c))).toEqual(['0', '1–2', '3–5', '6–9', '≥ 10']);
    expect(kpiLegend('satisfactionRate').map((c) => legendRange('satisfactionRate', c))).toEqual(['0%–60%', '60%–70%', '70%–80%', '80%–90%', '≥ 90%']);
    expect(classify(districtKpi(snapshot, 'score').get('d01')!, kpiLegend('score'))!.color).toBe('#2fa86b');
  });
  it('the wall request carries the KPI and the district, and refuses what is not a KPI', () => {
    expect(WallRequest.safeParse({ wall: 'map', kind: 'district', id: 'd01', kpi: { key: 'closureRate', period: '7d' } }).success).toBe(true);
    expect(WallRequest.safeParse({ wall: 'map', kind: 'city', id: 'city', kpi: { key: 'overdue', period: 'today' } }).success).toBe(true);
    expect(WallRequest.safeParse({ wall: 'map', kind: 'district', id: 'd01', kpi: { key: 'hotlineVolume', period: '7d' } }).success).toBe(false);
    expect(WallRequest.safeParse({ wall: 'map', kind: 'district', id: 'd01', kpi: { key: 'closureRate', period: '1y' } }).success).toBe(false);
  });
});
