/**
 * The reference backend over a real WebSocket with a real SQLite file: snapshot + live deltas, the whole
 * five-step loop with acks, reconnect from the last seq, snapshot resume, idempotent replays, restart.
 */
import { describe, expect } from 'vitest';
import { COLLECTIONS, type CommandLevelState, type GovEvent, type Grid, type TimelineRecord } from '../../protocol';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';
import type { RunningBackend } from '../../backend/index';
import { historyOf } from '../../harness/history';
import { DEFAULT_LEVEL_PROFILES } from '../../domain';
import { it } from '../../harness/fixtures';

let backend: RunningBackend;

// The file's backend (the `backend` fixture: started here, within the hook's time, and closed after the file).
it.beforeAll(async ({ backend: fileBackend }) => {
  backend = fileBackend;
}, 60_000);

async function connect(token: string = TEST_TOKENS.dispatcher, extra: Partial<ConstructorParameters<typeof WireClient>[0]> = {}): Promise<WireClient> {
  const client = new WireClient({ url: backend.url, token, ...extra });
  await client.waitSynced();
  return client;
}

function someGrid(client: WireClient, districtId = 'd01'): Grid {
  return client.all<Grid>('grids').find((g) => g.districtId === districtId)!;
}

async function report(client: WireClient, grid: Grid, extra: Record<string, unknown> = {}): Promise<string> {
  const ack = await client.command('event.report', {
    source: 'hotline',
    category: 'sanitation',
    severity: 2,
    title: '小区垃圾清运不及时',
    description: '测试事件',
    location: grid.center,
    reporter: { name: '王女士', phone: '13800001234' },
    ...extra,
  });
  return String(ack.result.eventId);
}

describe('snapshot and live deltas', () => {
  it('a console receives the whole city in chunks, then every change as a numbered delta', async () => {
    const a = await connect(TEST_TOKENS.dispatcher, { record: true });
    expect(a.welcome).toMatchObject({ sync: 'snapshot', user: { id: 'dispatcher', role: 'dispatcher' }, districtScope: null });
    expect(a.frames.filter((f) => f.type === 'snapshot.chunk').length).toBeGreaterThan(3);
    expect(a.all('grids').length).toBe(backend.city.grids.length);
    expect(a.all('staff').length).toBe(backend.city.staff.length);
    expect(a.all('cameras').length).toBe(backend.city.cameras.length);
    expect(a.all('rules').length).toBeGreaterThan(10);
    expect(a.all('kpis').map((k) => (k as { id: string }).id).sort()).toEqual(['30d', '7d', 'today']);
    expect(a.get('commandLevel', 'current')).toMatchObject({ level: 'daily' });
    for (const frame of a.frames) expect(JSON.stringify(frame).length).toBeLessThan(1024 * 1024);
    const b = await connect();
    const seqBefore = a.seq;
    const eventId = await report(b, someGrid(b));
    await until(() => a.get('events', eventId) !== undefined, 'the delta at the other console');
    expect(a.seq).toBe(seqBefore + 1);
    expect(a.gaps).toEqual([]);
    a.close();
    b.close();
  });
});

