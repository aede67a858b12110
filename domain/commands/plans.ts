/**
 * 应急预案 edited by an administrator (the whole city's, like the rest of 基础数据): a plan saved whole (title, the
 * event categories it answers, steps with their owning departments and resources) or removed. Refusals in Chinese,
 * naming the detail: a step owned by a department that does not exist, no steps, a category that is not in the
 * responsibility list or already answered by another plan, a second general plan; the general plan and the plan
 * the open emergency runs may be edited but not removed (an edit applies to the next emergency: the open
 * checklist keeps its steps and ticks).
 */
import type { Plan } from '../../protocol';
import { upsert } from '../state';
import { iso } from './helpers';
import { CommandError, type CommandContext, type Handlers } from './context';

function cityWide(ctx: CommandContext): void {
  if (ctx.actor.districtScope !== null) throw new CommandError('forbidden', { key: 'plan.cityWide', params: { scope: ctx.actor.districtScope.join('、') } });
}

function planFor(ctx: CommandContext, id: string): Plan {
  const plan = ctx.state.get('plans', id);
  if (!plan) throw new CommandError('invalid', { key: 'plan.notFound', params: { id } });
  return plan;
}

/** A new plan's id from its title's first category, else a counter: plan-flood, plan-flood-2, plan-3. */
function newPlanId(ctx: CommandContext, categories: readonly string[]): string {
  const base = categories[0] ? `plan-${categories[0]}`.slice(0, 50) : 'plan-custom';
  if (!ctx.state.get('plans', base)) return base;
  for (let n = 2; ; n++) if (!ctx.state.get('plans', `${base}-${n}`)) return `${base}-${n}`;
}

export const planHandlers: Pick<Handlers, 'plan.save' | 'plan.remove'> = {
  'plan.save'(ctx, p) {
    cityWide(ctx);
    const existing = p.id === undefined ? undefined : planFor(ctx, p.id);
    if (p.steps.length === 0) throw new CommandError('invalid', { key: 'plan.noSteps', params: { title: p.title } });
    p.steps.forEach((step, i) => {
      if (!ctx.state.get('departments', step.ownerDepartmentId)) throw new CommandError('invalid', { key: 'plan.stepDepartmentNotFound', params: { step: i + 1, id: step.ownerDepartmentId } });
      const names = step.resources.map((r) => r.name);
      const twice = names.find((n, j) => names.indexOf(n) !== j);
      if (twice) throw new CommandError('invalid', { key: 'plan.duplicateResource', params: { step: i + 1, name: twice } });
    });
    const categories = [...new Set(p.categories)];
    const others = [...ctx.state.all('plans')].filter((x) => x.id !== existing?.id);
    for (const category of categories) {
      if (!ctx.state.get('rules', category)) throw new CommandError('invalid', { key: 'plan.unknownCategory', params: { category } });
      const taken = others.find((x) => x.categories.includes(category));
      if (taken) throw new CommandError('conflict', { key: 'plan.categoryTaken', params: { category, title: taken.title, id: taken.id } });
    }
    if (categories.length === 0) {
      const general = others.find((x) => x.categories.length === 0);
      if (general) throw new CommandError('conflict', { key: 'plan.generalExists', params: { title: general.title, id: general.id } });
    } else if (existing && existing.categories.length === 0) {
      throw new CommandError('conflict', { key: 'plan.generalStaysGeneral', params: { title: existing.title } });
    }
    const id = existing?.id ?? newPlanId(ctx, categories);
    const plan: Plan = { id, title: p.title, categories, steps: p.steps.map((s) => ({ text: s.text, ownerDepartmentId: s.ownerDepartmentId, resources: s.resources.map((r) => ({ ...r })) })), updatedAt: iso(ctx.now), updatedBy: ctx.actor.name };
    return { changes: [upsert('plans', plan)], result: { planId: id, created: existing === undefined } };
  },

  'plan.remove'(ctx, p) {
    cityWide(ctx);
    const plan = planFor(ctx, p.planId);
    if (plan.categories.length === 0) throw new CommandError('conflict', { key: 'plan.generalUndeletable', params: { title: plan.title } });
    const level = ctx.state.get('commandLevel', 'current');
    if (level?.level === 'emergency' && level.planId === plan.id) throw new CommandError('conflict', { key: 'plan.inEmergency', params: { title: plan.title } });
    return { changes: [{ op: 'remove', collection: 'plans', id: plan.id }], result: { planId: plan.id } };
  },
};
