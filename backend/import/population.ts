/**
 * 人: households and population per grid (网格编码, 户数, 人口), as the civil-affairs office counts them. The file
 * updates the Grid records' `households` and `population` in one change batch; grids not in the file keep
 * their values (a warning says how many).
 */
import { upsert, type CityState } from '../../domain';
import type { Change } from '../../protocol';
import type { Grid } from '../../protocol/model';
import { cellOf, countOf, startTable } from './columns';
import type { TableReport } from './report';
import type { Table } from './table';

export const POPULATION_COLUMNS = {
  grid: ['网格编码', '网格代码', 'gridCode', 'grid_code', 'grid', 'WGBM'],
  households: ['户数', '户', '住户数', 'households', 'HS'],
  population: ['人口', '人口数', '人数', '常住人口', 'population', 'RK'],
} as const;

export function buildPopulation(table: Table, state: CityState, file: string): { report: TableReport; changes: Change[] | null } {
  const { report, issues, cols, error } = startTable<keyof typeof POPULATION_COLUMNS>('population', table, file, POPULATION_COLUMNS, ['grid', 'households', 'population'], { grid: '网格编码', households: '户数', population: '人口' }, { zh: '文件中没有网格人口', en: 'the file has no rows' });
  if (!cols) return { report, changes: null };
  const byCode = new Map<string, Grid>();
  for (const g of state.collections.grids.values()) byCode.set(g.code, g);
  const seen = new Map<string, number>();
  const updated: Grid[] = [];
  for (const row of table.rows) {
    const cell = cellOf(cols, row);
    const code = cell('grid');
    const grid = byCode.get(code);
    let ok = true;
    if (!grid) {
      error(row, code || undefined, 'unknown-grid', `网格编码“${code}”不是已导入的网格`, `grid code "${code}" is not an imported grid`);
      ok = false;
    } else if (seen.has(code)) {
      error(row, code, 'duplicate-grid', `网格重复，与第${seen.get(code)}行相同`, `duplicate grid, also on line ${seen.get(code)}`);
      ok = false;
    } else seen.set(code, row.line);
    const households = countOf(cell('households'));
    const population = countOf(cell('population'));
    if (households === null) {
      error(row, code || undefined, 'bad-number', `户数“${cell('households')}”须为非负整数`, `households "${cell('households')}" must be a whole number ≥ 0`);
      ok = false;
    }
    if (population === null) {
      error(row, code || undefined, 'bad-number', `人口“${cell('population')}”须为非负整数`, `population "${cell('population')}" must be a whole number ≥ 0`);
      ok = false;
    }
    if (ok && grid && households !== null && population !== null) updated.push({ ...grid, households, population });
  }
  if (issues.some((i) => i.severity === 'error')) return { report, changes: null };
  const untouched = byCode.size - seen.size;
  if (untouched > 0) issues.push({ severity: 'warning', kind: 'not-in-file', zh: `${untouched} 个网格不在文件中，保留原有户数和人口`, en: `${untouched} grid(s) not in the file keep their households and population` });
  report.counts.updated = updated.length;
  return { report, changes: updated.map((g) => upsert('grids', g)) };
}
