/**
 * The departments (职能部门) and the responsibility list (权责清单) from tables, checked all or nothing.
 *
 * Departments: 编码, 名称 and an optional 联络人账号 per row. A code already stored keeps its department's id (so
 * events assigned to it stay assigned); a new code gets the id `dept-<code>`. The city's departments become the
 * file's; one that is not in the file but still named by a rule, by an open event (its assignee, a co-handler or a
 * pending co-handling request) or by an open step of the current emergency plan is an error naming them.
 *
 * Rules: 事件类别编码, 事件类别名称, 部门编码 (a department of the file imported with them, or else of the store),
 * the five step limits in whole minutes and the handling level (网格/街道/区县/市). Stored with id = category.
 * The city's rules become the file's; a category left out while open events have it is an error naming them.
 */
import { upsert, type CityState } from '../../domain';
import type { Change } from '../../protocol';
import type { Department, ResponsibilityRule, StepLimits } from '../../protocol/model';
import type { ImportIssue, TableReport } from './report';
import { columnOf, type Table } from './table';

export const DEPARTMENT_COLUMNS = {
  code: ['编码', '部门编码', '单位编码', '代码', 'code', 'deptCode', 'department_code', 'BMBM'],
  name: ['名称', '部门名称', '单位名称', 'name', 'BMMC'],
  liaison: ['联络人账号', '联络人', '联络员账号', 'liaison', 'liaisonAccount', 'LLRZH'],
} as const;

export const RULE_COLUMNS = {
  category: ['事件类别编码', '类别编码', '事件类型编码', '事项编码', 'category', 'categoryCode', 'category_code', 'LBBM'],
  categoryName: ['事件类别名称', '类别名称', '事件类型名称', '事项名称', '名称', 'categoryName', 'category_name', 'LBMC'],
  department: ['部门编码', '责任部门编码', '主责部门编码', '责任部门', '部门', 'department', 'departmentCode', 'department_code', 'BMBM'],
  report: ['受理时限', '受理', '受理时限分钟', '受理（分钟）', 'report', 'reportLimit'],
  dispatch: ['派遣时限', '派遣', '派遣时限分钟', '派遣（分钟）', 'dispatch', 'dispatchLimit'],
  handle: ['处置时限', '处置', '处置时限分钟', '处置（分钟）', 'handle', 'handleLimit'],
  followup: ['回访时限', '回访', '回访时限分钟', '回访（分钟）', 'followup', 'followupLimit'],
  close: ['结案时限', '结案', '结案时限分钟', '结案（分钟）', 'close', 'closeLimit'],
  level: ['处置层级', '层级', '办理层级', 'level', 'handlingLevel', 'handling_level'],
} as const;

const DEPARTMENT_LABELS = { code: '编码', name: '名称', liaison: '联络人账号' } as const;
const RULE_LABELS = { category: '事件类别编码', categoryName: '事件类别名称', department: '部门编码', report: '受理时限', dispatch: '派遣时限', handle: '处置时限', followup: '回访时限', close: '结案时限', level: '处置层级' } as const;
const STEP_LABELS: Record<keyof StepLimits, { zh: string; en: string }> = {
  report: { zh: '受理', en: 'report (accept)' },
  dispatch: { zh: '派遣', en: 'dispatch' },
  handle: { zh: '处置', en: 'handle' },
  followup: { zh: '回访', en: 'follow-up' },
  close: { zh: '结案', en: 'close' },
};

export const LEVELS: Record<string, ResponsibilityRule['handlingLevel']> = {
  网格: 'grid',
  网格级: 'grid',
  社区: 'grid',
  街道: 'street',
  街道级: 'street',
  乡镇: 'street',
  镇街: 'street',
  区县: 'district',
  区县级: 'district',
  区: 'district',
  县: 'district',
  市: 'city',
  市级: 'city',
  grid: 'grid',
  street: 'street',
  district: 'district',
  city: 'city',
};

/** The longest limit taken: a year of minutes. */
export const MAX_LIMIT_MINUTES = 366 * 24 * 60;
const CODE = /^[\w.-]{1,40}$/;

/** A step limit: a positive whole number of minutes (≤ a year), or null. */
export function parseLimit(text: string): number | null {
  const s = text.trim();
  if (!/^\d+(\.0+)?$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) && n > 0 && n <= MAX_LIMIT_MINUTES ? n : null;
}

