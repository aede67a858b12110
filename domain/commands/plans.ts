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
  if (ctx.actor.districtScope !== null) throw new CommandError('forbidden', `应急预案是全市共用的，只有不限辖区的管理员可以修改（你的辖区：${ctx.actor.districtScope.join('、')}）`);
}

function planFor(ctx: CommandContext, id: string): Plan {
  const plan = ctx.state.get('plans', id);
  if (!plan) throw new CommandError('invalid', `预案 ${id} 不存在（可能已被删除）`);
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
    if (p.steps.length === 0) throw new CommandError('invalid', `预案「${p.title}」没有步骤：至少要有一个步骤`);
    p.steps.forEach((step, i) => {
      if (!ctx.state.get('departments', step.ownerDepartmentId)) throw new CommandError('invalid', `第 ${i + 1} 步的责任部门 ${step.ownerDepartmentId} 不存在，请选择已有的部门`);
      const names = step.resources.map((r) => r.name);
      const twice = names.find((n, j) => names.indexOf(n) !== j);
      if (twice) throw new CommandError('invalid', `第 ${i + 1} 步的资源「${twice}」重复列出，请合并数量`);
    });
    const categories = [...new Set(p.categories)];
    const others = [...ctx.state.all('plans')].filter((x) => x.id !== existing?.id);
    for (const category of categories) {
      if (!ctx.state.get('rules', category)) throw new CommandError('invalid', `事件类别 ${category} 不在权责清单中，预案只能应对已有的事件类别`);
      const taken = others.find((x) => x.categories.includes(category));
      if (taken) throw new CommandError('conflict', `事件类别 ${category} 已由预案「${taken.title}」（${taken.id}）应对，一个类别只对应一个预案`);
    }
    if (categories.length === 0) {
      const general = others.find((x) => x.categories.length === 0);
      if (general) throw new CommandError('conflict', `已有总体预案「${general.title}」（${general.id}）：不选事件类别的预案只能有一个，请为本预案选择事件类别`);
    } else if (existing && existing.categories.length === 0) {
      throw new CommandError('conflict', `「${existing.title}」是总体预案，应对没有专项预案的事件，不能改为专项预案；请新建专项预案`);
    }
    const id = existing?.id ?? newPlanId(ctx, categories);
    const plan: Plan = { id, title: p.title, categories, steps: p.steps.map((s) => ({ text: s.text, ownerDepartmentId: s.ownerDepartmentId, resources: s.resources.map((r) => ({ ...r })) })), updatedAt: iso(ctx.now), updatedBy: ctx.actor.name };
    return { changes: [upsert('plans', plan)], result: { planId: id, created: existing === undefined } };
  },

  'plan.remove'(ctx, p) {
    cityWide(ctx);
    const plan = planFor(ctx, p.planId);
    if (plan.categories.length === 0) throw new CommandError('conflict', `不能删除总体预案「${plan.title}」：没有专项预案的事件都按它处置；可以修改它的步骤`);
    const level = ctx.state.get('commandLevel', 'current');
    if (level?.level === 'emergency' && level.planId === plan.id) throw new CommandError('conflict', `不能删除预案「${plan.title}」：当前应急响应正在执行它；可以修改，应急结束后再删除`);
    return { changes: [{ op: 'remove', collection: 'plans', id: plan.id }], result: { planId: plan.id } };
  },
};
