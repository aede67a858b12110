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
  if (ctx.actor.districtScope !== null) throw new CommandError('forbidden', `基础数据是全市共用的，只有不限辖区的管理员可以修改（你的辖区：${ctx.actor.districtScope.join('、')}）`);
}

function departmentFor(ctx: CommandContext, id: string): Department {
  const department = ctx.state.get('departments', id);
  if (!department) throw new CommandError('invalid', `部门 ${id} 不存在（可能已被删除）`);
  return department;
}

export const baseDataHandlers: Pick<Handlers, 'department.save' | 'department.remove' | 'rule.save' | 'rule.remove'> = {
  'department.save'(ctx, p) {
    cityWide(ctx);
    const existing = p.id === undefined ? undefined : departmentFor(ctx, p.id);
    const problem = departmentCodeProblem(p.code) ?? liaisonProblem(p.liaison ?? '');
    if (problem) throw new CommandError('invalid', problem.zh);
    const same = departmentWithCode(ctx.state, p.code, existing?.id);
    if (same) throw new CommandError('conflict', `部门编码 ${p.code} 已被 ${same.name}（${same.id}）使用，编码不能重复`);
    const id = existing?.id ?? newDepartmentId((taken) => ctx.state.get('departments', taken) !== undefined, p.code);
    const department = { id, code: p.code, name: p.name, ...(p.liaison ? { liaison: p.liaison } : {}) };
    return { changes: [upsert('departments', department)], result: { departmentId: id, created: existing === undefined } };
  },

  'department.remove'(ctx, p) {
    cityWide(ctx);
    const department = departmentFor(ctx, p.departmentId);
    const uses = describeUses(departmentUses(ctx.state, department.id, ctx.state.all('rules')));
    if (uses) throw new CommandError('conflict', `不能删除 ${department.name}（${department.code}）：仍被${uses.zh}引用；请先改派或修改权责清单`);
    return { changes: [{ op: 'remove', collection: 'departments', id: department.id }], result: { departmentId: department.id } };
  },

  'rule.save'(ctx, p) {
    cityWide(ctx);
    const problem = categoryCodeProblem(p.category);
    if (problem) throw new CommandError('invalid', problem.zh);
    if (!ctx.state.get('departments', p.departmentId)) throw new CommandError('invalid', `责任部门 ${p.departmentId} 不存在，请选择已有的部门`);
    const existing = ctx.state.get('rules', p.category);
    const rule = { id: p.category, category: p.category, categoryName: p.categoryName, departmentId: p.departmentId, limits: { ...p.limits }, handlingLevel: p.handlingLevel };
    return { changes: [upsert('rules', rule)], result: { category: p.category, created: existing === undefined } };
  },

  'rule.remove'(ctx, p) {
    cityWide(ctx);
    const rule = ctx.state.get('rules', p.category);
    if (!rule) throw new CommandError('invalid', `权责清单中没有事件类别 ${p.category}`);
    const open = openEventsOfCategory(ctx.state, rule.category);
    if (open.length > 0) throw new CommandError('conflict', `不能删除事件类别 ${rule.categoryName}（${rule.category}）：仍有未办结事件 ${listed(open, '、')}；请先办结再删除`);
    const plans = [...ctx.state.all('plans')].filter((x) => x.categories.includes(rule.category));
    if (plans.length > 0) throw new CommandError('conflict', `不能删除事件类别 ${rule.categoryName}（${rule.category}）：仍由应急预案${plans.map((x) => `「${x.title}」（${x.id}）`).join('、')}应对；请先在预案中取消该类别或删除预案`);
    return { changes: [{ op: 'remove', collection: 'rules', id: rule.id }], result: { category: rule.category } };
  },
};
