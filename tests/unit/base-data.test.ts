/**
 * 基础数据 commands in the domain (what the backend runs and the hub predicts): an administrator adds, edits and
 * removes departments and rules with the import's checks — unique and well-formed codes, a rule's department must
 * exist, nothing still named is removed (the refusal names what names it, in Chinese) — and nobody else may.
 */
import { refusalOf } from '../../harness/commands';
import { describe, expect, it } from 'vitest';
import { CityState, CommandError, departmentUses, executeCommand, newDepartmentId, openEventsOfCategory, upsert, type Actor } from '../../domain';
import type { GovEvent } from '../../protocol';

const ADMIN: Actor = { id: 'admin', name: '系统管理员 赵磊', role: 'admin', districtScope: null };
const limits = { report: 60, dispatch: 120, handle: 1440, followup: 2880, close: 1440 };

function city(): CityState {
  const state = new CityState(undefined, 0);
  state.apply([
    upsert('departments', { id: 'dept-police', code: 'GA', name: '市公安局' }),
    upsert('departments', { id: 'dept-urban', code: 'CG', name: '市城市管理局', liaison: 'cg01' }),
    upsert('departments', { id: 'dept-spare', code: 'SP', name: '市备用部门' }),
    upsert('rules', { id: 'noise', category: 'noise', categoryName: '噪声扰民', departmentId: 'dept-police', limits, handlingLevel: 'street' }),
    upsert('rules', { id: 'road', category: 'road', categoryName: '道路破损', departmentId: 'dept-urban', limits, handlingLevel: 'district' }),
  ]);
  return state;
}

function run(state: CityState, type: string, payload: unknown, actor: Actor = ADMIN): ReturnType<typeof executeCommand> {
  const outcome = executeCommand({ state, actor, now: new Date('2026-11-30T08:00:00Z'), newId: () => 'x', locate: () => null }, type, payload);
  state.apply(outcome.changes);
  return outcome;
}

function refusal(state: CityState, type: string, payload: unknown, actor: Actor = ADMIN): CommandError {
  return refusalOf(() => run(state, type, payload, actor), type);
}

const openEvent = (id: string, extra: Partial<GovEvent>): GovEvent => ({ id, category: 'noise', status: 'handling', assignee: null, coHandlers: [], coHandlingRequests: [], ...extra }) as unknown as GovEvent;

describe('基础数据: departments', () => {
  it('adds a department as dept-<code>, edits it by id (code, name, liaison) and removes it when nothing names it', () => {
    const state = city();
    expect(run(state, 'department.save', { code: 'ZJ', name: ' 市住房和城乡建设局 ', liaison: 'zj01' }).result).toEqual({ departmentId: 'dept-ZJ', created: true });
    expect(state.get('departments', 'dept-ZJ')).toEqual({ id: 'dept-ZJ', code: 'ZJ', name: '市住房和城乡建设局', liaison: 'zj01' });
    expect(run(state, 'department.save', { id: 'dept-ZJ', code: 'ZJJ', name: '市住建局' }).result).toEqual({ departmentId: 'dept-ZJ', created: false });
    expect(state.get('departments', 'dept-ZJ')).toEqual({ id: 'dept-ZJ', code: 'ZJJ', name: '市住建局' });
    // The old code is free again; its id is still taken by the renamed department: the new one gets another.
    expect(run(state, 'department.save', { code: 'ZJ', name: '新部门' }).result).toMatchObject({ departmentId: 'dept-ZJ-2' });
    run(state, 'department.remove', { departmentId: 'dept-ZJ' });
    expect(state.get('departments', 'dept-ZJ')).toBeUndefined();
  });

  it('refuses a code another department has, a malformed code, an unknown id: in Chinese, naming them', () => {
    const state = city();
    const dup = refusal(state, 'department.save', { code: 'GA', name: '重复' });
    expect(dup.code).toBe('conflict');
    expect(dup.message).toBe('部门编码 GA 已被 市公安局（dept-police）使用，编码不能重复');
    expect(refusal(state, 'department.save', { id: 'dept-urban', code: 'GA', name: '市城市管理局' }).message).toContain('部门编码 GA 已被 市公安局');
    // Saving a department with its own code is not a duplicate.
    run(state, 'department.save', { id: 'dept-urban', code: 'CG', name: '市城管局' });
    expect(state.get('departments', 'dept-urban')?.name).toBe('市城管局');
    expect(refusal(state, 'department.save', { code: 'A B', name: 'x' }).message).toMatch(/只能含字母、数字和 _ \. -/);
    expect(refusal(state, 'department.save', { code: 'ZJ', name: '' }).code).toBe('invalid');
    expect(refusal(state, 'department.save', { id: 'dept-nope', code: 'NOPE', name: 'x' }).message).toBe('部门 dept-nope 不存在（可能已被删除）');
    expect(state.get('departments', 'dept-A B')).toBeUndefined();
  });

  it('does not remove a department named by a rule, an open event, a pending co-handling request or an open plan step', () => {
    const state = city();
    state.apply([
      upsert('events', openEvent('E1', { assignee: { departmentId: 'dept-spare', staffId: null } })),
      upsert('events', openEvent('E2', { status: 'closed', assignee: { departmentId: 'dept-spare', staffId: null } })),
      upsert('events', openEvent('E3', { coHandlingRequests: [{ id: 'c1', departmentId: 'dept-spare', reason: 'x', state: 'pending', requestedAt: '2026-11-30T00:00:00Z' }] })),
      upsert('commandLevel', { id: 'current', level: 'emergency', since: '2026-11-30T00:00:00.000Z', by: 'x', reason: 'x', incidentId: null, planTitle: 'p', plan: [{ id: 'step-1', text: '封控', ownerDepartmentId: 'dept-spare', doneAt: null, doneBy: null }] }),
    ]);
    expect(departmentUses(state, 'dept-spare', state.all('rules'))).toEqual({ rules: [], events: ['E1', 'E3'], planSteps: ['step-1'], plans: [] });
    const e = refusal(state, 'department.remove', { departmentId: 'dept-spare' });
    expect(e.code).toBe('conflict');
    expect(e.message).toBe('不能删除 市备用部门（SP）：仍被未办结事件 E1、E3，预案未完成步骤 step-1引用；请先改派或修改权责清单');
    expect(refusal(state, 'department.remove', { departmentId: 'dept-police' }).message).toContain('权责清单事件类别 noise');
    expect(state.get('departments', 'dept-spare')).toBeDefined();
  });
});

