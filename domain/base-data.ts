/**
 * 基础数据: the checks the departments (职能部门) and the responsibility list (权责清单) pass, whether they come
 * from a file (`backend/import/departments.ts`) or from an administrator's command in the console
 * (`commands/base-data.ts`): code formats, step limits, handling levels, and what still names a department or an
 * event category (so that it cannot be removed). Messages in Chinese and English, naming the detail.
 */
import type { CollectionName, CollectionTypes, Department, ResponsibilityRule, StepLimits } from '../protocol';

/** What the checks read: every row of a collection (the backend's state, or the hub's view of it). */
export interface RowSource {
  all<C extends CollectionName>(collection: C): Iterable<CollectionTypes[C]>;
}

export interface Problem {
  zh: string;
  en: string;
}

/** A department code, an event category code, a liaison account. */
export const CODE_PATTERN = /^[\w.-]{1,40}$/;
/** The longest limit taken: a year of minutes. */
export const MAX_LIMIT_MINUTES = 366 * 24 * 60;
export const STEPS = ['report', 'dispatch', 'handle', 'followup', 'close'] as const satisfies ReadonlyArray<keyof StepLimits>;

export const STEP_LABELS: Record<keyof StepLimits, Problem> = {
  report: { zh: '受理', en: 'report (accept)' },
  dispatch: { zh: '派遣', en: 'dispatch' },
  handle: { zh: '处置', en: 'handle' },
  followup: { zh: '回访', en: 'follow-up' },
  close: { zh: '结案', en: 'close' },
};

export const LEVEL_LABELS: Record<ResponsibilityRule['handlingLevel'], string> = { grid: '网格', street: '街道', district: '区县', city: '市' };

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

/** A step limit: a positive whole number of minutes (≤ a year), or null. */
export function parseLimit(text: string): number | null {
  const s = text.trim();
  if (!/^\d+(\.0+)?$/.test(s)) return null;
  const n = Number(s);
  return isLimit(n) ? n : null;
}

export function isLimit(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && n <= MAX_LIMIT_MINUTES;
}

export function parseLevel(text: string): ResponsibilityRule['handlingLevel'] | null {
  return LEVELS[text.trim()] ?? LEVELS[text.trim().toLowerCase()] ?? null;
}

export function departmentCodeProblem(code: string): Problem | null {
  if (code === '') return { zh: '部门编码为空', en: 'empty department code' };
  if (!CODE_PATTERN.test(code)) return { zh: `部门编码“${code}”只能含字母、数字和 _ . -，至多 40 个字符`, en: `department code "${code}": letters, digits and _ . -, at most 40 characters` };
  return null;
}

export function liaisonProblem(liaison: string): Problem | null {
  if (liaison === '' || CODE_PATTERN.test(liaison)) return null;
  return { zh: `联络人账号“${liaison}”只能含字母、数字和 _ . -，至多 40 个字符`, en: `liaison account "${liaison}" is letters, digits and _ . -, at most 40 characters` };
}

export function categoryCodeProblem(category: string): Problem | null {
  if (category === '') return { zh: '事件类别编码为空', en: 'empty event category code' };
  if (!CODE_PATTERN.test(category)) return { zh: `事件类别编码“${category}”只能含字母、数字和 _ . -，至多 40 个字符`, en: `event category code "${category}": letters, digits and _ . -, at most 40 characters` };
  return null;
}

export function limitProblem(step: keyof StepLimits, value: string): Problem {
  return {
    zh: `${STEP_LABELS[step].zh}时限“${value}”不是正整数分钟（1–${MAX_LIMIT_MINUTES}）`,
    en: `${STEP_LABELS[step].en} limit "${value}" is not a positive whole number of minutes (1–${MAX_LIMIT_MINUTES})`,
  };
}

export function levelProblem(text: string): Problem {
  return { zh: `处置层级“${text}”不是 网格 / 街道 / 区县 / 市`, en: `handling level "${text}" is not 网格 / 街道 / 区县 / 市 (grid / street / district / city)` };
}

/** The department with this code other than `exceptId`, if any: a code names one department. */
export function departmentWithCode(rows: RowSource, code: string, exceptId?: string): Department | undefined {
  for (const d of rows.all('departments')) if (d.code === code && d.id !== exceptId) return d;
  return undefined;
}

/** A new department's id: `dept-<code>`, or with a number after it when that id is taken (a renamed code's). */
export function newDepartmentId(taken: (id: string) => boolean, code: string): string {
  let id = `dept-${code}`;
  for (let n = 2; taken(id); n++) id = `dept-${code}-${n}`;
  return id;
}

const isOpen = (status: string): boolean => status !== 'closed' && status !== 'merged';

export interface DepartmentUses {
  rules: string[];
  events: string[];
  planSteps: string[];
  /** The plan records (应急预案) with a step this department owns. */
  plans: string[];
}

/**
 * What still names a department: rules (those given, e.g. the city's after an import), open events (assignee,
 * co-handler or a pending co-handling request) and open steps of the current emergency plan.
 */
export function departmentUses(rows: RowSource, departmentId: string, rules: Iterable<ResponsibilityRule>): DepartmentUses {
  const ruleIds: string[] = [];
  for (const r of rules) if (r.departmentId === departmentId) ruleIds.push(r.category);
  const events: string[] = [];
  for (const e of rows.all('events')) {
    if (!isOpen(e.status)) continue;
    if (e.assignee?.departmentId === departmentId || e.coHandlers.includes(departmentId) || e.coHandlingRequests.some((r) => r.departmentId === departmentId && r.state === 'pending')) events.push(e.id);
  }
  const planSteps: string[] = [];
  for (const level of rows.all('commandLevel')) for (const step of level.plan) if (step.ownerDepartmentId === departmentId && step.doneAt === null) planSteps.push(step.id);
  const plans: string[] = [];
  for (const plan of rows.all('plans')) if (plan.steps.some((step) => step.ownerDepartmentId === departmentId)) plans.push(plan.id);
  return { rules: ruleIds.sort(), events: events.sort(), planSteps: planSteps.sort(), plans: plans.sort() };
}

/** The open events of one event category, by id. */
export function openEventsOfCategory(rows: RowSource, category: string): string[] {
  const ids: string[] = [];
  for (const e of rows.all('events')) if (e.category === category && isOpen(e.status)) ids.push(e.id);
  return ids.sort();
}

/** Ten ids and how many in all. */
export function listed(ids: readonly string[], sep: '、' | ', '): string {
  return `${ids.slice(0, 10).join(sep)}${ids.length > 10 ? (sep === '、' ? ` 等 ${ids.length} 项` : ` (${ids.length} in all)`) : ''}`;
}

/** What names a department, in words ("权责清单事件类别 …，未办结事件 …"), or null when nothing does. */
export function describeUses(uses: DepartmentUses): Problem | null {
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
  if (uses.plans.length > 0) {
    zh.push(`应急预案 ${listed(uses.plans, '、')} 的步骤`);
    en.push(`steps of the emergency plans ${listed(uses.plans, ', ')}`);
  }
  return zh.length === 0 ? null : { zh: zh.join('，'), en: en.join('; ') };
}