describe('the five-step closed loop', () => {
  it('runs an event from report to closure with an ack for every step; every console ends equal', async () => {
    const dispatcher = await connect();
    const watcher = await connect(TEST_TOKENS.leader);
    const grid = someGrid(dispatcher);
    const eventId = await report(dispatcher, grid);
    const steps: Array<[string, Record<string, unknown>, string]> = [
      ['event.accept', {}, 'accepted'],
      ['event.dispatch', { departmentId: 'dept-urban', note: '请城管局处置' }, 'dispatched'],
      ['event.sign', {}, 'handling'],
      ['event.feedback', { note: '已清运完毕' }, 'handled'],
      ['event.followup', { note: '电话回访，群众认可', reached: true }, 'followed-up'],
      ['event.close', { satisfaction: 'satisfied', comment: '' }, 'closed'],
    ];
    let lastSeq = dispatcher.seq;
    for (const [type, payload, status] of steps) {
      const ack = await dispatcher.command(type, { eventId, ...payload });
      expect(ack.duplicate).toBe(false);
      expect(ack.seq).toBeGreaterThan(lastSeq);
      lastSeq = ack.seq;
      await until(() => dispatcher.get<GovEvent>('events', eventId)?.status === status, `${type} → ${status}`);
    }
    const closed = dispatcher.get<GovEvent>('events', eventId)!;
    expect(closed.step).toBe('close');
    expect(historyOf(dispatcher.all<TimelineRecord>('timeline'), eventId).map((t) => t.action)).toEqual(['report', 'accept', 'dispatch', 'sign', 'feedback', 'followup', 'close']);
    expect(closed.evaluation).toEqual({ satisfaction: 'satisfied', comment: '' });
    expect(closed.stepDeadline).toBeNull();
    await until(() => watcher.seq === dispatcher.seq, 'the watcher to catch up');
    expect(watcher.get('events', eventId)).toEqual(closed);
    expect(backend.state.get('events', eventId)).toEqual(closed);
    dispatcher.close();
    watcher.close();
  });

  it('refuses illegal transitions with a reason and stores nothing', async () => {
    const c = await connect();
    const eventId = await report(c, someGrid(c));
    const before = structuredClone(backend.state.get('events', eventId));
    const seq = backend.state.seq;
    await expect(c.command('event.close', { eventId, satisfaction: 'satisfied', comment: '' })).rejects.toMatchObject({ wire: { code: 'conflict' } });
    await expect(c.command('event.feedback', { eventId, note: 'x' })).rejects.toThrow(/事件 .* 当前为「待受理」，不能反馈处置结果（需要「处置中」）/);
    await expect(c.command('event.merge', { eventId, intoEventId: eventId })).rejects.toMatchObject({ wire: { code: 'invalid' } });
    await expect(c.command('event.dispatch', { eventId })).rejects.toMatchObject({ wire: { code: 'invalid' } });
    await expect(c.command('event.accept', { eventId: 'E2099010100001' })).rejects.toThrow(/事件 E2099010100001 不存在/);
    expect(backend.state.get('events', eventId)).toEqual(before);
    expect(backend.state.seq).toBe(seq);
    c.close();
  });

  it('merges duplicates, supervises, escalates, handles co-handling, reopens, and the leader assigns', async () => {
    const c = await connect();
    const leader = await connect(TEST_TOKENS.leader);
    const grid = someGrid(c);
    const first = await report(c, grid);
    const dup = await report(c, grid);
    await c.command('event.merge', { eventId: dup, intoEventId: first });
    await until(() => c.get<GovEvent>('events', dup)?.status === 'merged', 'merge');
    expect(c.get<GovEvent>('events', dup)!.mergedInto).toBe(first);
    await c.command('event.dispatch', { eventId: first, departmentId: 'dept-urban' });
    await c.command('event.sign', { eventId: first });
    const request = await c.command('event.cohandle.request', { eventId: first, departmentId: 'dept-police', reason: '需公安配合' });
    await c.command('event.cohandle.decide', { eventId: first, requestId: request.result.requestId, approve: true });
    await leader.command('event.supervise', { eventId: first, note: '请今日办结' });
    const esc = await leader.command('event.escalate', { eventId: first, reason: '涉及多部门' });
    expect(esc.result.escalation).toBe('street');
    await until(() => c.get<GovEvent>('events', first)?.supervised === true, 'supervision');
    const event = c.get<GovEvent>('events', first)!;
    expect(event.coHandlers).toEqual(['dept-police']);
    expect(event.escalation).toBe('street');
    await c.command('event.feedback', { eventId: first, note: '已处置' });
    await c.command('event.followup', { eventId: first, note: '未联系上', reached: false });
    await c.command('event.close', { eventId: first, satisfaction: 'unsatisfied', comment: '太慢' });
    await c.command('event.reopen', { eventId: first, reason: '群众不满意，重新处置' });
    await until(() => c.get<GovEvent>('events', first)?.status === 'handling', 'reopen');
    const assigned = await leader.command('event.assign', { title: '排查沿河护栏', instructions: '汛期前完成排查', category: 'flood', severity: 3, location: grid.center, departmentId: 'dept-water' });
    await until(() => c.get('events', String(assigned.result.eventId)) !== undefined, 'assignment');
    expect(c.get<GovEvent>('events', String(assigned.result.eventId))).toMatchObject({ source: 'leader', status: 'dispatched', supervised: true });
    c.close();
    leader.close();
  });

  it('switches the command level (leader) and keeps a duty hand-over that the next officer acknowledges', async () => {
    const leader = await connect(TEST_TOKENS.leader);
    const duty = await connect(TEST_TOKENS.duty);
    const next = await connect(TEST_TOKENS['duty-2']);
    await leader.command('level.set', { level: 'emergency', reason: '暴雨红色预警' });
    await until(() => duty.get<{ level: string }>('commandLevel', 'current')?.level === 'emergency', 'the level change');
    await expect(leader.command('level.set', { level: 'emergency', reason: 'again' })).rejects.toMatchObject({ wire: { code: 'conflict' } });
    const handover = await duty.command('duty.handover', { notes: '夜班平稳', openItems: [{ text: '关注一区积水点', eventId: null }], toUserId: null });
    await expect(duty.command('duty.acknowledge', { handoverId: handover.result.handoverId })).rejects.toMatchObject({ wire: { code: 'conflict' } });
    await next.command('duty.acknowledge', { handoverId: handover.result.handoverId });
    await until(() => next.get<{ acknowledgedBy: string | null }>('handovers', String(handover.result.handoverId))?.acknowledgedBy === '值班员 陈静', 'acknowledgement');
    await leader.command('level.set', { level: 'daily', reason: '预警解除' });
    for (const c of [leader, duty, next]) c.close();
  });
});

