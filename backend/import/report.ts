/**
 * What an import found, as a structured object (tests, a future UI) and as printed lines, every line in Chinese
 * and English. Errors refuse the whole file; warnings and notes do not.
 */
import type { Crs } from './crs';
import { CRS_LABEL } from './crs';

export type IssueKind =
  | 'file-too-large'
  | 'file-unreadable'
  | 'invalid-json'
  | 'not-feature-collection'
  | 'projected-crs'
  | 'no-features'
  | 'bad-geometry'
  | 'multi-part'
  | 'hole-dropped'
  | 'out-of-range'
  | 'too-many-points'
  | 'self-intersection'
  | 'missing-code'
  | 'bad-code'
  | 'duplicate-code'
  | 'parent-mismatch'
  | 'parent-name-differs'
  | 'overlap'
  | 'gap'
  | 'parent-in-parts'
  | 'crs-default'
  | 'crs-prj'
  // tables (staff, cameras)
  | 'bad-encoding'
  | 'no-rows'
  | 'missing-column'
  | 'missing-value'
  | 'bad-id'
  | 'duplicate-id'
  | 'unknown-grid'
  | 'bad-role'
  | 'bad-phone'
  | 'bad-number'
  | 'bad-position'
  | 'outside-grids'
  | 'bad-url'
  | 'has-open-events'
  // departments and the 权责清单
  | 'unknown-department'
  | 'bad-limit'
  | 'bad-level'
  | 'in-use'
  | 'plan-owner-removed'
  | 'answered-by-plan'
  // registers (population, places, persons)
  | 'duplicate-grid'
  | 'not-in-file'
  | 'bad-kind'
  | 'bad-category'
  | 'bad-id-number'
  | 'duplicate-id-number'
  // users whose district scope the imported grids no longer have
  | 'user-scope'
  // --parents: a grid outside its district's, street's or community's boundary
  | 'outside-parent'
  // the stored resources placed again in (or removed from) the imported grids
  | 'resources'
  // staff or cameras the store holds outside the imported grid they name
  | 'stray';

export interface ImportIssue {
  severity: 'error' | 'warning' | 'note';
  kind: IssueKind;
  /** 0-based index of the feature (GeoJSON) or record (Shapefile) it is about, when about one. */
  feature?: number;
  /** 1-based line in the file where that feature starts (GeoJSON), or of the JSON error. */
  line?: number;
  column?: number;
  /** The grid's code, when known. */
  code?: string;
  /** The row's record id (工号, camera id), when known. */
  id?: string;
  zh: string;
  en: string;
}

export interface ImportReport {
  file: string;
  format: 'geojson' | 'shapefile';
  crs: Crs;
  /** DBF text encoding (Shapefile). */
  encoding?: string;
  features: number;
  counts: { districts: number; streets: number; communities: number; grids: number };
  issues: ImportIssue[];
}

export const errorsOf = (r: ImportReport): ImportIssue[] => r.issues.filter((i) => i.severity === 'error');
export const warningsOf = (r: ImportReport): ImportIssue[] => r.issues.filter((i) => i.severity === 'warning');

const SEVERITY = { error: '错误 error', warning: '警告 warning', note: '说明 note' } as const;

function where(i: ImportIssue, format: ImportReport['format']): string {
  const parts: string[] = [];
  if (i.feature !== undefined) parts.push(format === 'shapefile' ? `第${i.feature + 1}条记录 record ${i.feature + 1}` : `第${i.feature + 1}个要素 feature #${i.feature}`);
  if (i.line !== undefined) parts.push(`第${i.line}行${i.column !== undefined ? `第${i.column}列` : ''} line ${i.line}${i.column !== undefined ? ` col ${i.column}` : ''}`);
  if (i.code !== undefined) parts.push(`网格编码 code ${i.code}`);
  return parts.length > 0 ? `[${parts.join(', ')}] ` : '';
}

