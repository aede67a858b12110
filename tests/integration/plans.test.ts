/**
 * 应急预案 as records over a real WebSocket with a real SQLite file: a new city is seeded with the built-in plans
 * (every console gets them); the administrator edits the flood plan and the duty officer's 应急 for a flood opens
 * it as edited; the running plan is not removed; a bad plan is refused in Chinese and nothing is written; only an
 * administrator edits plans; every command is in the audit. A city made before plans were records gets them at its
 * next start as a sequenced batch: a console synced before resumes by deltas and has them.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import type { CommandLevelState, Grid, Plan } from '../../protocol';
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
/** Clients of the test's own backends (not the file's). */
const others: WireClient[] = [];
it.afterAll(() => {
  pool.closeAll();
  for (const c of others) c.close();
});

describe('应急预案 through the backend', () => {
  it('an edited plan opens at 应急; the running plan is not removed; bad plans and other roles are refused', async () => {
    const admin = await connect(TEST_TOKENS.admin);
    const duty = await connect(TEST_TOKENS.duty);
    // Seeded at the city's first start, and every console has them.
    expect(duty.all<Plan>('plans').map((p) => p.id)).toEqual(expect.arrayContaining(['plan-general', 'plan-flood', 'plan-fire-hazard']));
    const seeded = backend.state.get('plans', 'plan-flood')!;
    expect(seeded.steps[2]!.resources).toEqual([{ name: '移动泵车', quantity: 6, unit: '台' }, { name: '抢险队', quantity: 2, unit: '支' }]);

    const steps = [
      { text: '防汛指挥部成员单位 15 分钟内到岗', ownerDepartmentId: 'dept-water', resources: [{ name: '移动泵车', quantity: 12, unit: '台' }] },
      { text: '地下车库、下穿通道封闭', ownerDepartmentId: 'dept-transport', resources: [] },
    ];
    const saved = await admin.command('plan.save', { id: 'plan-flood', title: '城市防汛应急预案（2026 修订）', categories: ['flood'], steps });
    expect(saved.result).toEqual({ planId: 'plan-flood', created: false });
    await until(() => duty.get<Plan>('plans', 'plan-flood')?.title === '城市防汛应急预案（2026 修订）', 'the edited plan at the duty console');

    const grid = duty.all<Grid>('grids')[0]!;
    const report = await duty.command('event.report', { source: 'sensor', category: 'flood', severity: 4, title: '下穿通道积水 40 厘米', description: '测试', location: grid.center });
    const eventId = String(report.result.eventId);
    await duty.command('level.set', { level: 'emergency', reason: '暴雨红色预警', incidentId: eventId });
    const level = backend.state.get('commandLevel', 'current') as CommandLevelState;
    expect(level).toMatchObject({ level: 'emergency', planId: 'plan-flood', planTitle: '城市防汛应急预案（2026 修订）', incidentId: eventId });
    expect(level.plan.map((s) => [s.text, s.ownerDepartmentId, s.resources])).toEqual([
      ['防汛指挥部成员单位 15 分钟内到岗', 'dept-water', [{ name: '移动泵车', quantity: 12, unit: '台' }]],
      ['地下车库、下穿通道封闭', 'dept-transport', []],
    ]);
    await until(() => duty.get<CommandLevelState>('commandLevel', 'current')?.planId === 'plan-flood', 'the opened plan at the duty console');

    // The running plan may be edited, not removed; the general plan is never removed.
    await expect(admin.command('plan.remove', { planId: 'plan-flood' })).rejects.toMatchObject({ wire: { code: 'conflict', message: '不能删除预案「城市防汛应急预案（2026 修订）」：当前应急响应正在执行它；可以修改，应急结束后再删除' } });
    await expect(admin.command('plan.remove', { planId: 'plan-general' })).rejects.toMatchObject({ wire: { code: 'conflict', message: expect.stringMatching(/^不能删除总体预案/) } });
    // Bad plans: refused in Chinese, nothing written.
    const before = JSON.stringify(backend.state.get('plans', 'plan-flood'));
    await expect(admin.command('plan.save', { id: 'plan-flood', title: '空', categories: ['flood'], steps: [] })).rejects.toMatchObject({ wire: { code: 'invalid', message: '预案「空」没有步骤：至少要有一个步骤' } });
    await expect(admin.command('plan.save', { id: 'plan-flood', title: 'x', categories: ['flood'], steps: [{ text: 'a', ownerDepartmentId: 'dept-nowhere' }] })).rejects.toMatchObject({ wire: { code: 'invalid', message: '第 1 步的责任部门 dept-nowhere 不存在，请选择已有的部门' } });
    await expect(admin.command('plan.save', { title: 'x', categories: ['flood'], steps: [{ text: 'a', ownerDepartmentId: 'dept-water', resources: [{ name: '', quantity: 1 }] }] })).rejects.toMatchObject({ wire: { code: 'invalid' } });
    expect(JSON.stringify(backend.state.get('plans', 'plan-flood'))).toBe(before);
    // Only the administrator edits plans.
    await expect(duty.command('plan.save', { title: 'x', categories: ['flood'], steps })).rejects.toMatchObject({ wire: { code: 'forbidden' } });

    await duty.command('level.set', { level: 'daily', reason: '解除' });
    await admin.command('plan.remove', { planId: 'plan-flood' });
    expect(backend.state.get('plans', 'plan-flood')).toBeUndefined();
    const audit = (await backend.store.auditLog(200)).filter((a) => a.kind === 'command' && a.userId === 'admin');
    expect(audit.map((a) => (a.detail as { type: string }).type)).toEqual(expect.arrayContaining(['plan.save', 'plan.remove']));
  });

  it('plans seeded into an existing city reach a console resuming by deltas', async ({ startBackend }) => {
    const first = await startBackend({ historyDays: 0 });
    // A city of before plans were records: none stored (removed through the log, as a console saw it) …
    await first.server.commitSystemChanges(() => [...first.state.all('plans')].map((p) => ({ op: 'remove' as const, collection: 'plans' as const, id: p.id })));
    const before = new WireClient({ url: first.url, token: TEST_TOKENS.duty });
    others.push(before);
    await before.waitSynced();
    expect(before.all<Plan>('plans')).toEqual([]);
    const seq = before.seq;
    before.close();
    await first.close();
    // … and no mark of their seeding.
    const db = new Database(join(first.dir, 'backend.sqlite'));
    db.prepare("DELETE FROM meta WHERE key = 'plans'").run();
    db.close();

    const second = await startBackend({ historyDays: 0 });
    expect(second.state.seq).toBeGreaterThan(seq);
    const resumed = new WireClient({ url: second.url, token: TEST_TOKENS.duty, lastSeq: seq });
    others.push(resumed);
    await resumed.waitSynced();
    expect(resumed.welcome?.sync).toBe('deltas');
    expect(resumed.gaps).toEqual([]);
    expect(resumed.all<Plan>('plans').map((p) => p.id)).toEqual(expect.arrayContaining(['plan-general', 'plan-flood']));
    await second.close();
  });
});
