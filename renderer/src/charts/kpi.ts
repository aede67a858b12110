/**
 * Pure builders for the KPI wall: tile models (value, threshold level, explanation) and ECharts options.
 * No DOM, no ECharts instance: unit-tested, and cheap to call on every update.
 */
import type { KpiSnapshot, Ratio } from '../../../protocol';

export type Level = 'good' | 'warn' | 'bad' | 'none';

export interface Threshold {
  /** At or above: good; at or above warn: warn; below: bad. Percentages as 0..1. */
  good: number;
  warn: number;
}

/** Targets for the assessment KPIs (考核指标), from typical county assessment rules. */
export const THRESHOLDS: Record<string, Threshold> = {
  reportingCoverage: { good: 0.9, warn: 0.75 },
  dispatchInTimeRate: { good: 0.95, warn: 0.85 },
  closureRate: { good: 0.9, warn: 0.8 },
  onTimeClosureRate: { good: 0.9, warn: 0.8 },
  satisfactionRate: { good: 0.9, warn: 0.8 },
  staffOnlineRate: { good: 0.6, warn: 0.4 },
  cameraOnlineRate: { good: 0.95, warn: 0.9 },
  cadreArrivalRate: { good: 0.9, warn: 0.7 },
};

export function levelOf(value: number | null, threshold: Threshold | undefined): Level {
  if (value === null || !threshold) return 'none';
  return value >= threshold.good ? 'good' : value >= threshold.warn ? 'warn' : 'bad';
}

export interface Tile {
  key: string;
  /** The number as shown: a percentage, or a count. */
  text: string;
  level: Level;
  ratio: Ratio | null;
}

export const RATIO_KEYS = ['reportingCoverage', 'dispatchInTimeRate', 'closureRate', 'onTimeClosureRate', 'satisfactionRate', 'staffOnlineRate', 'cameraOnlineRate'] as const;

export function percent(value: number | null): string {
  return value === null ? '—' : `${(value * 100).toFixed(1)}%`;
}

export function tiles(kpi: KpiSnapshot): Tile[] {
  const ratioTiles: Tile[] = RATIO_KEYS.map((key) => {
    const ratio = kpi[key];
    return { key, text: percent(ratio.value), level: levelOf(ratio.value, THRESHOLDS[key]), ratio };
  });
  return [
    ...ratioTiles,
    // Overdue: any is a warning, more than 5 % of the period's reports is bad.
    { key: 'overdueCount', text: String(kpi.overdueCount), level: kpi.overdueCount === 0 ? 'good' : kpi.overdueCount > kpi.closureRate.denominator * 0.05 ? 'bad' : 'warn', ratio: null },
    { key: 'hotlineVolume', text: String(kpi.hotlineVolume), level: 'none', ratio: null },
    // 到岗率 only while the level in force calls the 下沉干部.
    ...(kpi.cadreArrivalRate ? [{ key: 'cadreArrivalRate', text: percent(kpi.cadreArrivalRate.value), level: levelOf(kpi.cadreArrivalRate.value, THRESHOLDS.cadreArrivalRate), ratio: kpi.cadreArrivalRate }] : []),
  ];
}

export interface ChartTheme {
  text: string;
  dim: string;
  grid: string;
  series: string[];
}

export const DARK: ChartTheme = { text: '#e6eefb', dim: '#8ea6c8', grid: 'rgba(142,166,200,0.15)', series: ['#3fb4ff', '#2fd37a', '#ffb020', '#ff4d4f', '#a07cff', '#36cfc9', '#f759ab', '#bae637'] };

const axisCommon = (theme: ChartTheme) => ({
  axisLine: { lineStyle: { color: theme.grid } },
  // Narrow panels (the emergency layout) drop labels that would run into each other.
  axisLabel: { color: theme.dim, hideOverlap: true },
  splitLine: { lineStyle: { color: theme.grid } },
});