export function parseLevel(text: string): ResponsibilityRule['handlingLevel'] | null {
  return LEVELS[text.trim()] ?? LEVELS[text.trim().toLowerCase()] ?? null;
}

type Columns<K extends string> = Record<K, number>;

function columns<K extends string>(table: Table, spec: Record<K, readonly string[]>, labels: Record<K, string>, optional: readonly string[], issues: ImportIssue[]): Columns<K> | null {
  const cols = Object.fromEntries(Object.entries(spec).map(([k, aliases]) => [k, columnOf(table.headers, aliases as readonly string[])])) as Columns<K>;
  let ok = true;
  for (const key of Object.keys(cols) as K[]) {
    if (cols[key] >= 0 || optional.includes(key)) continue;
    const aliases = spec[key];
    issues.push({ severity: 'error', kind: 'missing-column', line: table.headerLine, zh: `缺少“${labels[key]}”列（可用列名：${aliases.join('、')}）`, en: `no "${labels[key]}" column (accepted headers: ${aliases.join(', ')})` });
    ok = false;
  }
  return ok ? cols : null;
}

function newReport(what: 'departments' | 'rules', table: Table, file: string): TableReport {
  return { what, file, format: table.format, ...(table.encoding ? { encoding: table.encoding } : {}), rows: table.rows.length, counts: { added: 0, updated: 0, removed: 0 }, issues: [...table.issues] };
}

const hasErrors = (r: TableReport): boolean => r.issues.some((i) => i.severity === 'error');
const listed = (ids: string[], sep: string): string => `${ids.slice(0, 10).join(sep)}${ids.length > 10 ? (sep === '、' ? ` 等 ${ids.length} 项` : ` (${ids.length} in all)`) : ''}`;

/** Departments' rows checked; the departments they give (or null on errors, which are in the report). */
export function checkDepartments(table: Table, state: CityState, report: TableReport): Department[] | null {
  const issues = report.issues;
  if (hasErrors(report)) return null;
  const cols = columns(table, DEPARTMENT_COLUMNS, DEPARTMENT_LABELS, ['liaison'], issues);
  if (!cols) return null;
  if (table.rows.length === 0) {
    issues.push({ severity: 'error', kind: 'no-rows', zh: '文件中没有部门', en: 'the file has no departments' });
    return null;
  }
  const byCode = new Map<string, Department>();
  for (const d of state.collections.departments.values()) byCode.set(d.code, d);
  const seen = new Map<string, number>();
  const out: Department[] = [];
  for (const row of table.rows) {
    const cell = (k: keyof typeof cols): string => (cols[k] >= 0 ? (row.cells[cols[k]] ?? '') : '');
    const error = (id: string | undefined, kind: ImportIssue['kind'], zh: string, en: string): void => void issues.push({ severity: 'error', kind, line: row.line, ...(id ? { id } : {}), zh, en });
    const code = cell('code');
    let ok = true;
    if (code === '') {
      error(undefined, 'missing-value', '部门编码为空', 'empty department code');
      ok = false;
    } else if (!CODE.test(code)) {
      error(code, 'bad-id', '部门编码只能含字母、数字和 _ . -，至多 40 个字符', 'a department code is letters, digits and _ . -, at most 40 characters');
      ok = false;
    } else if (seen.has(code)) {
      error(code, 'duplicate-id', `部门编码重复，与第${seen.get(code)}行相同`, `duplicate department code, also on line ${seen.get(code)}`);
      ok = false;
    } else seen.set(code, row.line);
    const name = cell('name');
    if (name === '') {
      error(code || undefined, 'missing-value', '部门名称为空', 'empty department name');
      ok = false;
    }
    const liaison = cell('liaison');
    if (liaison !== '' && !CODE.test(liaison)) {
      error(code || undefined, 'bad-id', `联络人账号“${liaison}”只能含字母、数字和 _ . -，至多 40 个字符`, `liaison account "${liaison}" is letters, digits and _ . -, at most 40 characters`);
      ok = false;
    }
    if (!ok) continue;
    const current = byCode.get(code);
    out.push({ id: current?.id ?? `dept-${code}`, code, name, ...(liaison !== '' ? { liaison } : {}) });
  }
  return hasErrors(report) ? null : out;
}