describe('基础数据: the 权责清单', () => {
  it('adds and replaces a rule whole; the department must exist; limits are positive whole minutes', () => {
    const state = city();
    const rule = { category: 'noise', categoryName: '噪声扰民', departmentId: 'dept-urban', limits: { ...limits, handle: 90 }, handlingLevel: 'grid' };
    expect(run(state, 'rule.save', rule).result).toEqual({ category: 'noise', created: false });
    expect(state.get('rules', 'noise')).toEqual({ id: 'noise', ...rule });
    expect(run(state, 'rule.save', { ...rule, category: 'graffiti', categoryName: '乱涂乱画' }).result).toEqual({ category: 'graffiti', created: true });
    expect(refusal(state, 'rule.save', { ...rule, departmentId: 'dept-nope' }).message).toBe('责任部门 dept-nope 不存在，请选择已有的部门');
    for (const bad of [0, -5, 1.5, 366 * 24 * 60 + 1]) expect(refusal(state, 'rule.save', { ...rule, limits: { ...limits, handle: bad } }).code, String(bad)).toBe('invalid');
    expect(refusal(state, 'rule.save', { ...rule, handlingLevel: 'province' }).code).toBe('invalid');
  });

  it('does not remove a rule whose category open events still have', () => {
    const state = city();
    state.apply([upsert('events', openEvent('E9', { category: 'road' })), upsert('events', openEvent('E8', { category: 'noise', status: 'closed' }))]);
    expect(openEventsOfCategory(state, 'road')).toEqual(['E9']);
    expect(refusal(state, 'rule.remove', { category: 'road' }).message).toBe('不能删除事件类别 道路破损（road）：仍有未办结事件 E9；请先办结再删除');
    run(state, 'rule.remove', { category: 'noise' });
    expect(state.get('rules', 'noise')).toBeUndefined();
    expect(refusal(state, 'rule.remove', { category: 'noise' }).message).toBe('权责清单中没有事件类别 noise');
  });
});

describe('基础数据: who may', () => {
  it('only an administrator of the whole city; administrators do no event work', () => {
    const state = city();
    for (const role of ['dispatcher', 'duty', 'leader', 'viewer'] as const) {
      expect(refusal(state, 'department.remove', { departmentId: 'dept-spare' }, { ...ADMIN, role }).code).toBe('forbidden');
      expect(refusal(state, 'rule.save', { category: 'x', categoryName: 'x', departmentId: 'dept-spare', limits, handlingLevel: 'grid' }, { ...ADMIN, role }).code).toBe('forbidden');
    }
    expect(refusal(state, 'department.save', { code: 'ZJ', name: 'x' }, { ...ADMIN, districtScope: ['d01'] }).message).toMatch(/基础数据是全市共用的/);
    expect(refusal(state, 'event.comment', { eventId: 'E1', text: 'x' }).code).toBe('forbidden');
  });

  it('a new department id skips ids taken', () => {
    const taken = new Set(['dept-X', 'dept-X-2']);
    expect(newDepartmentId((id) => taken.has(id), 'X')).toBe('dept-X-3');
    expect(newDepartmentId(() => false, 'Y')).toBe('dept-Y');
  });
});
