/**
 * 应急预案 as records (domain/commands/plans.ts): an administrator saves and removes plans with the refusals a
 * person can act on (in Chinese, naming the detail), nobody else may, and 应急 opens the stored plan for the
 * incident's category — an edited one as edited — or the general plan.
 */
import { refusalOf } from '../../harness/commands';
import { describe, expect, it } from 'vitest';
import { CityState, CommandError, defaultPlans, executeCommand, upsert, type Actor } from '../../domain';
import { seedablePlans } from '../../backend/city-setup';

const ADMIN: Actor = { id: 'admin', name: '系统管理员 赵磊', role: 'admin', districtScope: null };
const DUTY: Actor = { id: 'duty', name: '值班员 王芳', role: 'duty', districtScope: null };
const limits = { report: 60, dispatch: 120, handle: 1440, followup: 2880, close: 1440 };
const AT = '2026-11-30T08:00:00.000Z';

function city(): CityState {
  const state = new CityState(undefined, 0);
  const departments = ['dept-emergency', 'dept-police', 'dept-health', 'dept-petition', 'dept-water', 'dept-transport', 'dept-housing', 'dept-civil', 'dept-environment'];
  state.apply([
    ...departments.map((id) => upsert('departments', { id, code: id.slice(5).toUpperCase(), name: id })),
    upsert('rules', { id: 'flood', category: 'flood', categoryName: '城市内涝', departmentId: 'dept-water', limits, handlingLevel: 'district' }),
    upsert('rules', { id: 'noise', category: 'noise', categoryName: '噪声扰民', departmentId: 'dept-police', limits, handlingLevel: 'street' }),
    upsert('commandLevel', { id: 'current', level: 'daily', since: AT, by: '系统', reason: '初始化', incidentId: null, planTitle: '', planId: null, plan: [] }),
    ...defaultPlans(AT).map((p) => upsert('plans', p)),
  ]);
  // E1: a flood, E2: noise, both open (reported through the real handler).
  for (const category of ['flood', 'noise']) run(state, 'event.report', { source: 'hotline', category, severity: 3, title: `${category} 事件`, description: '', location: [120.1, 30.2] }, DUTY);
  return state;
}

function run(state: CityState, type: string, payload: unknown, actor: Actor = ADMIN): ReturnType<typeof executeCommand> {
  const outcome = executeCommand({ state, actor, now: new Date('2026-11-30T09:00:00Z'), newId: () => `E${state.collections.events.size + 1}`, locate: () => ({ gridId: 'g1', districtId: 'd1', address: '某区某街' }) }, type, payload);
  state.apply(outcome.changes);
  return outcome;
}

function refusal(state: CityState, type: string, payload: unknown, actor: Actor = ADMIN): CommandError {
  return refusalOf(() => run(state, type, payload, actor), type);
}

const step = (text: string, owner = 'dept-water', resources: unknown[] = []) => ({ text, ownerDepartmentId: owner, resources });