/**
 * The trend's last bucket when it is still running (today, or this hour for 今日): its index, how much of it has
 * passed (0..1), whether buckets are hours, and until when it counts (the snapshot's end, an ISO time). Null when
 * the last bucket is complete or the trend is empty.
 */
export function partialBucket(kpi: Pick<KpiSnapshot, 'id' | 'from' | 'to' | 'trend'>): { index: number; fraction: number; hourly: boolean; until: string } | null {
  const n = kpi.trend.length;
  if (n === 0) return null;
  const hourly = kpi.id === 'today';
  const bucketMs = hourly ? 3_600_000 : 86_400_000;
  const lastStart = Date.parse(kpi.from) + (n - 1) * bucketMs;
  const fraction = (Date.parse(kpi.to) - lastStart) / bucketMs;
  if (!(fraction > 0 && fraction < 1)) return null;
  return { index: n - 1, fraction, hourly, until: kpi.to };
}

export interface TrendLabels {
  reported: string;
  closed: string;
  /** The running bucket's axis label from its end (ISO): 「今日（截至 HH:mm）」 in the window's clock (hourly: this hour). */
  partial: (until: string, hourly: boolean) => string;
}

/**
 * 事件趋势: reported and closed per bucket. The last bucket, when still running, is not drawn as a fall: its
 * segment is dashed, its point hollow, and its axis label says it is partial (「今日（截至 HH:mm）」), so a leader
 * does not read a plunge where the day is only partly over.
 */
export function trendOption(kpi: KpiSnapshot, labels: TrendLabels, theme: ChartTheme = DARK) {
  const partial = partialBucket(kpi);
  const axis = kpi.trend.map((p, i) => (partial && i === partial.index ? labels.partial(partial.until, partial.hourly) : p.date.length === 10 ? p.date.slice(5) : p.date));
  const solid = (values: number[]): Array<number | null> => values.map((v, i) => (partial && i === partial.index ? null : v));
  const running = (values: number[]): Array<number | null> => values.map((v, i) => (partial && i >= partial.index - 1 ? v : null));
  const reported = kpi.trend.map((p) => p.reported);
  const closed = kpi.trend.map((p) => p.closed);
  const partialSeries = (name: string, values: number[], color: string | undefined) => ({
    name,
    type: 'line',
    smooth: false,
    symbol: 'emptyCircle',
    symbolSize: 8,
    showSymbol: true,
    // Only the running point gets a marker; the last complete one is drawn by the solid line.
    data: running(values).map((v, i) => (partial && i === partial.index ? v : v === null ? null : { value: v, symbol: 'none' })),
    lineStyle: { type: 'dashed', width: 2, color },
    itemStyle: { color },
    tooltip: { show: false },
    z: 3,
  });
  return {
    animation: false,
    color: [theme.series[0], theme.series[1]],
    tooltip: {
      trigger: 'axis',
      // One line per measure (the dashed segment repeats the running point).
      formatter: (params: Array<{ axisValueLabel?: string; seriesName?: string; value?: unknown; marker?: string }>) => {
        const seen = new Set<string>();
        const lines = [params[0]?.axisValueLabel ?? ''];
        for (const p of params) {
          const value = typeof p.value === 'object' && p.value !== null ? (p.value as { value?: unknown }).value : p.value;
          if (value === null || value === undefined || value === '-' || seen.has(p.seriesName ?? '')) continue;
          seen.add(p.seriesName ?? '');
          lines.push(`${p.marker ?? ''}${p.seriesName ?? ''}：${String(value)}`);
        }
        return lines.join('<br/>');
      },
    },
    legend: { data: [labels.reported, labels.closed], textStyle: { color: theme.dim }, top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 28 },
    xAxis: { type: 'category', data: axis, ...axisCommon(theme), axisLabel: { ...axisCommon(theme).axisLabel, color: (_: unknown, i: number) => (partial && i === partial.index ? theme.text : theme.dim) } },
    yAxis: { type: 'value', minInterval: 1, ...axisCommon(theme) },
    series: [
      { name: labels.reported, type: 'line', smooth: true, showSymbol: false, areaStyle: { opacity: 0.15 }, data: solid(reported) },
      { name: labels.closed, type: 'line', smooth: true, showSymbol: false, data: solid(closed) },
      ...(partial ? [partialSeries(labels.reported, reported, theme.series[0]), partialSeries(labels.closed, closed, theme.series[1])] : []),
    ],
  };
}

