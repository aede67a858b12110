import { describe, expect, it } from 'vitest';
import type { KpiSnapshot } from '../../protocol';
import { THRESHOLDS, categoryOption, levelOf, partialBucket, percent, ranking, rankingOption, sourceOption, tiles, trendOption } from '../../renderer/src/charts/kpi';

const r = (numerator: number, denominator: number) => ({ numerator, denominator, value: denominator ? numerator / denominator : null });
const kpi: KpiSnapshot = {
  id: '7d',
  computedAt: '2026-11-22T04:00:00.000Z',
  from: '2026-11-15T16:00:00.000Z',
  to: '2026-11-22T04:00:00.000Z',
  reportingCoverage: r(700, 720),
  dispatchInTimeRate: r(90, 100),
  closureRate: r(70, 100),
  onTimeClosureRate: r(0, 0),
  satisfactionRate: r(95, 100),
  overdueCount: 3,
  staffOnlineRate: r(1000, 2000),
  cameraOnlineRate: r(1290, 1300),
  hotlineVolume: 42,
  bySource: { hotline: 10, 'grid-app': 50, sensor: 2 },
  byCategory: Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`c${i}`, i + 1])),
  byDistrict: [
    { districtId: 'd01', reported: 10, closed: 8, overdue: 1, closureRate: r(8, 10), satisfactionRate: r(9, 10), score: 80.5 },
    { districtId: 'd02', reported: 10, closed: 9, overdue: 0, closureRate: r(9, 10), satisfactionRate: r(9, 10), score: 90.1 },
  ],
  trend: [
    { date: '2026-11-21', reported: 5, closed: 4 },
    { date: '2026-11-22', reported: 7, closed: 2 },
  ],
};

const labels = { reported: '上报', closed: '办结', partial: (until: string, hourly: boolean) => (hourly ? `本小时（截至 ${until.slice(11, 16)}）` : `今日（截至 ${until.slice(11, 16)}）`) };

describe('KPI tiles', () => {
  it('colour each value by its threshold and keep what it was computed from', () => {
    const byKey = Object.fromEntries(tiles(kpi).map((t) => [t.key, t]));
    expect(byKey.reportingCoverage).toMatchObject({ text: '97.2%', level: 'good', ratio: { numerator: 700, denominator: 720 } });
    expect(byKey.dispatchInTimeRate!.level).toBe('warn');
    expect(byKey.closureRate!.level).toBe('bad');
    expect(byKey.onTimeClosureRate).toMatchObject({ text: '—', level: 'none' }); // no data is not 0 %
    expect(byKey.overdueCount).toMatchObject({ text: '3', level: 'warn' });
    expect(byKey.hotlineVolume!.text).toBe('42');
  });
  it('thresholds are inclusive at the boundary', () => {
    expect(levelOf(0.9, THRESHOLDS.closureRate)).toBe('good');
    expect(levelOf(0.8, THRESHOLDS.closureRate)).toBe('warn');
    expect(levelOf(0.7999, THRESHOLDS.closureRate)).toBe('bad');
    expect(levelOf(null, THRESHOLDS.closureRate)).toBe('none');
    expect(percent(0.5)).toBe('50.0%');
  });
});