describe('应急预案: plan.save and plan.remove', () => {
  it('saves a new plan for a category, edits it whole by id, and removes it', () => {
    const state = city();
    const made = run(state, 'plan.save', { title: ' 噪声群体事件预案 ', categories: ['noise'], steps: [step('现场劝离', 'dept-police', [{ name: '巡逻车', quantity: 2, unit: '辆' }])] });
    expect(made.result).toEqual({ planId: 'plan-noise', created: true });
    const saved = state.get('plans', 'plan-noise')!;
    expect(saved).toMatchObject({ title: '噪声群体事件预案', categories: ['noise'], updatedBy: ADMIN.name, updatedAt: '2026-11-30T09:00:00.000Z' });
    expect(saved.steps[0]!.resources).toEqual([{ name: '巡逻车', quantity: 2, unit: '辆' }]);
    expect(run(state, 'plan.save', { id: 'plan-noise', title: '噪声预案', categories: ['noise'], steps: [step('一', 'dept-police'), step('二', 'dept-health')] }).result).toEqual({ planId: 'plan-noise', created: false });
    expect(state.get('plans', 'plan-noise')!.steps.map((s) => s.text)).toEqual(['一', '二']);
    run(state, 'plan.remove', { planId: 'plan-noise' });
    expect(state.get('plans', 'plan-noise')).toBeUndefined();
  });

  it('refuses in Chinese, naming the detail, and changes nothing', () => {
    const state = city();
    const before = JSON.stringify([...state.all('plans')]);
    expect(refusal(state, 'plan.save', { title: '空预案', categories: ['noise'], steps: [] }).message).toBe('预案「空预案」没有步骤：至少要有一个步骤');
    expect(refusal(state, 'plan.save', { title: 'x', categories: ['noise'], steps: [step('a'), step('b', 'dept-nope')] }).message).toBe('第 2 步的责任部门 dept-nope 不存在，请选择已有的部门');
    expect(refusal(state, 'plan.save', { title: 'x', categories: ['no-such'], steps: [step('a')] }).message).toBe('事件类别 no-such 不在权责清单中，预案只能应对已有的事件类别');
    const taken = refusal(state, 'plan.save', { title: '第二个防汛预案', categories: ['flood'], steps: [step('a')] });
    expect(taken.code).toBe('conflict');
    expect(taken.message).toBe('事件类别 flood 已由预案「城市防汛应急预案（Ⅰ级响应）」（plan-flood）应对，一个类别只对应一个预案');
    expect(refusal(state, 'plan.save', { title: '另一个总体预案', categories: [], steps: [step('a')] }).message).toMatch(/^已有总体预案「突发事件总体应急预案」（plan-general）/);
    expect(refusal(state, 'plan.save', { id: 'plan-general', title: 'x', categories: ['noise'], steps: [step('a')] }).message).toMatch(/是总体预案.*不能改为专项预案/);
    expect(refusal(state, 'plan.save', { id: 'plan-gone', title: 'x', categories: ['noise'], steps: [step('a')] }).message).toBe('预案 plan-gone 不存在（可能已被删除）');
    expect(refusal(state, 'plan.save', { title: 'x', categories: ['noise'], steps: [step('a', 'dept-water', [{ name: '泵车', quantity: 1 }, { name: '泵车', quantity: 2 }])] }).message).toBe('第 1 步的资源「泵车」重复列出，请合并数量');
    expect(refusal(state, 'plan.save', { title: 'x', categories: ['noise'], steps: [step('a', 'dept-water', [{ name: '泵车', quantity: 0 }])] }).code).toBe('invalid');
    expect(refusal(state, 'plan.remove', { planId: 'plan-general' }).message).toMatch(/^不能删除总体预案「突发事件总体应急预案」/);
    expect(refusal(state, 'plan.remove', { planId: 'nope' }).code).toBe('invalid');
    expect(JSON.stringify([...state.all('plans')])).toBe(before);
  });

  it('only a city-wide administrator edits plans', () => {
    const state = city();
    for (const role of ['dispatcher', 'duty', 'leader', 'viewer', 'inspector'] as const) {
      expect(refusal(state, 'plan.save', { title: 'x', categories: ['noise'], steps: [step('a')] }, { ...ADMIN, role }).code).toBe('forbidden');
    }
    expect(refusal(state, 'plan.remove', { planId: 'plan-flood' }, { ...ADMIN, districtScope: ['d01'] }).message).toMatch(/^应急预案是全市共用的/);
  });

  it('应急 opens the edited plan of the incident category; the running plan may be edited, not removed', () => {
    const state = city();
    run(state, 'plan.save', { id: 'plan-flood', title: '防汛预案（修订）', categories: ['flood'], steps: [step('泵车到位', 'dept-water', [{ name: '移动泵车', quantity: 8, unit: '台' }]), step('转移群众', 'dept-civil')] });
    run(state, 'level.set', { level: 'emergency', reason: '暴雨', incidentId: 'E1' }, DUTY);
    const level = state.get('commandLevel', 'current')!;
    expect(level).toMatchObject({ level: 'emergency', planTitle: '防汛预案（修订）', planId: 'plan-flood' });
    expect(level.plan.map((s) => [s.id, s.text, s.ownerDepartmentId, s.doneAt])).toEqual([
      ['step-1', '泵车到位', 'dept-water', null],
      ['step-2', '转移群众', 'dept-civil', null],
    ]);
    expect(level.plan[0]!.resources).toEqual([{ name: '移动泵车', quantity: 8, unit: '台' }]);
    expect(refusal(state, 'plan.remove', { planId: 'plan-flood' }).message).toBe('不能删除预案「防汛预案（修订）」：当前应急响应正在执行它；可以修改，应急结束后再删除');
    run(state, 'plan.save', { id: 'plan-flood', title: '防汛预案（二修）', categories: ['flood'], steps: [step('只一步')] });
    expect(state.get('commandLevel', 'current')!.plan).toHaveLength(2); // the open checklist keeps its steps
    run(state, 'level.set', { level: 'daily', reason: '结束' }, DUTY);
    run(state, 'plan.remove', { planId: 'plan-flood' });
    // With no special plan left, a flood opens the general plan.
    run(state, 'level.set', { level: 'emergency', reason: '暴雨', incidentId: 'E1' }, DUTY);
    expect(state.get('commandLevel', 'current')).toMatchObject({ planId: 'plan-general', planTitle: '突发事件总体应急预案' });
  });

  it('a store without plan records opens the built-in templates', () => {
    const state = city();
    for (const p of [...state.all('plans')]) state.apply([{ op: 'remove', collection: 'plans', id: p.id }]);
    run(state, 'level.set', { level: 'emergency', reason: '暴雨', incidentId: 'E1' }, DUTY);
    expect(state.get('commandLevel', 'current')).toMatchObject({ planId: null, planTitle: '城市防汛应急预案（Ⅰ级响应）' });
  });
  
  it('a department owning a plan step is not removed', () => {
    const state = city();
    expect(refusal(state, 'department.remove', { departmentId: 'dept-petition' }).message).toMatch(/应急预案 plan-general、plan-public-security 的步骤/);
  });

  it('a category a plan answers is not removed from the 权责清单 (the plan would be left impossible to save)', () => {
    const state = city();
    run(state, 'rule.save', { category: 'hazmat', categoryName: '危化品泄漏', departmentId: 'dept-environment', limits, handlingLevel: 'district' });
    run(state, 'rule.save', { category: 'gas', categoryName: '燃气泄漏', departmentId: 'dept-housing', limits, handlingLevel: 'district' });
    run(state, 'plan.save', { title: '危化品预案', categories: ['hazmat', 'gas'], steps: [step('疏散', 'dept-police')] });
    const before = JSON.stringify(state.get('rules', 'hazmat'));
    expect(refusal(state, 'rule.remove', { category: 'hazmat' }).message).toBe('不能删除事件类别 危化品泄漏（hazmat）：仍由应急预案「危化品预案」（plan-hazmat）应对；请先在预案中取消该类别或删除预案');
    expect(JSON.stringify(state.get('rules', 'hazmat'))).toBe(before);
    // Unticked in the plan, the category goes; the plan still saves.
    run(state, 'plan.save', { id: 'plan-hazmat', title: '危化品预案', categories: ['gas'], steps: [step('疏散', 'dept-police')] });
    run(state, 'rule.remove', { category: 'hazmat' });
    expect(state.get('rules', 'hazmat')).toBeUndefined();
    run(state, 'plan.save', { id: 'plan-hazmat', title: '燃气预案', categories: ['gas'], steps: [step('关阀', 'dept-housing')] });
    expect(state.get('plans', 'plan-hazmat')!.title).toBe('燃气预案');
  });

  it('the built-in plans are seeded fitted to the city\'s 权责清单 (an imported list)', () => {
    const rules = new Set(['flood', 'noise']);
    const plans = seedablePlans((c) => rules.has(c), AT);
    // The general plan always; a special plan only for a category the city has.
    expect(plans.map((p) => [p.id, p.categories])).toEqual([['plan-general', []], ['plan-flood', ['flood']]]);
    // Plans the store holds already are left as they are.
    const general = { ...plans[0]!, id: 'plan-main' };
    const flood = { ...plans[1]!, id: 'plan-rain' };
    expect(seedablePlans((c) => rules.has(c), AT, [plans[1]!]).map((p) => p.id)).toEqual(['plan-general']);
    expect(seedablePlans((c) => rules.has(c), AT, [general, flood])).toEqual([]);
    // Every seeded plan saves as is (plan.save's checks).
    const state = city();
    for (const p of plans) run(state, 'plan.save', { id: p.id, title: p.title, categories: p.categories, steps: p.steps });
  });
});