/** The report as lines: where, reason in Chinese / English; a summary last. */
export function formatReport(r: ImportReport, outcome: 'imported' | 'dry-run' | 'refused', seq?: number): string[] {
  const lines = [
    `导入网格 importing grids: ${r.file} (${r.format === 'geojson' ? 'GeoJSON' : 'Shapefile'}${r.encoding ? `, DBF ${r.encoding}` : ''})`,
    `坐标系 coordinates: ${CRS_LABEL[r.crs].zh} / ${CRS_LABEL[r.crs].en}`,
  ];
  for (const i of r.issues) lines.push(`${SEVERITY[i.severity]}: ${where(i, r.format)}${i.zh} / ${i.en}`);
  const errors = errorsOf(r).length;
  const warnings = warningsOf(r).length;
  const { districts, streets, communities, grids } = r.counts;
  const found = `${r.features} 个要素 features → ${districts} 区县 districts, ${streets} 街道 streets, ${communities} 社区 communities, ${grids} 网格 grids`;
  if (outcome === 'refused') lines.push(`结果 result: ${errors} 个错误、${warnings} 个警告，未写入任何数据 / ${errors} error(s), ${warnings} warning(s): nothing written (${found})`);
  else if (outcome === 'dry-run') lines.push(`结果 result: 检查通过（试运行，未写入），${warnings} 个警告 / clean (dry run, nothing written), ${warnings} warning(s) (${found})`);
  else lines.push(`结果 result: 已导入，${warnings} 个警告，变更批次 ${seq} / imported, ${warnings} warning(s), change batch seq ${seq} (${found})`);
  return lines;
}

/** What a table import (staff, cameras) found. */
export interface TableReport {
  what: 'staff' | 'cameras' | 'departments' | 'rules' | 'population' | 'places' | 'persons';
  file: string;
  format: 'csv' | 'xlsx';
  /** The CSV's encoding as detected or given. */
  encoding?: string;
  /** Cameras: the coordinates' system. */
  crs?: Crs;
  rows: number;
  counts: { added: number; updated: number; removed: number };
  issues: ImportIssue[];
}

const WHAT = { staff: { zh: '网格员', en: 'staff' }, cameras: { zh: '摄像头', en: 'cameras' }, departments: { zh: '职能部门', en: 'departments' }, rules: { zh: '权责清单', en: 'responsibility rules' }, population: { zh: '网格人口', en: 'population per grid' }, places: { zh: '场所与组织', en: 'places and organisations' }, persons: { zh: '重点人员', en: 'key persons' } } as const;
const ID_LABEL = { staff: '工号 id', cameras: '编号 id', departments: '部门编码 code', rules: '事件类别 category', population: '网格编码 grid', places: '编码 code', persons: '身份号码 id' } as const;

function rowWhere(i: ImportIssue, what: TableReport['what']): string {
  const parts: string[] = [];
  if (i.line !== undefined) parts.push(`第${i.line}行 line ${i.line}`);
  if (i.id !== undefined) parts.push(`${ID_LABEL[what]} ${i.id}`);
  return parts.length > 0 ? `[${parts.join(', ')}] ` : '';
}

/** A table import's report as lines, like formatReport's. */
export function formatTableReport(r: TableReport, outcome: 'imported' | 'dry-run' | 'refused', seq?: number): string[] {
  const w = WHAT[r.what];
  const lines = [`导入${w.zh} importing ${w.en}: ${r.file} (${r.format === 'csv' ? `CSV, 编码 encoding ${r.encoding ?? '?'}` : 'XLSX'})`];
  if (r.crs) lines.push(`坐标系 coordinates: ${CRS_LABEL[r.crs].zh} / ${CRS_LABEL[r.crs].en}`);
  for (const i of r.issues) lines.push(`${SEVERITY[i.severity]}: ${rowWhere(i, r.what)}${i.zh} / ${i.en}`);
  const errors = r.issues.filter((i) => i.severity === 'error').length;
  const warnings = r.issues.filter((i) => i.severity === 'warning').length;
  const { added, updated, removed } = r.counts;
  const found = `${r.rows} 行 rows → 新增 ${added} added, 更新 ${updated} updated, 删除 ${removed} removed`;
  if (outcome === 'refused') lines.push(`结果 result: ${errors} 个错误、${warnings} 个警告，未写入任何数据 / ${errors} error(s), ${warnings} warning(s): nothing written (${r.rows} 行 rows)`);
  else if (outcome === 'dry-run') lines.push(`结果 result: 检查通过（试运行，未写入），${warnings} 个警告 / clean (dry run, nothing written), ${warnings} warning(s) (${found})`);
  else if (seq === undefined) lines.push(`结果 result: 已导入（登记表整体替换，不进入变更日志），${warnings} 个警告 / imported (the register replaced as a whole, outside the change log), ${warnings} warning(s) (${r.rows} 行 rows → ${added} 人 persons)`);
  else lines.push(`结果 result: 已导入，${warnings} 个警告，变更批次 ${seq} / imported, ${warnings} warning(s), change batch seq ${seq} (${found})`);
  return lines;
}