describe('the emergency level opens the incident\'s plan (预案)', () => {
  it('raises 应急 for a flood event with the flood plan, ticks steps with owners, and refuses what does not fit', async () => {
    const leader = await connect(TEST_TOKENS.leader);
    const duty = await connect(TEST_TOKENS.duty);
    const viewer = await connect(TEST_TOKENS.viewer);
    const incidentId = await report(duty, someGrid(duty), { category: 'flood', severity: 4 });
    await leader.command('level.set', { level: 'emergency', reason: '暴雨内涝', incidentId });
    await until(() => duty.get<CommandLevelState>('commandLevel', 'current')?.level === 'emergency', 'the emergency level');
    const level = duty.get<CommandLevelState>('commandLevel', 'current')!;
    expect(level).toMatchObject({ incidentId, planTitle: '城市防汛应急预案（Ⅰ级响应）' });
    expect(level.plan.length).toBeGreaterThan(4);
    expect(level.plan.every((step) => step.ownerDepartmentId.startsWith('dept-') && step.doneAt === null)).toBe(true);
    // The incident's own timeline says the level was raised for it.
    await until(() => historyOf(duty.all<TimelineRecord>('timeline'), incidentId).some((e) => e.action === 'level-emergency'), 'the incident timeline entry');

    await duty.command('plan.tick', { itemId: 'step-1', done: true });
    await until(() => typeof leader.get<CommandLevelState>('commandLevel', 'current')?.plan[0]?.doneAt === 'string', 'the tick');
    expect(leader.get<CommandLevelState>('commandLevel', 'current')!.plan[0]!.doneBy).toMatch(/值班/);
    await expect(duty.command('plan.tick', { itemId: 'step-1', done: true })).rejects.toMatchObject({ wire: { code: 'conflict' } });
    await expect(duty.command('plan.tick', { itemId: 'step-99', done: true })).rejects.toMatchObject({ wire: { code: 'invalid' } });
    await expect(viewer.command('plan.tick', { itemId: 'step-2', done: true })).rejects.toMatchObject({ wire: { code: 'forbidden' } });
    await duty.command('plan.tick', { itemId: 'step-1', done: false });

    await leader.command('level.set', { level: 'daily', reason: '险情解除' });
    await until(() => duty.get<CommandLevelState>('commandLevel', 'current')?.level === 'daily', 'back to daily');
    expect(duty.get<CommandLevelState>('commandLevel', 'current')).toMatchObject({ incidentId: null, plan: [] });
    await expect(duty.command('plan.tick', { itemId: 'step-1', done: true })).rejects.toMatchObject({ wire: { code: 'conflict' } });
    await expect(leader.command('level.set', { level: 'emergency', reason: 'x', incidentId: 'no-such-event' })).rejects.toMatchObject({ wire: { code: 'invalid' } });
    for (const c of [leader, duty, viewer]) c.close();
  });
});

