/** The start every register table shares: its report, its columns found by their accepted headers, the first refusals. */
import type { GridLocator } from '../../domain';
import type { Grid, LonLat } from '../../protocol';
import type { ImportIssue, TableReport } from './report';
import { columnOf, type Table, type TableRow } from './table';

export type Aliases = Record<string, readonly string[]>;

export interface Started<K extends string> {
  report: TableReport;
  issues: ImportIssue[];
  /** Each column's index (-1: absent, allowed for optional ones); null when the file is refused already. */
  cols: Record<K, number> | null;
  error(row: TableRow, id: string | undefined, kind: ImportIssue['kind'], zh: string, en: string): void;
}

export function startTable<K extends string>(
  what: TableReport['what'],
  table: Table,
  file: string,
  columns: Record<K, readonly string[]>,
  required: readonly K[],
  labels: Record<K, string>,
  empty: { zh: string; en: string },
): Started<K> {
  const issues: ImportIssue[] = [...table.issues];
  const report: TableReport = { what, file, format: table.format, ...(table.encoding ? { encoding: table.encoding } : {}), rows: table.rows.length, counts: { added: 0, updated: 0, removed: 0 }, issues };
  const error = (row: TableRow, id: string | undefined, kind: ImportIssue['kind'], zh: string, en: string): void =>
    void issues.push({ severity: 'error', kind, line: row.line, ...(id ? { id } : {}), zh, en });
  if (issues.some((i) => i.severity === 'error')) return { report, issues, cols: null, error };
  const cols = Object.fromEntries(Object.entries(columns).map(([k, aliases]) => [k, columnOf(table.headers, aliases as readonly string[])])) as Record<K, number>;
  for (const key of required) {
    if (cols[key] < 0) issues.push({ severity: 'error', kind: 'missing-column', line: table.headerLine, zh: `缺少“${labels[key]}”列（可用列名：${columns[key].join('、')}）`, en: `no "${labels[key]}" column (accepted headers: ${columns[key].join(', ')})` });
  }
  if (issues.length > 0) return { report, issues, cols: null, error };
  if (table.rows.length === 0) {
    issues.push({ severity: 'error', kind: 'no-rows', zh: empty.zh, en: empty.en });
    return { report, issues, cols: null, error };
  }
  return { report, issues, cols, error };
}

/** A row's cell by column ('' when the column is absent). */
export const cellOf = <K extends string>(cols: Record<K, number>, row: TableRow) => (k: K): string => (cols[k] < 0 ? '' : (row.cells[cols[k]] ?? '').trim());

/** A whole number ≥ 0 written as digits (no sign, no decimals, no thousands separators other than , and space). */
export function countOf(text: string): number | null {
  const s = text.replace(/[,\s]/g, '');
  if (!/^\d{1,12}$/.test(s)) return null;
  return Number(s);
}

/**
 * A row's position (longitude and latitude cells, in the file's coordinates) converted to WGS84 and placed in the
 * grid that contains it; or why not: not degrees, or outside every grid (zh / en, for the row's error).
 */
export function placedAt(lonText: string, latText: string, convert: (p: LonLat) => LonLat, locator: GridLocator): { position: LonLat; grid: Grid } | { kind: 'bad-position' | 'outside-grids'; zh: string; en: string } {
  const [lon, lat] = [lonText === '' ? NaN : Number(lonText), latText === '' ? NaN : Number(latText)];
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
    return { kind: 'bad-position', zh: `经纬度“${lonText}, ${latText}”不是以度为单位的坐标`, en: `position "${lonText}, ${latText}" is not longitude/latitude in degrees` };
  }
  const [x, y] = convert([lon, lat]);
  const position: LonLat = [Math.round(x * 1e7) / 1e7, Math.round(y * 1e7) / 1e7];
  const grid = locator.at(position);
  if (!grid) return { kind: 'outside-grids', zh: `位置 ${position[0].toFixed(6)}, ${position[1].toFixed(6)}（WGS84）不在任何网格内`, en: `position ${position[0].toFixed(6)}, ${position[1].toFixed(6)} (WGS84) is outside every grid` };
  return { position, grid };
}
