/**
 * 基础数据: an administrator edits the departments and the responsibility list (权责清单) in the console. The
 * checks are the import's (../base-data.ts): codes unique and well formed, rules name a department that exists,
 * and nothing still named (by a rule, an open event, a co-handling request, an open plan step, a plan answering a
 * category) is removed. New
 * limits apply to events reported and steps started after the change (an event keeps the deadlines it has).
 * Refusals are in Chinese, naming the detail.
 */
import type { Department } from '../../protocol';
import { upsert } from '../state';
import { departmentCodeProblem, departmentUses, departmentWithCode, describeUses, liaisonProblem, categoryCodeProblem, newDepartmentId, openEventsOfCategory, listed } from '../base-data';
import { CommandError, type CommandContext, type Handlers } from './context';

/** The base data is the whole city's: an administrator limited to some districts may not change it. */
function cityWide(ctx: CommandContext): void {
  if (ctx.actor.districtScope !== null) throw new CommandError('forbidden', { key: 'baseData.cityWide', params: { scope: ctx.actor.districtScope.join('、') } });
}

function departmentFor(ctx: CommandContext, id: string): Department {
  const department = ctx.state.get('departments', id);
  if (!department) throw new CommandError('invalid', { key: 'department.notFound', params: { id } });
  return department;
}

export const baseDataHandlers: Pick<Handlers, 'department.save' | 'department.remove' | 'rule.save' | 'rule.remove'> = {
  'department.save'(ctx, p) {
    cityWide(ctx);
    const existing = p.id === undefined ? undefined : departmentFor(ctx, p.id);
    const problem = departmentCodeProblem(p.code) ?? liaisonProblem(p.liaison ?? '');
    if (problem) throw new CommandError('invalid', { key: 'input.problem', params: { zh: problem.zh, en: problem.en } });
    const same = departmentWithCode(ctx.state, p.code, existing?.id);
    if (same) throw new CommandError('conflict', { key: 'department.codeTaken', params: { code: p.code, name: same.name, id: same.id } });
    const id = existing?.id ?? newDepartmentId((taken) => ctx.state.get('departments', taken) !== undefined, p.code);
    const department = { id, code: p.code, name: p.name, ...(p.liaison ? { liaison: p.liaison } : {}) };
    return { changes: [upsert('departments', department)], result: { departmentId: id, created: existing === undefined } };
  },

  'department.remove'(ctx, p) {
    cityWide(ctx);
    const department = departmentFor(ctx, p.departmentId);
    const uses = describeUses(departmentUses(ctx.state, department.id, ctx.state.all('rules')));
    if (uses) throw new CommandError('conflict', { key: 'department.inUse', params: { name: department.name, code: department.code, uses: uses.zh, usesEn: uses.en } });
    return { changes: [{ op: 'remove', collection: 'departments', id: department.id }], result: { departmentId: department.id } };
  },

  'rule.save'(ctx, p) {
    cityWide(ctx);
    const problem = categoryCodeProblem(p.category);
    if (problem) throw new CommandError('invalid', { key: 'input.problem', params: { zh: problem.zh, en: problem.en } });
    if (!ctx.state.get('departments', p.departmentId)) throw new CommandError('invalid', { key: 'rule.departmentNotFound', params: { id: p.departmentId } });
    const existing = ctx.state.get('rules', p.category);
    const rule = { id: p.category, category: p.category, categoryName: p.categoryName, departmentId: p.departmentId, limits: { ...p.limits }, handlingLevel: p.handlingLevel };
    return { changes: [upsert('rules', rule)], result: { category: p.category, created: existing === undefined } };
  },

  'rule.remove'(ctx, p) {
    cityWide(ctx);
    const rule = ctx.state.get('rules', p.category);
    if (!rule) throw new CommandError('invalid', { key: 'rule.notFound', params: { category: p.category } });
    const open = openEventsOfCategory(ctx.state, rule.category);
    if (open.length > 0) throw new CommandError('conflict', { key: 'rule.openEvents', params: { name: rule.categoryName, category: rule.category, events: listed(open, '、') } });
    const plans = [...ctx.state.all('plans')].filter((x) => x.categories.includes(rule.category));
    if (plans.length > 0) throw new CommandError('conflict', { key: 'rule.usedByPlans', params: { name: rule.categoryName, category: rule.category, plans: plans.map((x) => `「${x.title}」（${x.id}）`).join('、') } });
    return { changes: [{ op: 'remove', collection: 'rules', id: rule.id }], result: { category: rule.category } };
  },
};