/** Rules' rows checked against the departments by code; the rules (or null on errors). */
export function checkRules(table: Table, departments: readonly Department[], report: TableReport): Array<ResponsibilityRule & { id: string }> | null {
  const issues = report.issues;
  if (hasErrors(report)) return null;
  const cols = columns(table, RULE_COLUMNS, RULE_LABELS, [], issues);
  if (!cols) return null;
  if (table.rows.length === 0) {
    issues.push({ severity: 'error', kind: 'no-rows', zh: '权责清单中没有事项', en: 'the responsibility list has no rows' });
    return null;
  }
  const byCode = new Map(departments.map((d) => [d.code, d]));
  const seen = new Map<string, number>();
  const out: Array<ResponsibilityRule & { id: string }> = [];
  for (const row of table.rows) {
    const cell = (k: keyof typeof cols): string => row.cells[cols[k]] ?? '';
    const category = cell('category');
    const error = (kind: ImportIssue['kind'], zh: string, en: string): void => void issues.push({ severity: 'error', kind, line: row.line, ...(category ? { id: category } : {}), zh, en });
    let ok = true;
    if (category === '') {
      error('missing-value', '事件类别编码为空', 'empty event category code');
      ok = false;
    } else if (!CODE.test(category)) {
      error('bad-id', '事件类别编码只能含字母、数字和 _ . -，至多 40 个字符', 'an event category code is letters, digits and _ . -, at most 40 characters');
      ok = false;
    } else if (seen.has(category)) {
      error('duplicate-id', `事件类别重复，与第${seen.get(category)}行相同`, `duplicate event category, also on line ${seen.get(category)}`);
      ok = false;
    } else seen.set(category, row.line);
    const categoryName = cell('categoryName');
    if (categoryName === '') {
      error('missing-value', '事件类别名称为空', 'empty event category name');
      ok = false;
    }
    const code = cell('department');
    const department = byCode.get(code);
    if (!department) {
      error('unknown-department', code === '' ? '部门编码为空' : `部门编码 ${code} 不是已有（或同时导入）的部门`, code === '' ? 'empty department code' : `department code ${code} is not one of the departments (stored or imported with it)`);
      ok = false;
    }
    const limits: Partial<StepLimits> = {};
    for (const step of ['report', 'dispatch', 'handle', 'followup', 'close'] as const) {
      const text = cell(step);
      const n = parseLimit(text);
      if (n === null) {
        error('bad-limit', `${STEP_LABELS[step].zh}时限“${text}”不是正整数分钟（1–${MAX_LIMIT_MINUTES}）`, `${STEP_LABELS[step].en} limit "${text}" is not a positive whole number of minutes (1–${MAX_LIMIT_MINUTES})`);
        ok = false;
      } else limits[step] = n;
    }
    const levelText = cell('level');
    const level = parseLevel(levelText);
    if (!level) {
      error('bad-level', `处置层级“${levelText}”不是 网格 / 街道 / 区县 / 市`, `handling level "${levelText}" is not 网格 / 街道 / 区县 / 市 (grid / street / district / city)`);
      ok = false;
    }
    if (!ok || !department || !level) continue;
    out.push({ id: category, category, categoryName, departmentId: department.id, limits: limits as StepLimits, handlingLevel: level });
  }
  return hasErrors(report) ? null : out;
}

const isOpen = (status: string): boolean => status !== 'closed' && status !== 'merged';

/** What still names a department: rules (of the city after the import), open events, open plan steps. */
export function departmentUses(state: CityState, departmentId: string, rules: Iterable<ResponsibilityRule>): { rules: string[]; events: string[]; planSteps: string[] } {
  const ruleIds: string[] = [];
  for (const r of rules) if (r.departmentId === departmentId) ruleIds.push(r.category);
  const events: string[] = [];
  for (const e of state.collections.events.values()) {
    if (!isOpen(e.status)) continue;
    if (e.assignee?.departmentId === departmentId || e.coHandlers.includes(departmentId) || e.coHandlingRequests.some((r) => r.departmentId === departmentId && r.state === 'pending')) events.push(e.id);
  }
  const planSteps: string[] = [];
  for (const level of state.collections.commandLevel.values()) for (const step of level.plan) if (step.ownerDepartmentId === departmentId && step.doneAt === null) planSteps.push(step.id);
  return { rules: ruleIds.sort(), events: events.sort(), planSteps: planSteps.sort() };
}

