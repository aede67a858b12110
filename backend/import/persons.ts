/**
 * 重点人员 / 特殊群体: the register of people under the community's attention and of vulnerable groups (姓名,
 * 公民身份号码, 类别, 网格编码, 地址, 联系电话, 关注等级, 备注). Personal data: it is not a replicated collection but
 * a table of the store (replaceKeyPersons), the whole register replaced by the file, all or nothing. The report
 * never prints a whole ID number or phone: rows are named by line and masked ID.
 */
import { idNumberProblem, maskIdNumber, type CityState } from '../../domain';
import { KEY_PERSON_CATEGORY_LABELS, KeyPersonCategory, type KeyPerson } from '../../protocol';
import type { Grid } from '../../protocol/model';
import { cellOf, startTable } from './columns';
import type { TableReport } from './report';
import { normalisePhone } from './roster';
import type { Table } from './table';

export const PERSON_COLUMNS = {
  id: ['编号', '人员编号', 'id', 'BH'],
  name: ['姓名', '名字', 'name', 'XM'],
  idNumber: ['公民身份号码', '身份证号', '身份证号码', '身份证', 'idNumber', 'id_number', 'SFZH'],
  category: ['类别', '人员类别', '类型', 'category', 'type', 'LB'],
  grid: ['网格编码', '所属网格编码', '网格', 'gridCode', 'grid_code', 'grid', 'WGBM'],
  address: ['地址', '居住地址', '现住址', 'address', 'DZ'],
  phone: ['联系电话', '电话', '手机', '手机号码', 'phone', 'mobile', 'LXDH'],
  level: ['关注等级', '等级', '管控等级', 'level', 'GZDJ'],
  note: ['备注', 'note', 'remark', 'BZ'],
} as const;
type Col = keyof typeof PERSON_COLUMNS;
const LABEL: Record<Col, string> = { id: '编号', name: '姓名', idNumber: '公民身份号码', category: '类别', grid: '网格编码', address: '地址', phone: '联系电话', level: '关注等级', note: '备注' };

const CATEGORIES = new Map<string, KeyPersonCategory>();
for (const c of KeyPersonCategory.options) {
  CATEGORIES.set(c, c);
  CATEGORIES.set(KEY_PERSON_CATEGORY_LABELS[c].zh, c);
}
for (const [text, c] of Object.entries({ 刑释人员: 'released', 刑满释放: 'released', 社区矫正人员: 'community-correction', 社区矫正: 'community-correction', 吸毒: 'drug-user', 精神障碍患者: 'mental-illness', 严重精神障碍: 'mental-illness', 上访人员: 'petitioner', 重点信访人员: 'petitioner', 邪教: 'cult', 空巢老人: 'elderly-alone', 残障人士: 'disabled', 低保: 'subsistence', 低保对象: 'subsistence' } as const)) CATEGORIES.set(text, c);

const LEVELS: Record<string, number> = { '1': 1, '2': 2, '3': 3, 一级: 1, 二级: 2, 三级: 3, 一: 1, 二: 2, 三: 3 };

export function buildPersons(table: Table, state: CityState, file: string): { report: TableReport; rows: KeyPerson[] | null } {
  const { report, issues, cols, error } = startTable<Col>('persons', table, file, PERSON_COLUMNS, ['name', 'idNumber', 'category', 'grid'], LABEL, { zh: '文件中没有人员', en: 'the file has no rows' });
  if (!cols) return { report, rows: null };
  const byCode = new Map<string, Grid>();
  for (const g of state.collections.grids.values()) byCode.set(g.code, g);
  const seenId = new Map<string, number>();
  const seenRow = new Map<string, number>();
  const rows: KeyPerson[] = [];
  for (const [index, row] of table.rows.entries()) {
    const cell = cellOf(cols, row);
    const idNumber = cell('idNumber').toUpperCase();
    const shown = idNumber === '' ? undefined : maskIdNumber(idNumber);
    let ok = true;
    const problem = idNumberProblem(idNumber);
    if (problem) {
      error(row, shown, 'bad-id-number', `公民身份号码 ${shown ?? '（空）'} ${problem.zh}`, `ID number ${shown ?? '(empty)'} ${problem.en}`);
      ok = false;
    } else if (seenId.has(idNumber)) {
      error(row, shown, 'duplicate-id-number', `公民身份号码重复，与第${seenId.get(idNumber)}行相同`, `duplicate ID number, also on line ${seenId.get(idNumber)}`);
      ok = false;
    } else seenId.set(idNumber, row.line);
    const id = cell('id') || `kp${String(index + 1).padStart(6, '0')}`;
    if (!/^[\w.-]{1,64}$/u.test(id)) {
      error(row, shown, 'bad-id', `编号“${id.slice(0, 64)}”须为 1–64 个字母、数字、点、横线或下划线`, `id "${id.slice(0, 64)}" must be 1–64 letters, digits, dots, dashes or underscores`);
      ok = false;
    } else if (seenRow.has(id)) {
      error(row, shown, 'duplicate-id', `编号“${id}”重复，与第${seenRow.get(id)}行相同`, `duplicate id "${id}", also on line ${seenRow.get(id)}`);
      ok = false;
    } else seenRow.set(id, row.line);
    const name = cell('name');
    if (name === '') {
      error(row, shown, 'missing-value', '姓名为空', 'empty name');
      ok = false;
    }
    const category = CATEGORIES.get(cell('category')) ?? CATEGORIES.get(cell('category').toLowerCase());
    if (!category) {
      const known = KeyPersonCategory.options.map((c) => KEY_PERSON_CATEGORY_LABELS[c].zh).join('、');
      error(row, shown, 'bad-category', `类别“${cell('category')}”不认识（可用：${known}）`, `unknown category "${cell('category')}" (known: ${KeyPersonCategory.options.join(', ')})`);
      ok = false;
    }
    const grid = byCode.get(cell('grid'));
    if (!grid) {
      error(row, shown, 'unknown-grid', `网格编码“${cell('grid')}”不是已导入的网格`, `grid code "${cell('grid')}" is not an imported grid`);
      ok = false;
    }
    const phoneText = cell('phone');
    const phone = phoneText === '' ? '' : normalisePhone(phoneText);
    if (phone === null) {
      // The number itself stays out of the report (it may be a real one, mistyped).
      error(row, shown, 'bad-phone', `联系电话不是手机号或固定电话（${phoneText.length} 个字符）`, `the phone is not a mobile or landline number (${phoneText.length} characters)`);
      ok = false;
    }
    const level = cell('level') === '' ? 3 : LEVELS[cell('level')];
    if (level === undefined) {
      error(row, shown, 'bad-level', `关注等级“${cell('level')}”须为 1、2 或 3`, `level "${cell('level')}" must be 1, 2 or 3`);
      ok = false;
    }
    if (!ok || !category || !grid || phone === null || level === undefined) continue;
    rows.push({ id, name, idNumber, category, gridId: grid.id, address: cell('address'), phone, level, note: cell('note') });
  }
  if (issues.some((i) => i.severity === 'error')) return { report, rows: null };
  report.counts.added = rows.length;
  return { report, rows };
}
