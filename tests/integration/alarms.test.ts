/**
 * The center's alarms on the real path (backend on SQLite, real WebSockets, the alarm service's rounds on a fake
 * wall clock): what is already serious or overdue rings at start, an acknowledgement at one console reaches the
 * others with who and which console and is in the audit, the chain climbs once per rung as a 督办 on the timeline
 * (another round, another client: no second), a district user sees its district's alarms only, a hand-over
 * leaving an alarm out is refused in Chinese, and an alarm goes with its event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKENS, startTestBackend } from '../../harness/backend';
import { WireClient, clientPool, until } from '../../harness/wire-client';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import type { Alarm, GovEvent, TimelineRecord } from '../../protocol';

const MIN = 60_000;
let wall = Date.parse('2026-11-30T09:00:00Z');
let backend: Awaited<ReturnType<typeof startTestBackend>>;
const pool = clientPool(() => backend.url);
const clients: WireClient[] = [];
async function connect(token: string, clientName?: string): Promise<WireClient> {
  const client = await pool.connect(token, clientName ? { clientName } : {});
  clients.push(client);
  return client;
}
const ringing = (c: WireClient) => c.all<Alarm>('alarms').filter((a) => a.ackedAt === null);
const OPEN = new Set(['new', 'accepted', 'dispatched', 'handling', 'handled', 'followed-up']);

beforeAll(async () => {
  backend = await startTestBackend({ wallClock: () => wall, startAtMs: wall });
});
afterAll(async () => {
  pool.closeAll();
  await backend?.close();
  backend?.cleanup();
});

describe('alarms owned by the center', () => {
  it('rings at start for what is already serious, acknowledged at one console and silent at the other', async () => {
    // Two serious events reported now, one in district d01 and one elsewhere.
    const a = await connect(TEST_TOKENS.dispatcher, '综治指挥调度台 · 坐席 A');
    const grids = a.all<{ id: string; districtId: string; center: [number, number] }>('grids');
    const inD01 = grids.find((g) => g.districtId === 'd01')!;
    const elsewhere = grids.find((g) => g.districtId !== 'd01')!;
    const report = (title: string, at: [number, number]) => a.command('event.report', { source: 'hotline', category: 'fire-hazard', severity: 4, title, description: '', location: at });
    const one = (await report('仓库冒烟', inD01.center)).result.eventId as string;
    const two = (await report('商场电梯困人', elsewhere.center)).result.eventId as string;
    await backend.alarms.run();
    const b = await connect(TEST_TOKENS.duty, '综治指挥调度台 · 坐席 B');
    const openSerious = b.all<GovEvent>('events').filter((e) => OPEN.has(e.status) && e.severity >= 3).map((e) => e.id);
    expect(openSerious).toEqual(expect.arrayContaining([one, two]));
    // Every open serious event has its alarm (those of the generated history included); each alarm's event is open.
    for (const x of b.all<Alarm>('alarms')) expect(OPEN.has(b.get<GovEvent>('events', x.eventId)!.status)).toBe(true);
    for (const id of openSerious) expect(b.get<Alarm>('alarms', `alarm-${id}`)).toBeDefined();
    expect(b.get<Alarm>('alarms', `alarm-${one}`)).toMatchObject({ rung: 1, ackedAt: null, reasons: [expect.objectContaining({ kind: 'severe' })] });

    await a.command('alarm.acknowledge', { alarmId: `alarm-${one}` });
    await until(() => Boolean(b.get<Alarm>('alarms', `alarm-${one}`)?.ackedAt), 'the acknowledgement at console B');
    expect(b.get<Alarm>('alarms', `alarm-${one}`)).toMatchObject({ ackedBy: '调度员 张敏', ackedById: 'dispatcher', ackedConsole: '综治指挥调度台 · 坐席 A' });
    const audit = (backend.store as SqliteStore).auditLog(1000).filter((l) => l.kind === 'command' && l.detail.type === 'alarm.acknowledge');
    expect(audit.map((l) => [l.userId, l.detail.clientName, (l.detail.payload as { alarmId: string }).alarmId])).toContainEqual(['dispatcher', '综治指挥调度台 · 坐席 A', `alarm-${one}`]);
    // Acknowledged twice: refused, saying by whom.
    await expect(b.command('alarm.acknowledge', { alarmId: `alarm-${one}` })).rejects.toThrow(/告警 .* 已由 调度员 张敏 于 .* 确认（综治指挥调度台 · 坐席 A）/);

    // A district dispatcher sees its district's alarms only.
    const d01 = await connect(TEST_TOKENS['dispatcher-d01']);
    expect(d01.get<Alarm>('alarms', `alarm-${one}`)).toBeDefined();
    expect(d01.get<Alarm>('alarms', `alarm-${two}`)).toBeUndefined();
    await expect(d01.command('alarm.acknowledge', { alarmId: `alarm-${two}` })).rejects.toThrow(/不在您的辖区内/);
    // A viewer may not; an unknown alarm is said so.
    const viewer = await connect(TEST_TOKENS.viewer);
    await expect(viewer.command('alarm.acknowledge', { alarmId: `alarm-${two}` })).rejects.toThrow(/账号不能执行 alarm.acknowledge/);
    await expect(b.command('alarm.acknowledge', { alarmId: 'alarm-E-nope' })).rejects.toThrow(/告警 alarm-E-nope 不存在/);
  });

  it('climbs the chain once per rung on the fake clock, each a 督办 on the timeline; a hand-over must name what rings', async () => {
    const b = clients[1]!;
    const target = ringing(b).find((x) => x.rung === 1)!;
    expect(target).toBeDefined();
    const supervisions = () => b.all<TimelineRecord>('timeline').filter((t) => t.eventId === target.eventId && t.action === 'supervise' && t.actor === 'system:alarms');
    wall += 2 * MIN;
    await backend.alarms.run();
    expect(b.get<Alarm>('alarms', target.id)!.rung).toBe(1);
    wall += 1 * MIN + 1000;
    await backend.alarms.run();
    await backend.alarms.run();
    await until(() => b.get<Alarm>('alarms', target.id)?.rung === 2, 'rung 2');
    await until(() => supervisions().length === 1, 'one 督办');
    expect(supervisions()[0]!.note).toBe('告警 3 分钟未确认，升级至值班长督办（第 2 级）');
    wall += 5 * MIN + 1000;
    await backend.alarms.run();
    await until(() => b.get<Alarm>('alarms', target.id)?.rung === 3, 'rung 3');
    wall += 60 * MIN;
    await backend.alarms.run();
    expect(b.get<Alarm>('alarms', target.id)!.rung).toBe(3);
    await until(() => supervisions().length === 2, 'two 督办 in all');
    expect(b.get<GovEvent>('events', target.eventId)!.supervised).toBe(true);

    // 交接班: refused while an alarm is left out, named in Chinese; accepted when every one is handed over.
    await until(() => b.seq === backend.state.seq, 'console B up to date');
    const all = ringing(b).map((x) => x.id);
    expect(all.length).toBeGreaterThan(0);
    await expect(b.command('duty.handover', { notes: '夜班', openItems: [], toUserId: null, alarmIds: all.slice(1) })).rejects.toThrow(/还有 1 条未确认告警没有列入交接/);
    const ack = await b.command('duty.handover', { notes: '夜班', openItems: [], toUserId: null, alarmIds: all });
    await until(() => b.get<{ alarms: unknown[] }>('handovers', ack.result.handoverId as string) !== undefined, 'the hand-over');
    expect(b.get<{ alarms: Array<{ alarmId: string }> }>('handovers', ack.result.handoverId as string)!.alarms.map((x) => x.alarmId).sort()).toEqual([...all].sort());
  });

  it('goes with its event: merged → removed at every console', async () => {
    const a = clients[0]!;
    const b = clients[1]!;
    const [first, second] = ringing(a).filter((x) => b.get<GovEvent>('events', x.eventId)?.status === 'new');
    expect(second).toBeDefined();
    await a.command('event.merge', { eventId: first!.eventId, intoEventId: second!.eventId });
    await backend.alarms.run();
    await until(() => b.get<Alarm>('alarms', first!.id) === undefined, 'the alarm removed');
    expect(b.get<Alarm>('alarms', second!.id)).toBeDefined();
  });
});
