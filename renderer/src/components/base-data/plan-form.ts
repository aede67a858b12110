/**
 * The plan editor's form (应急预案): a plan as the administrator edits it (quantities as typed), checked before it
 * is sent with the same rules the backend applies (domain/commands/plans.ts), turned into plan.save's payload.
 */
import { PLAN_LIMITS, type Plan } from '../../../../protocol';
import type { Problem } from '../../../../domain';

export interface ResourceForm {
  key: number;
  name: string;
  quantity: string;
  unit: string;
}
export interface StepForm {
  key: number;
  text: string;
  ownerDepartmentId: string;
  resources: ResourceForm[];
}
export interface PlanForm {
  id: string | null;
  title: string;
  categories: string[];
  steps: StepForm[];
}

let nextKey = 1;
export const newKey = (): number => nextKey++;

export function emptyStep(): StepForm {
  return { key: newKey(), text: '', ownerDepartmentId: '', resources: [] };
}

export function formOf(plan: Plan | null): PlanForm {
  if (!plan) return { id: null, title: '', categories: [], steps: [emptyStep()] };
  return {
    id: plan.id,
    title: plan.title,
    categories: [...plan.categories],
    steps: plan.steps.map((s) => ({ key: newKey(), text: s.text, ownerDepartmentId: s.ownerDepartmentId, resources: s.resources.map((r) => ({ key: newKey(), name: r.name, quantity: String(r.quantity), unit: r.unit })) })),
  };
}

/** Moves the step at index by delta (−1 up, +1 down) when it can. */
export function moveStep(steps: StepForm[], index: number, delta: -1 | 1): void {
  const to = index + delta;
  if (to < 0 || to >= steps.length) return;
  const [step] = steps.splice(index, 1);
  steps.splice(to, 0, step!);
}

/** Problems by field ('title', 'steps', 'step-<n>', 'owner-<n>', 'resource-<n>'); empty when the form may be sent. */
export function checkPlanForm(form: PlanForm, departments: ReadonlyMap<string, unknown>): Record<string, Problem> {
  const out: Record<string, Problem> = {};
  if (form.title.trim() === '') out.title = { zh: '预案名称为空', en: 'empty plan title' };
  if (form.steps.length === 0) out.steps = { zh: '至少要有一个步骤', en: 'a plan has at least one step' };
  else if (form.steps.length > PLAN_LIMITS.steps) out.steps = { zh: `预案至多 ${PLAN_LIMITS.steps} 个步骤（现有 ${form.steps.length} 个），请合并或删除步骤`, en: `a plan has at most ${PLAN_LIMITS.steps} steps (this one has ${form.steps.length})` };
  form.steps.forEach((step, i) => {
    if (step.text.trim() === '') out[`step-${i}`] = { zh: `第 ${i + 1} 步没有内容`, en: `step ${i + 1} is empty` };
    if (!departments.has(step.ownerDepartmentId)) out[`owner-${i}`] = { zh: `请为第 ${i + 1} 步选择责任部门`, en: `choose the department owning step ${i + 1}` };
    const names = new Set<string>();
    for (const r of step.resources) {
      const name = r.name.trim();
      const quantity = Number(r.quantity.trim());
      if (name === '') out[`resource-${i}`] = { zh: `第 ${i + 1} 步有未填名称的资源`, en: `step ${i + 1} has a resource without a name` };
      else if (!/^\d+$/.test(r.quantity.trim()) || quantity < 1 || quantity > 100_000) out[`resource-${i}`] = { zh: `第 ${i + 1} 步「${name}」的数量应为 1 到 100000 的整数`, en: `the quantity of ${name} in step ${i + 1} is a whole number from 1 to 100000` };
      else if (names.has(name)) out[`resource-${i}`] = { zh: `第 ${i + 1} 步的资源「${name}」重复列出，请合并数量`, en: `${name} is listed twice in step ${i + 1}` };
      names.add(name);
    }
    if (step.resources.length > PLAN_LIMITS.resourcesPerStep && !out[`resource-${i}`]) out[`resource-${i}`] = { zh: `第 ${i + 1} 步至多列 ${PLAN_LIMITS.resourcesPerStep} 项资源（现有 ${step.resources.length} 项），请合并或删除`, en: `step ${i + 1} lists at most ${PLAN_LIMITS.resourcesPerStep} resources (it has ${step.resources.length})` };
  });
  return out;
}

/** plan.save's payload from a checked form. */
export function payloadOf(form: PlanForm) {
  return {
    ...(form.id ? { id: form.id } : {}),
    title: form.title.trim(),
    categories: [...form.categories],
    steps: form.steps.map((s) => ({ text: s.text.trim(), ownerDepartmentId: s.ownerDepartmentId, resources: s.resources.map((r) => ({ name: r.name.trim(), quantity: Number(r.quantity.trim()), unit: r.unit.trim() })) })),
  };
}
