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

export function trendOption(kpi: KpiSnapshot, labels: { reported: string; closed: string }, theme: ChartTheme = DARK) {
  return {
    animation: false,
    color: [theme.series[0], theme.series[1]],
    tooltip: { trigger: 'axis' },
    legend: { data: [labels.reported, labels.closed], textStyle: { color: theme.dim }, top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 28 },
    xAxis: { type: 'category', data: kpi.trend.map((p) => p.date.length === 10 ? p.date.slice(5) : p.date), ...axisCommon(theme) },
    yAxis: { type: 'value', minInterval: 1, ...axisCommon(theme) },
    series: [
      { name: labels.reported, type: 'line', smooth: true, showSymbol: false, areaStyle: { opacity: 0.15 }, data: kpi.trend.map((p) => p.reported) },
      { name: labels.closed, type: 'line', smooth: true, showSymbol: false, data: kpi.trend.map((p) => p.closed) },
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
