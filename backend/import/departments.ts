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
 * The checks are the domain's (domain/base-data.ts), shared with the administrator's 基础数据 commands.
 */
import { upsert, type CityState } from '../../domain';
import { STEPS, categoryCodeProblem, departmentCodeProblem, departmentUses, describeUses, levelProblem, limitProblem, liaisonProblem, listed, newDepartmentId, openEventsOfCategory, parseLevel, parseLimit } from '../../domain';
import type { Change } from '../../protocol';
import type { Department, ResponsibilityRule, StepLimits } from '../../protocol/model';
import type { Plan } from '../../protocol/plans';
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

// The checks themselves are the domain's: an administrator's edits in the console pass the same ones.
export { LEVELS, MAX_LIMIT_MINUTES, parseLevel, parseLimit } from '../../domain';

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
    const codeProblem = departmentCodeProblem(code);
    if (codeProblem) {
      error(code || undefined, code === '' ? 'missing-value' : 'bad-id', codeProblem.zh, codeProblem.en);
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
    const liaisonIssue = liaisonProblem(liaison);
    if (liaisonIssue) {
      error(code || undefined, 'bad-id', liaisonIssue.zh, liaisonIssue.en);
      ok = false;
    }
    if (!ok) continue;
    const current = byCode.get(code);
    // A new code's id is dept-<code>, unless a department whose code was changed in the console still has it.
    const id = current?.id ?? newDepartmentId((taken) => state.get('departments', taken) !== undefined || out.some((d) => d.id === taken), code);
    out.push({ id, code, name, ...(liaison !== '' ? { liaison } : {}) });
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
    const categoryIssue = categoryCodeProblem(category);
    if (categoryIssue) {
      error(category === '' ? 'missing-value' : 'bad-id', categoryIssue.zh, categoryIssue.en);
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
    for (const step of STEPS) {
      const text = cell(step);
      const n = parseLimit(text);
      if (n === null) {
        const p = limitProblem(step, text);
        error('bad-limit', p.zh, p.en);
        ok = false;
      } else limits[step] = n;
    }
    const levelText = cell('level');
    const level = parseLevel(levelText);
    if (!level) {
      const p = levelProblem(levelText);
      error('bad-level', p.zh, p.en);
      ok = false;
    }
    if (!ok || !department || !level) continue;
    out.push({ id: category, category, categoryName, departmentId: department.id, limits: limits as StepLimits, handlingLevel: level });
  }
  return hasErrors(report) ? null : out;
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
      // Plans do not hold an import up (a city's first import replaces the generated departments the seeded plans
      // name): their steps are said, to be given owners in 基础数据 → 应急预案 (plan.save refuses a missing one).
      const all = departmentUses(state, existing.id, rules);
      const uses = describeUses({ ...all, plans: [] });
      if (!uses) {
        changes.push({ op: 'remove', collection: 'departments', id: existing.id });
        if (all.plans.length > 0) {
          deptReport.issues.push({
            severity: 'warning',
            kind: 'plan-owner-removed',
            id: existing.code,
            zh: `${existing.name}（${existing.code}）已删除；应急预案 ${listed(all.plans, '、')} 仍有步骤由它负责，请在 基础数据 → 应急预案 中改派`,
            en: `${existing.name} (${existing.code}) is removed; steps of the emergency plans ${listed(all.plans, ', ')} still name it: give them owners in 基础数据 → 应急预案`,
          });
        }
        continue;
      }
      deptReport.issues.push({
        severity: 'error',
        kind: 'in-use',
        id: existing.code,
        zh: `${existing.name}（${existing.code}）不在文件中，但仍被${uses.zh}引用：请先改派或修改权责清单再删除`,
        en: `${existing.name} (${existing.code}) is not in the file but is still named by ${uses.en}: reassign them or change the rules first`,
      });
    }
  }
  if (ruleReport) {
    const keep = new Set(rules.map((r) => r.category));
    // Plans answering a removed category stop answering it (in the same batch), as the departments' plans keep going.
    const replanned = new Map<string, Plan>();
    for (const existing of state.collections.rules.values()) {
      if (keep.has(existing.id)) continue;
      const open = openEventsOfCategory(state, existing.category);
      if (open.length > 0) {
        ruleReport.issues.push({
          severity: 'error',
          kind: 'has-open-events',
          id: existing.category,
          zh: `事件类别 ${existing.categoryName}（${existing.category}）不在文件中，但仍有未办结事件 ${listed(open, '、')}：请先办结再删除`,
          en: `event category ${existing.categoryName} (${existing.category}) is not in the file but open events still have it: ${listed(open, ', ')}; close them first`,
        });
        continue;
      }
      changes.push({ op: 'remove', collection: 'rules', id: existing.id });
      for (const plan of state.collections.plans.values()) {
        const now = replanned.get(plan.id) ?? plan;
        if (now.categories.includes(existing.category)) replanned.set(plan.id, { ...now, categories: now.categories.filter((c) => c !== existing.category) });
      }
    }
    for (const plan of replanned.values()) {
      const before = state.collections.plans.get(plan.id)!;
      const gone = before.categories.filter((c) => !plan.categories.includes(c));
      // A special plan left with no category would become a second general plan: it goes (it answers nothing here).
      const removed = plan.categories.length === 0;
      changes.push(removed ? { op: 'remove', collection: 'plans', id: plan.id } : upsert('plans', plan));
      ruleReport.issues.push({
        severity: 'warning',
        kind: 'answered-by-plan',
        id: plan.id,
        zh: removed ? `应急预案「${plan.title}」只应对已删除的事件类别 ${gone.join('、')}，已一并删除` : `应急预案「${plan.title}」不再应对已删除的事件类别 ${gone.join('、')}`,
        en: removed ? `emergency plan "${plan.title}" answered only the removed categories ${gone.join(', ')}: it is removed too` : `emergency plan "${plan.title}" no longer answers the removed categories ${gone.join(', ')}`,
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