describe('chart options', () => {
  it('trend: one point per bucket, dates shortened', () => {
    const o = trendOption(kpi, labels);
    expect(o.xAxis.data).toEqual(['11-21', '11-22']);
    expect(o.series.map((s) => s.data)).toEqual([[5, 7], [4, 2]]);
  });
  it('a running day is marked, not drawn as a fall: dashed hollow segment, 「今日（截至 HH:mm）」 on the axis', () => {
    // 7 days from local midnight 11-16 (16:00Z) to 11-22 12:00 local (04:00Z): the last day is half over.
    const week: KpiSnapshot = { ...kpi, from: '2026-11-15T16:00:00.000Z', to: '2026-11-22T04:00:00.000Z', trend: ['11-16', '11-17', '11-18', '11-19', '11-20', '11-21', '11-22'].map((d, i) => ({ date: `2026-${d}`, reported: 20 + i, closed: 18 + i })) };
    week.trend[6] = { date: '2026-11-22', reported: 9, closed: 4 };
    expect(partialBucket(week)).toEqual({ index: 6, fraction: 0.5, hourly: false, until: '2026-11-22T04:00:00.000Z' });
    const o = trendOption(week, labels);
    expect(o.xAxis.data.at(-1)).toBe('今日（截至 04:00）');
    expect(o.xAxis.data.slice(0, 2)).toEqual(['11-16', '11-17']);
    const [reported, closed, reportedRunning, closedRunning] = o.series;
    // The solid lines end at the last complete day; the running day is only in the dashed segment.
    expect(reported!.data).toEqual([20, 21, 22, 23, 24, 25, null]);
    expect(closed!.data.at(-1)).toBeNull();
    expect(reportedRunning).toMatchObject({ name: '上报', lineStyle: { type: 'dashed' }, symbol: 'emptyCircle' });
    expect(reportedRunning!.data).toEqual([null, null, null, null, null, { value: 25, symbol: 'none' }, 9]);
    expect(closedRunning!.data.at(-1)).toBe(4);
    // The tooltip lists each measure once.
    const tip = o.tooltip.formatter([{ axisValueLabel: '今日（截至 04:00）', seriesName: '上报', value: null }, { axisValueLabel: 'x', seriesName: '上报', value: 9 }, { seriesName: '办结', value: 4 }]);
    expect(tip).toBe('今日（截至 04:00）<br/>上报：9<br/>办结：4');
  });
  it('today by the hour marks the running hour; a complete last bucket is drawn as before', () => {
    const today: KpiSnapshot = { ...kpi, id: 'today', from: '2026-11-21T16:00:00.000Z', to: '2026-11-21T18:20:00.000Z', trend: [{ date: '00:00', reported: 3, closed: 1 }, { date: '01:00', reported: 2, closed: 2 }, { date: '02:00', reported: 1, closed: 0 }] };
    expect(partialBucket(today)).toMatchObject({ index: 2, hourly: true, until: '2026-11-21T18:20:00.000Z' });
    expect(trendOption(today, labels).xAxis.data).toEqual(['00:00', '01:00', '本小时（截至 18:20）']);
    const whole: KpiSnapshot = { ...today, to: '2026-11-21T19:00:00.000Z' };
    expect(partialBucket(whole)).toBeNull();
    expect(trendOption(whole, labels).series).toHaveLength(2);
    expect(partialBucket({ ...today, trend: [] })).toBeNull();
  });
  it('sources: largest first, named', () => {
    const o = sourceOption(kpi, (id) => `name:${id}`);
    expect(o.series[0]!.data.map((d) => d.name)).toEqual(['name:grid-app', 'name:hotline', 'name:sensor']);
    // A narrow panel moves the legend under the ring (it would cover it beside).
    expect(o.media[0]!.query.maxWidth).toBeLessThanOrEqual(400);
    expect(o.media[0]!.option.legend.orient).toBe('horizontal');
  });
  it('categories: the top 10, largest at the top, ids kept for drill-down', () => {
    const o = categoryOption(kpi, (id) => id.toUpperCase());
    expect(o.yAxis.data).toHaveLength(10);
    expect(o.yAxis.data.at(-1)).toBe('C13');
    expect(o.series[0]!.data.at(-1)).toEqual({ value: 14, id: 'c13' });
  });
  it('ranking: best score first; the chart highlights the leader and keeps ids', () => {
    const rows = ranking(kpi, (id) => `区${id}`);
    expect(rows.map((x) => x.districtId)).toEqual(['d02', 'd01']);
    expect(rows[0]).toMatchObject({ name: '区d02', closureRate: '90.0%' });
    const o = rankingOption(rows);
    expect(o.yAxis.data).toEqual(['区d01', '区d02']);
    expect(o.series[0]!.data[1]).toMatchObject({ value: 90.1, id: 'd02' });
  });
  it('copes with an empty period', () => {
    const empty = { ...kpi, bySource: {}, byCategory: {}, byDistrict: [], trend: [] };
    expect(sourceOption(empty, String).series[0]!.data).toEqual([]);
    expect(categoryOption(empty, String).yAxis.data).toEqual([]);
    expect(ranking(empty, String)).toEqual([]);
  });
});