describe('command levels act (平急转换)', () => {
  it('加强 re-times an open step for every client, an administrator saves a level\'s profile (others refused), 日常 restores', async () => {
    const leader = await connect(TEST_TOKENS.leader);
    const duty = await connect(TEST_TOKENS.duty);
    const admin = await connect(TEST_TOKENS.admin);
    const eventId = await report(duty, someGrid(duty));
    await until(() => leader.get<GovEvent>('events', eventId) !== undefined, 'the report');
    const deadline = (): number => Date.parse(leader.get<GovEvent>('events', eventId)!.stepDeadline!);
    const before = deadline();
    const limit = backend.state.get('rules', 'sanitation')!.limits.report;
    const raised = await leader.command('level.set', { level: 'reinforced', reason: '节日保障' });
    expect(raised.result.retimed).toBeGreaterThanOrEqual(1);
    await until(() => deadline() < before, 'the tightened deadline');
    expect(before - deadline()).toBe(Math.min(limit * 0.25 * 60_000, before - deadline()));
    await until(() => duty.get<CommandLevelState>('commandLevel', 'current')?.level === 'reinforced', 'the level at another console');
    expect(duty.get<CommandLevelState>('commandLevel', 'current')?.retimed).toBe(raised.result.retimed);

    const { updatedAt: _a, updatedBy: _b, ...profile } = DEFAULT_LEVEL_PROFILES.reinforced;
    await expect(leader.command('level.profile.save', profile)).rejects.toMatchObject({ wire: { code: 'forbidden' } });
    await expect(admin.command('level.profile.save', { ...profile, stepFactors: { ...profile.stepFactors, handle: 1.2 } })).rejects.toMatchObject({ wire: { code: 'invalid', message: '处置时限系数 1.2 大于 1：加强和应急只能收紧时限，不能放宽' } });
    await admin.command('level.profile.save', { ...profile, stepFactors: { ...profile.stepFactors, handle: 0.6 } });
    await until(() => duty.get<{ stepFactors: { handle: number } }>('levelProfiles', 'reinforced')?.stepFactors.handle === 0.6, 'the saved profile');

    await leader.command('level.set', { level: 'daily', reason: '保障结束' });
    await until(() => deadline() === before, 'the daily limit restored');
    for (const c of [leader, duty, admin]) c.close();
  });
});

describe('commands are idempotent and time-sensitive', () => {
  it('a repeated command id returns the first answer and changes nothing', async () => {
    const c = await connect();
    const eventId = await report(c, someGrid(c));
    const first = await c.command('event.comment', { eventId, text: '已电话联系' }, 'fixed-command-id-0001');
    const seq = backend.state.seq;
    const again = await c.command('event.comment', { eventId, text: '已电话联系' }, 'fixed-command-id-0001');
    expect(again).toEqual({ ...first, duplicate: true });
    expect(backend.state.seq).toBe(seq);
    expect(historyOf(backend.state.all('timeline'), eventId).filter((t) => t.action === 'comment')).toHaveLength(1);
    // A rejected command replayed gets the same rejection, still without effect.
    await expect(c.command('event.close', { eventId, satisfaction: 'basic', comment: '' }, 'fixed-command-id-0002')).rejects.toMatchObject({ wire: { code: 'conflict' } });
    await expect(c.command('event.close', { eventId, satisfaction: 'basic', comment: '' }, 'fixed-command-id-0002')).rejects.toMatchObject({ wire: { code: 'conflict' } });
    c.close();
  });

  it('refuses expired commands and commands based on a stale version', async () => {
    const c = await connect();
    const eventId = await report(c, someGrid(c));
    await expect(c.command('event.accept', { eventId }, undefined, new Date(Date.now() - 1000).toISOString())).rejects.toMatchObject({ wire: { code: 'expired' } });
    await c.command('event.comment', { eventId, text: 'bump' });
    await expect(c.command('event.accept', { eventId, baseVersion: 1 })).rejects.toThrow(/在您查看之后有了变化（版本 1 → /);
    c.close();
  });
});