export interface DepartmentFiles {
  departments?: { table: Table; file: string };
  rules?: { table: Table; file: string };
}

/**
 * Plans `import departments` (with `--rules`) or `import rules` on the city as it is: the reports (one per file)
 * and the changes, or null when any file has an error.
 */
export function planDepartments(files: DepartmentFiles, state: CityState): { report: TableReport[]; changes: Change[] | null } {
  const deptReport = files.departments ? newReport('departments', files.departments.table, files.departments.file) : null;
  const ruleReport = files.rules ? newReport('rules', files.rules.table, files.rules.file) : null;
  const reports = [deptReport, ruleReport].filter((r): r is TableReport => r !== null);
  const departments = files.departments && deptReport ? checkDepartments(files.departments.table, state, deptReport) : [...state.collections.departments.values()];
  if (!departments) return { report: reports, changes: null };
  const rules = files.rules && ruleReport ? checkRules(files.rules.table, departments, ruleReport) : [...state.collections.rules.values()];
  if (!rules) return { report: reports, changes: null };

  const changes: Change[] = [];
  if (deptReport) {
    const keep = new Set(departments.map((d) => d.id));
    for (const existing of state.collections.departments.values()) {
      if (keep.has(existing.id)) continue;
      const uses = departmentUses(state, existing.id, rules);
      if (uses.rules.length + uses.events.length + uses.planSteps.length === 0) {
        changes.push({ op: 'remove', collection: 'departments', id: existing.id });
        continue;
      }
      const zh: string[] = [];
      const en: string[] = [];
      if (uses.rules.length > 0) {
        zh.push(`权责清单事件类别 ${listed(uses.rules, '、')}`);
        en.push(`the rules for categories ${listed(uses.rules, ', ')}`);
      }
      if (uses.events.length > 0) {
        zh.push(`未办结事件 ${listed(uses.events, '、')}`);
        en.push(`open events ${listed(uses.events, ', ')}`);
      }
      if (uses.planSteps.length > 0) {
        zh.push(`预案未完成步骤 ${listed(uses.planSteps, '、')}`);
        en.push(`open emergency plan steps ${listed(uses.planSteps, ', ')}`);
      }
      deptReport.issues.push({
        severity: 'error',
        kind: 'in-use',
        id: existing.code,
        zh: `${existing.name}（${existing.code}）不在文件中，但仍被${zh.join('，')}引用：请先改派或修改权责清单再删除`,
        en: `${existing.name} (${existing.code}) is not in the file but is still named by ${en.join('; ')}: reassign them or change the rules first`,
      });
    }
  }
  if (ruleReport) {
    const keep = new Set(rules.map((r) => r.category));
    const openByCategory = new Map<string, string[]>();
    for (const e of state.collections.events.values()) if (isOpen(e.status) && !keep.has(e.category)) openByCategory.set(e.category, [...(openByCategory.get(e.category) ?? []), e.id]);
    for (const existing of state.collections.rules.values()) {
      if (keep.has(existing.id)) continue;
      const open = (openByCategory.get(existing.category) ?? []).sort();
      if (open.length === 0) changes.push({ op: 'remove', collection: 'rules', id: existing.id });
      else
        ruleReport.issues.push({
          severity: 'error',
          kind: 'has-open-events',
          id: existing.category,
          zh: `事件类别 ${existing.categoryName}（${existing.category}）不在文件中，但仍有未办结事件 ${listed(open, '、')}：请先办结再删除`,
          en: `event category ${existing.categoryName} (${existing.category}) is not in the file but open events still have it: ${listed(open, ', ')}; close them first`,
        });
    }
  }
  if (reports.some(hasErrors)) return { report: reports, changes: null };
  for (const c of changes) {
    if (c.op !== 'remove') continue;
    if (c.collection === 'departments' && deptReport) deptReport.counts.removed++;
    if (c.collection === 'rules' && ruleReport) ruleReport.counts.removed++;
  }
  if (deptReport && files.departments)
    for (const d of departments) {
      deptReport.counts[state.get('departments', d.id) ? 'updated' : 'added']++;
      changes.push(upsert('departments', d));
    }
  if (ruleReport && files.rules)
    for (const r of rules) {
      ruleReport.counts[state.get('rules', r.id) ? 'updated' : 'added']++;
      changes.push(upsert('rules', r));
    }
  return { report: reports, changes };
}
