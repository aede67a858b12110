/**
 * 考核指标上图: the KPI wall's district figures as a choropleth of the map (data + style → items, like the other
 * layers' rules in ./model). Each grid takes its district's value; the classes are fixed and explainable (the
 * assessment thresholds of the KPI wall), coloured from good (green) to bad (red); a district without data keeps
 * the base fill. Pure functions, unit-tested; the grid layer draws the result.
 */
import type { Grid, KpiSnapshot, MapKpiKey } from '../../../protocol';
import type { LegendClass } from './model';

/** Good → bad. */
const GOOD_TO_BAD = ['#2fa86b', '#8cc152', '#e0b040', '#f07a2a', '#e23a3a'];

export const MAP_KPI_KEYS: readonly MapKpiKey[] = ['closureRate', 'satisfactionRate', 'overdue', 'score'];

/** Is the value a share (shown as a percentage)? */
export const isRate = (key: MapKpiKey): boolean => key === 'closureRate' || key === 'satisfactionRate';

/**
 * The classes of a KPI, lowest value first. Rates follow the KPI wall's thresholds (≥ 90 % good, 80–90 % warn)
 * split further below; the score the same in points; overdue counts run the other way (0 is good).
 */
export function kpiLegend(key: MapKpiKey): LegendClass[] {
  const make = (bounds: number[], colours: string[]): LegendClass[] => bounds.map((from, i) => ({ from, to: bounds[i + 1] ?? Infinity, color: colours[i]! }));
  const badToGood = [...GOOD_TO_BAD].reverse();
  if (key === 'overdue') return make([0, 1, 3, 6, 10], GOOD_TO_BAD);
  if (key === 'score') return make([0, 60, 70, 80, 90], badToGood);
  return make([0, 0.6, 0.7, 0.8, 0.9], badToGood);
}

/** Each district's value of the KPI in the snapshot; null where it has no data (a rate with no denominator). */
export function districtKpi(snapshot: Pick<KpiSnapshot, 'byDistrict'>, key: MapKpiKey): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const d of snapshot.byDistrict) {
    out.set(d.districtId, key === 'closureRate' ? d.closureRate.value : key === 'satisfactionRate' ? d.satisfactionRate.value : key === 'overdue' ? d.overdue : d.score);
  }
  return out;
}

/** Each grid's value: its district's (NaN where the district has none, which no class takes: the base fill). */
export function gridValuesOfDistricts(grids: Iterable<Pick<Grid, 'id' | 'districtId'>>, byDistrict: ReadonlyMap<string, number | null>): Map<string, number> {
  const out = new Map<string, number>();
  for (const g of grids) out.set(g.id, byDistrict.get(g.districtId) ?? Number.NaN);
  return out;
}

/** A class's range as the legend shows it: 「≥ 90%」, 「80%–90%」, 「1–2」, 「≥ 10」. */
export function legendRange(key: MapKpiKey, c: LegendClass): string {
  const fmt = (v: number): string => (isRate(key) ? `${Math.round(v * 100)}%` : String(v));
  if (c.to === Infinity) return `≥ ${fmt(c.from)}`;
  if (key === 'overdue') return c.to - c.from === 1 ? `${c.from}` : `${c.from}–${c.to - 1}`;
  return `${fmt(c.from)}–${fmt(c.to)}`;
}