describe('reconnect and resume', () => {
  it('reconnects with its last sequence and gets exactly the deltas it missed', async () => {
    const a = await connect(TEST_TOKENS.dispatcher, { clientId: 'console-a-0001' });
    const b = await connect();
    const lastSeq = a.seq;
    a.close();
    await a.waitClosed();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await report(b, someGrid(b)));
    const again = await connect(TEST_TOKENS.dispatcher, { clientId: 'console-a-0001', lastSeq, record: true });
    expect(again.welcome?.sync).toBe('deltas');
    const deltas = again.frames.filter((f) => f.type === 'delta');
    expect(deltas.map((f) => (f.payload as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5].map((i) => lastSeq + i));
    expect(again.gaps).toEqual([]);
    for (const id of ids) expect(again.get('events', id)).toEqual(backend.state.get('events', id));
    again.close();
    b.close();
  });

  it('a client whose cursor is older than the retained log gets a snapshot', async () => {
    const c = await connect();
    await report(c, someGrid(c));
    await report(c, someGrid(c));
    await backend.store.pruneChanges(1);
    const stale = await connect(TEST_TOKENS.dispatcher, { lastSeq: 1 });
    expect(stale.welcome?.sync).toBe('snapshot');
    expect(stale.seq).toBe(backend.state.seq);
    const future = await connect(TEST_TOKENS.dispatcher, { lastSeq: backend.state.seq + 1000 });
    expect(future.welcome?.sync).toBe('snapshot');
    for (const x of [c, stale, future]) x.close();
  });

  it('resumes an interrupted snapshot from the next chunk', async () => {
    const full = await connect(TEST_TOKENS.dispatcher, { record: true });
    const chunks = full.frames.filter((f) => f.type === 'snapshot.chunk');
    expect(chunks.length).toBeGreaterThan(3);
    const snapshotId = full.snapshotId!;
    // A client that got the first two chunks before its link dropped: it keeps those and asks for the rest.
    const staged = new Map<string, Map<string, unknown>>(COLLECTIONS.map((c) => [c, new Map()]));
    for (const frame of chunks.slice(0, 2)) {
      const p = frame.payload as { collection: string; items: Array<{ id: string }> };
      for (const item of p.items) staged.get(p.collection)!.set(item.id, item);
    }
    const resumed = new WireClient({ url: full.welcome ? backend.url : '', token: TEST_TOKENS.dispatcher, record: true, resumeSnapshot: { snapshotId, nextIndex: 2 } });
    (resumed as unknown as { stagedSnapshot: unknown }).stagedSnapshot = staged;
    await resumed.waitSynced();
    expect(resumed.welcome?.sync).toBe('resume-snapshot');
    const begin = resumed.frames.find((f) => f.type === 'snapshot.begin')!;
    expect((begin.payload as { fromIndex: number }).fromIndex).toBe(2);
    const resumedChunks = resumed.frames.filter((f) => f.type === 'snapshot.chunk');
    expect(resumedChunks).toHaveLength(chunks.length - 2);
    expect(resumedChunks[0]!.payload).toMatchObject({ index: 2 });
    for (const name of ['grids', 'staff', 'events', 'cameras', 'kpis']) expect(resumed.all(name)).toEqual(full.all(name));
    // An unknown snapshot id falls back to a full snapshot.
    const unknown = await connect(TEST_TOKENS.dispatcher, { resumeSnapshot: { snapshotId: 'snap-nope', nextIndex: 3 } });
    expect(unknown.welcome?.sync).toBe('snapshot');
    for (const c of [full, resumed, unknown]) c.close();
  });
});

describe('restart', () => {
  it('a restarted backend keeps its state and sequence; a client resumes with deltas only', async ({ dataDir }) => {
    // Two backends in turn on one data dir: the restart is what is tested, so they stay explicit here.
    let first: RunningBackend | null = await startTestBackend({}, dataDir);
    const c = new WireClient({ url: first.url, token: TEST_TOKENS.dispatcher, clientId: 'restart-client-1' });
    await c.waitSynced();
    const grid = c.all<Grid>('grids')[0]!;
    await c.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '夜间施工噪音', description: '', location: grid.center });
    const seq = c.seq;
    c.close();
    await first.close();
    first = null;
    const second = await startTestBackend({}, dataDir);
    expect(second.state.seq).toBeGreaterThanOrEqual(seq);
    const again = new WireClient({ url: second.url, token: TEST_TOKENS.dispatcher, clientId: 'restart-client-1', lastSeq: seq });
    await again.waitSynced();
    expect(again.welcome?.sync).toBe('deltas');
    expect(again.gaps).toEqual([]);
    again.close();
    await second.close();
  }, 60_000);
});
