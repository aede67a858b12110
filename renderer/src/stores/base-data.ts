/**
 * 基础数据 (administrators): the departments and the 权责清单 as the hub shows them (pending edits included), the
 * administrator's refused edits from the outbox, and the form checks run before a command is sent — the
 * domain's own checks (domain/base-data.ts), so the console refuses what the backend would, in the same words.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref } from 'vue';
import { BASE_DATA_COMMANDS, STEPS, categoryCodeProblem, departmentCodeProblem, isLimit, liaisonProblem, limitProblem, type Problem } from '../../../domain';
import type { CommandType, Department, OutboxEntry, ResponsibilityRule, StepLimits, ViewRow } from '../../../protocol';
import { useRowsStore } from '../data';
import { toUserFacingError, useHubStore } from './hub';

export type DepartmentRow = ViewRow<'departments'>;
export type RuleRow = ViewRow<'rules'>;
export type PlanRow = ViewRow<'plans'>;

export interface DepartmentForm {
  id: string | null;
  code: string;
  name: string;
  liaison: string;
}
export interface RuleForm {
  /** The category being edited (its code is the rule's id and cannot change), or null for a new rule. */
  editing: string | null;
  category: string;
  categoryName: string;
  departmentId: string;
  limits: Record<keyof StepLimits, string>;
  handlingLevel: ResponsibilityRule['handlingLevel'];
}

/** Problems by field name; empty when the form may be sent. */
export type FormProblems = Record<string, Problem>;

const isBaseData = (type: string): boolean => (BASE_DATA_COMMANDS as readonly string[]).includes(type as CommandType);

export function checkDepartmentForm(form: DepartmentForm, departments: Iterable<Department>): FormProblems {
  const out: FormProblems = {};
  const code = form.code.trim();
  const codeProblem = departmentCodeProblem(code);
  if (codeProblem) out.code = codeProblem;
  else
    for (const d of departments)
      if (d.code === code && d.id !== form.id) out.code = { zh: `部门编码 ${code} 已被 ${d.name} 使用，编码不能重复`, en: `department code ${code} is already ${d.name}'s` };
  if (form.name.trim() === '') out.name = { zh: '部门名称为空', en: 'empty department name' };
  else if (form.name.trim().length > 100) out.name = { zh: '部门名称至多 100 个字', en: 'a department name is at most 100 characters' };
  const liaison = liaisonProblem(form.liaison.trim());
  if (liaison) out.liaison = liaison;
  return out;
}

export function checkRuleForm(form: RuleForm, rules: ReadonlyMap<string, ResponsibilityRule>, departments: ReadonlyMap<string, Department>): FormProblems {
  const out: FormProblems = {};
  const category = form.category.trim();
  const categoryProblem = categoryCodeProblem(category);
  if (categoryProblem) out.category = categoryProblem;
  else if (form.editing === null && rules.has(category)) out.category = { zh: `事件类别 ${category} 已在权责清单中，请编辑该行`, en: `category ${category} is already in the list; edit its row` };
  if (form.categoryName.trim() === '') out.categoryName = { zh: '事件类别名称为空', en: 'empty event category name' };
  if (!departments.has(form.departmentId)) out.departmentId = { zh: '请选择责任部门', en: 'choose the responsible department' };
  for (const step of STEPS) {
    const text = form.limits[step].trim();
    if (!/^\d+$/.test(text) || !isLimit(Number(text))) out[step] = limitProblem(step, text);
  }
  return out;
}

export const useBaseDataStore = defineStore('base-data', () => {
  const hub = useHubStore();
  const data = useRowsStore();
  const version = ref(0);
  const loading = ref(true);
  let departments: ReadonlyMap<string, DepartmentRow> = markRaw(new Map());
  let rules: ReadonlyMap<string, RuleRow> = markRaw(new Map());
  let outbox: ReadonlyMap<string, OutboxEntry> = markRaw(new Map());
  let plans: ReadonlyMap<string, PlanRow> = markRaw(new Map());
  const stops: Array<() => Promise<void>> = [];

  async function start(): Promise<void> {
    if (!hub.api || stops.length > 0) return;
    const bump = (): void => void version.value++;
    try {
      stops.push(await data.read({ topic: 'collection', collection: 'departments' }, (rows) => ((departments = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'rules' }, (rows) => ((rules = rows), bump())));
      stops.push(await data.read({ topic: 'outbox' }, (rows) => ((outbox = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'plans' }, (rows) => ((plans = rows), bump())));
    } catch (e) {
      hub.error = toUserFacingError(e);
    }
    loading.value = false;
  }

  async function stop(): Promise<void> {
    await Promise.allSettled(stops.splice(0).map((s) => s()));
  }

  const departmentList = computed(() => (version.value, [...departments.values()].sort((a, b) => a.code.localeCompare(b.code))));
  const ruleList = computed(() => (version.value, [...rules.values()].sort((a, b) => a.category.localeCompare(b.category))));
  const departmentMap = computed(() => (version.value, departments));
  const ruleMap = computed(() => (version.value, rules));
  /** 应急预案: the general plan (no categories) first, then by title. */
  const planList = computed(() => (version.value, [...plans.values()].sort((a, b) => Number(a.categories.length > 0) - Number(b.categories.length > 0) || a.title.localeCompare(b.title, 'zh-CN'))));
  /** How many rules name each department. */
  const ruleCounts = computed(() => {
    void version.value;
    const counts = new Map<string, number>();
    for (const r of rules.values()) counts.set(r.departmentId, (counts.get(r.departmentId) ?? 0) + 1);
    return counts;
  });
  /** The base-data edits the backend refused, newest first, with its reason. */
  const refused = computed(() => (version.value, [...outbox.values()].filter((e) => e.status !== 'pending' && isBaseData(e.type)).sort((a, b) => b.queuedAt.localeCompare(a.queuedAt))));
  const pendingCount = computed(() => (version.value, [...outbox.values()].filter((e) => e.status === 'pending' && isBaseData(e.type)).length));

  async function discard(commandId: string): Promise<void> {
    try {
      await hub.api?.discardCommand(commandId);
    } catch (e) {
      hub.error = toUserFacingError(e);
    }
  }

  return { loading, start, stop, departmentList, ruleList, departmentMap, ruleMap, planList, ruleCounts, refused, pendingCount, discard };
});