export function sourceOption(kpi: KpiSnapshot, sourceName: (id: string) => string, theme: ChartTheme = DARK) {
  const data = Object.entries(kpi.bySource)
    .sort((a, b) => b[1] - a[1])
    .map(([id, value]) => ({ id, name: sourceName(id), value }));
  return {
    animation: false,
    color: theme.series,
    tooltip: { trigger: 'item', formatter: '{b}：{c}（{d}%）' },
    legend: { orient: 'vertical', left: '66%', top: 'middle', textStyle: { color: theme.dim } },
    series: [{ type: 'pie', radius: ['45%', '72%'], center: ['33%', '50%'], label: { show: false }, data }],
    // Narrow panels (the emergency layout, portrait walls) put the legend under the ring instead of beside it.
    media: [
      {
        query: { maxWidth: 360 },
        option: {
          legend: { orient: 'horizontal', left: 'center', top: 'bottom', itemWidth: 12, itemGap: 6 },
          series: [{ radius: ['32%', '52%'], center: ['50%', '36%'] }],
        },
      },
    ],
  };
}

/** The top categories as horizontal bars; `ids` lets a click name the category for drill-down. */
export function categoryOption(kpi: KpiSnapshot, categoryName: (id: string) => string, top = 10, theme: ChartTheme = DARK) {
  const rows = Object.entries(kpi.byCategory)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .reverse();
  return {
    animation: false,
    color: [theme.series[0]],
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 90, right: 24, top: 8, bottom: 20 },
    xAxis: { type: 'value', minInterval: 1, ...axisCommon(theme) },
    yAxis: { type: 'category', data: rows.map(([id]) => categoryName(id)), ...axisCommon(theme) },
    series: [{ type: 'bar', barMaxWidth: 16, data: rows.map(([id, value]) => ({ value, id })) }],
  };
}

export interface RankingRow {
  districtId: string;
  name: string;
  score: number;
  reported: number;
  closed: number;
  overdue: number;
  closureRate: string;
  satisfactionRate: string;
}

/** 一周一统计 / 一月一通报: districts by composite score, best first. */
export function ranking(kpi: KpiSnapshot, districtName: (id: string) => string): RankingRow[] {
  return [...kpi.byDistrict]
    .sort((a, b) => b.score - a.score || a.districtId.localeCompare(b.districtId))
    .map((d) => ({
      districtId: d.districtId,
      name: districtName(d.districtId),
      score: d.score,
      reported: d.reported,
      closed: d.closed,
      overdue: d.overdue,
      closureRate: percent(d.closureRate.value),
      satisfactionRate: percent(d.satisfactionRate.value),
    }));
}

export function rankingOption(rows: readonly RankingRow[], theme: ChartTheme = DARK) {
  const ordered = [...rows].reverse();
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 72, right: 36, top: 8, bottom: 20 },
    xAxis: { type: 'value', max: 100, ...axisCommon(theme) },
    yAxis: { type: 'category', data: ordered.map((r) => r.name), ...axisCommon(theme) },
    series: [
      {
        type: 'bar',
        barMaxWidth: 18,
        label: { show: true, position: 'right', color: theme.text },
        data: ordered.map((r, i) => ({ value: r.score, id: r.districtId, itemStyle: { color: i === ordered.length - 1 ? theme.series[1] : theme.series[0] } })),
      },
    ],
  };
}
