/**
 * 基础数据 over a real WebSocket with a real SQLite file: the administrator edits the 权责清单 and the departments
 * with commands; a rule's new limits give a new event its deadlines; a department still in use is not removed
 * (the refusal names why); other roles are refused and the administrator does no event work; every command,
 * applied or refused, is in the audit.
 */
import { describe, expect } from 'vitest';
import type { GovEvent, Grid, ResponsibilityRule } from '../../protocol';
import { TEST_TOKENS } from '../../harness/backend';
import { WireClient, clientPool, until } from '../../harness/wire-client';
import type { RunningBackend } from '../../backend/index';
import { it } from '../../harness/fixtures';

let backend: RunningBackend;
it.beforeAll(async ({ backend: fileBackend }) => {
  backend = fileBackend;
}, 60_000);

const pool = clientPool(() => backend.url);
const connect = (token: string): Promise<WireClient> => pool.connect(token);
it.afterAll(() => pool.closeAll());

const MINUTE = 60_000;

describe('基础数据 through the backend', () => {
  it('the administrator changes a rule: a new event of its category gets the new deadlines; a new department reaches every console', async () => {
    const admin = await connect(TEST_TOKENS.admin);
    expect(admin.welcome).toMatchObject({ user: { id: 'admin', role: 'admin' }, districtScope: null });
    const dispatcher = await connect(TEST_TOKENS.dispatcher);
    const before = backend.state.get('rules', 'sanitation')! as ResponsibilityRule & { id: string };
    const limits = { ...before.limits, report: 7, handle: 333 };
    const ack = await admin.command('rule.save', { category: 'sanitation', categoryName: before.categoryName, departmentId: before.departmentId, limits, handlingLevel: before.handlingLevel });
    expect(ack.result).toEqual({ category: 'sanitation', created: false });
    expect(backend.state.get('rules', 'sanitation')).toMatchObject({ limits: { report: 7, handle: 333 } });
    await until(() => (dispatcher.get('rules', 'sanitation') as ResponsibilityRule | undefined)?.limits.handle === 333, 'the new rule at the dispatcher');

    const grid = dispatcher.all<Grid>('grids')[0]!;
    const report = await dispatcher.command('event.report', { source: 'hotline', category: 'sanitation', severity: 2, title: '垃圾清运不及时', description: '测试', location: grid.center });
    const event = backend.state.get('events', String(report.result.eventId)) as GovEvent;
    const reported = Date.parse(event.reportedAt);
    expect(Date.parse(event.stepDeadline!) - reported).toBe(7 * MINUTE);
    const total = limits.report + limits.dispatch + limits.handle + limits.followup + limits.close;
    expect(Date.parse(event.finalDeadline) - reported).toBe(total * MINUTE);

    const added = await admin.command('department.save', { code: 'ZJ-TEST', name: '市住房和城乡建设局', liaison: 'zj01' });
    expect(added.result).toEqual({ departmentId: 'dept-ZJ-TEST', created: true });
    await until(() => dispatcher.get('departments', 'dept-ZJ-TEST') !== undefined, 'the new department at the dispatcher');
    expect(backend.state.get('departments', 'dept-ZJ-TEST')).toEqual({ id: 'dept-ZJ-TEST', code: 'ZJ-TEST', name: '市住房和城乡建设局', liaison: 'zj01' });

    const audit = (await backend.store.auditLog(200)).filter((a) => a.kind === 'command' && a.userId === 'admin');
    expect(audit.map((a) => (a.detail as { type: string }).type)).toEqual(expect.arrayContaining(['rule.save', 'department.save']));
  });

  it('refuses what the import refuses: a department in use, a duplicate code, a rule of an unknown department, a category with open events', async () => {
    const admin = await connect(TEST_TOKENS.admin);
    const rule = backend.state.get('rules', 'sanitation')!;
    const department = backend.state.get('departments', rule.departmentId)!;
    await expect(admin.command('department.remove', { departmentId: department.id })).rejects.toMatchObject({ wire: { code: 'conflict', message: expect.stringMatching(new RegExp(`^不能删除 ${department.name}（${department.code}）：仍被权责清单事件类别 .*sanitation`)) } });
    await expect(admin.command('department.save', { code: department.code, name: '重复编码' })).rejects.toMatchObject({ wire: { code: 'conflict', message: expect.stringContaining(`部门编码 ${department.code} 已被 ${department.name}`) } });
    await expect(admin.command('rule.save', { ...rule, departmentId: 'dept-nope' })).rejects.toMatchObject({ wire: { message: '责任部门 dept-nope 不存在，请选择已有的部门' } });
    await expect(admin.command('rule.save', { ...rule, limits: { ...rule.limits, close: 0 } })).rejects.toMatchObject({ wire: { code: 'invalid' } });
    await until(() => [...backend.state.all('events')].some((e) => e.category === 'sanitation' && e.status !== 'closed' && e.status !== 'merged'), 'an open sanitation event');
    await expect(admin.command('rule.remove', { category: 'sanitation' })).rejects.toMatchObject({ wire: { code: 'conflict', message: expect.stringMatching(/^不能删除事件类别 .*（sanitation）：仍有未办结事件 E/) } });
    expect(backend.state.get('departments', department.id)).toEqual(department);
    expect(backend.state.get('rules', 'sanitation')).toEqual(rule);
  });

  it('a dispatcher (or any other role) may not change the base data; the administrator does no event work', async () => {
    const dispatcher = await connect(TEST_TOKENS.dispatcher);
    await expect(dispatcher.command('department.save', { code: 'HACK', name: '越权部门' })).rejects.toMatchObject({ wire: { code: 'forbidden', message: '调度员账号不能执行 department.save', reason: { key: 'command.notAllowed', params: { role: 'dispatcher', type: 'department.save' } } } });
    const leader = await connect(TEST_TOKENS.leader);
    await expect(leader.command('rule.remove', { category: 'sanitation' })).rejects.toMatchObject({ wire: { code: 'forbidden' } });
    const admin = await connect(TEST_TOKENS.admin);
    const grid = admin.all<Grid>('grids')[0]!;
    await expect(admin.command('event.report', { source: 'hotline', category: 'sanitation', severity: 2, title: 't', description: '', location: grid.center })).rejects.toMatchObject({ wire: { code: 'forbidden' } });
    expect([...backend.state.all('departments')].some((d) => d.code === 'HACK')).toBe(false);
    const refused = (await backend.store.auditLog(200)).filter((a) => a.kind === 'command-rejected' && a.userId === 'dispatcher');
    expect(refused.some((a) => JSON.stringify(a.detail).includes('department.save'))).toBe(true);
  });
});
