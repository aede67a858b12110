/**
 * Everything a broken or hostile client can send: each gets a clear error frame or close reason, the server
 * keeps serving everyone else, and nothing wrong is stored. Also roles and area scopes (分层授权).
 */
import { afterAll, describe, expect } from 'vitest';
import { WebSocket } from 'ws';
import { MAX_FRAME_BYTES, encodeFrame, type GovEvent, type Grid, type Staff } from '../../protocol';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';
import { it } from '../../harness/fixtures';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let bystander: WireClient;

it.override('backendConfig', { limits: { framesPerSecond: 50, commandsPerSecond: 10, helloTimeoutMs: 500 } });
// The file's backend (the `backend` fixture: started here, within the hook's time, and closed after the file).
it.beforeAll(async ({ backend: fileBackend }) => {
  backend = fileBackend;
  bystander = new WireClient({ url: backend.url, token: TEST_TOKENS.leader });
  await bystander.waitSynced();
}, 60_000);
afterAll(() => {
  bystander.close();
});

/** The bystander is still served: a ping is answered. */
async function bystanderStillServed(): Promise<void> {
  const pong = new Promise<void>((resolve) => bystander.ws.once('message', () => resolve()));
  bystander.sendRaw(encodeFrame('ping', { clientTime: new Date().toISOString() }, 'p1'));
  await pong;
  expect(bystander.closed).toBeNull();
}

async function connect(token: string = TEST_TOKENS.dispatcher): Promise<WireClient> {
  const c = new WireClient({ url: backend.url, token });
  await c.waitSynced();
  return c;
}

function rawSocket(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(backend.url);
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

function nextFrame(ws: WebSocket): Promise<{ type: string; payload: Record<string, unknown> }> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

describe('handshake refusals', () => {
  it('a bad token is refused with an error frame and close 4003, and audited', async () => {
    const c = new WireClient({ url: backend.url, token: 'stolen-or-guessed', record: true });
    expect((await c.waitClosed()).code).toBe(4003);
    expect(c.errors[0]).toMatchObject({ code: 'unauthorized' });
    expect((await backend.store.auditLog(20)).some((a) => a.kind === 'login-refused')).toBe(true);
    await bystanderStillServed();
  });

  it('a wrong protocol version is refused with close 4001', async () => {
    const ws = await rawSocket();
    const closed = closeOf(ws);
    ws.send(JSON.stringify({ v: 1, type: 'hello', payload: { token: TEST_TOKENS.dispatcher, clientId: 'client-version-9', protocolVersion: 9, lastSeq: null } }));
    expect(await nextFrame(ws)).toMatchObject({ type: 'error', payload: { code: 'unsupported-version' } });
    expect((await closed).code).toBe(4001);
    const envelope = await rawSocket();
    const closed2 = closeOf(envelope);
    envelope.send(JSON.stringify({ v: 2, type: 'hello', payload: {} }));
    expect((await closed2).code).toBe(4001);
  });

  it('anything but hello first, or silence, closes the connection', async () => {
    const ws = await rawSocket();
    const closed = closeOf(ws);
    ws.send(encodeFrame('command', { commandId: 'cmd-before-hello', type: 'level.set', payload: {}, issuedAt: new Date().toISOString() }));
    expect((await closed).code).toBe(4003);
    const silent = await rawSocket();
    expect((await closeOf(silent)).code).toBe(4003);
    await bystanderStillServed();
  });
});

describe('malformed frames after the handshake', () => {
  it.each([
    ['not JSON', '{"v":1,"type":', 'malformed'],
    ['not an envelope', '{"hello":true}', 'malformed'],
    ['an unknown type', encodeFrame('launch.missiles', {}), 'unknown-type'],
    ['a ping without a time', encodeFrame('ping', {}), 'invalid'],
    ['a command frame without an id', encodeFrame('command', { type: 'event.accept', payload: {}, issuedAt: new Date().toISOString() }), 'invalid'],
  ])('%s gets an error frame and the connection stays usable', async (_name, raw, code) => {
    const c = await connect();
    c.sendRaw(raw);
    await until(() => c.errors.length > 0, 'the error frame');
    expect(c.errors[0]!.code).toBe(code);
    expect(c.errors[0]!.message.length).toBeGreaterThan(5);
    const grid = c.all<Grid>('grids')[0]!;
    const ack = await c.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '仍可使用', description: '', location: grid.center });
    expect(ack.seq).toBeGreaterThan(0);
    c.close();
  });

  it('a schema-violating command is refused with the failing fields, and nothing is stored', async () => {
    const c = await connect();
    const seq = backend.state.seq;
    const events = backend.state.collections.events.size;
    const bad = [
      { source: 'pigeon', category: 'noise', severity: 1, title: 'x', description: '', location: [117, 36.6] },
      { source: 'hotline', category: 'noise', severity: 9, title: 'x', description: '', location: [117, 36.6] },
      { source: 'hotline', category: 'noise', severity: 1, title: '', description: '', location: [117, 36.6] },
      { source: 'hotline', category: 'noise', severity: 1, title: 'x', description: '', location: [500, 36.6] },
      { source: 'hotline', category: 'no-such-category', severity: 1, title: 'x', description: '', location: [117.02, 36.66] },
      { source: 'hotline', category: 'noise', severity: 1, title: 'x', description: '', location: [0, 0] },
    ];
    for (const payload of bad) {
      const error = await c.command('event.report', payload).catch((e: { wire: { code: string; message: string } }) => e.wire);
      expect(error).toMatchObject({ code: 'invalid' });
    }
    await expect(c.command('event.teleport', {})).rejects.toThrow(/未知的指令类型/);
    expect(backend.state.seq).toBe(seq);
    expect(backend.state.collections.events.size).toBe(events);
    c.close();
  });

  it('an oversized frame closes that connection with 1009; others carry on', async () => {
    const c = await connect();
    c.sendRaw('x'.repeat(MAX_FRAME_BYTES + 10));
    expect((await c.waitClosed()).code).toBe(1009);
    await bystanderStillServed();
  });

  it('a binary frame is refused', async () => {
    const c = await connect();
    c.sendRaw(Buffer.from([0, 1, 2]));
    await until(() => c.errors.length > 0, 'the error');
    expect(c.errors[0]!.code).toBe('malformed');
    c.close();
  });
});

describe('floods and rate limits', () => {
  it('commands beyond the rate are refused as retryable; a frame flood closes the connection (4029)', async () => {
    const c = await connect();
    const grid = c.all<Grid>('grids')[0]!;
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => c.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: `洪水般的请求 ${i}`, description: '', location: grid.center })),
    );
    const limited = results.filter((r) => r.status === 'rejected' && (r.reason as { wire?: { code: string; retryable: boolean } }).wire?.code === 'rate-limited');
    expect(limited.length).toBeGreaterThan(5);
    expect((limited[0] as PromiseRejectedResult).reason.wire.retryable).toBe(true);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(10);
    c.close();

    const flooder = await connect();
    for (let i = 0; i < 600; i++) flooder.sendRaw(encodeFrame('ping', { clientTime: new Date().toISOString() }));
    expect((await flooder.waitClosed()).code).toBe(4029);
    await bystanderStillServed();
  });
});

describe('roles and area scopes', () => {
  it('the viewer (demo screen) and the leader may not dispatch; the server says why', async () => {
    const d = await connect();
    const grid = d.all<Grid>('grids')[0]!;
    const eventId = String((await d.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '角色测试', description: '', location: grid.center })).result.eventId);
    const viewer = await connect(TEST_TOKENS.viewer);
    await expect(viewer.command('event.dispatch', { eventId, departmentId: 'dept-urban' })).rejects.toMatchObject({ wire: { code: 'forbidden' } });
    await expect(viewer.command('level.set', { level: 'emergency', reason: 'x' })).rejects.toThrow(/演示（只读）账号不能执行 level.set/);
    const leader = await connect(TEST_TOKENS.leader);
    await expect(leader.command('event.dispatch', { eventId, departmentId: 'dept-urban' })).rejects.toMatchObject({ wire: { code: 'forbidden' } });
    await expect(d.command('level.set', { level: 'emergency', reason: 'x' })).rejects.toMatchObject({ wire: { code: 'forbidden' } });
    expect(backend.state.get('events', eventId)!.status).toBe('new');
    const rejected = (await backend.store.auditLog(50)).filter((a) => a.kind === 'command-rejected' && a.userId === 'viewer');
    expect(rejected.length).toBeGreaterThanOrEqual(2);
    for (const c of [d, viewer, leader]) c.close();
  });

  it('a district-scoped dispatcher sees and acts only in its district', async () => {
    const cityWide = await connect();
    const scoped = await connect(TEST_TOKENS['dispatcher-d01']);
    expect(scoped.welcome?.districtScope).toEqual(['d01']);
    expect(scoped.all<Staff>('staff').every((s) => s.districtId === 'd01')).toBe(true);
    expect(scoped.all<GovEvent>('events').every((e) => e.districtId === 'd01')).toBe(true);
    expect(scoped.all('staff').length).toBeLessThan(cityWide.all('staff').length);
    expect(scoped.all('grids').length).toBe(cityWide.all('grids').length); // the map context stays whole
    const outside = cityWide.all<Grid>('grids').find((g) => g.districtId === 'd02')!;
    const inside = cityWide.all<Grid>('grids').find((g) => g.districtId === 'd01')!;
    const foreign = String((await cityWide.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '二区事件', description: '', location: outside.center })).result.eventId);
    await expect(scoped.command('event.accept', { eventId: foreign })).rejects.toThrow(/不在您的辖区/);
    await expect(scoped.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: 'x', description: '', location: outside.center })).rejects.toMatchObject({ wire: { code: 'forbidden' } });
    const own = String((await scoped.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '一区事件', description: '', location: inside.center })).result.eventId);
    await until(() => scoped.get('events', own) !== undefined, 'own event');
    // The foreign event never reached the scoped console, but its seq did (empty delta): no false gap.
    expect(scoped.get('events', foreign)).toBeUndefined();
    expect(scoped.gaps).toEqual([]);
    cityWide.close();
    scoped.close();
  });

  it('a removal reaches a district-scoped console only when the removed item was in its district', async () => {
    const cityWide = await connect();
    const scoped = new WireClient({ url: backend.url, token: TEST_TOKENS['dispatcher-d01'], record: true });
    await scoped.waitSynced();
    const [inside, outside] = ['d01', 'd02'].map((d) => [...backend.state.all('resources')].find((r) => r.districtId === d)!);
    await backend.server.commitSystemChanges(() => [
      { op: 'remove', collection: 'resources', id: inside!.id },
      { op: 'remove', collection: 'resources', id: outside!.id },
    ]);
    await until(() => cityWide.get('resources', outside!.id) === undefined && scoped.seq === cityWide.seq, 'the removal delta');
    expect(cityWide.get('resources', inside!.id)).toBeUndefined();
    expect(scoped.get('resources', inside!.id)).toBeUndefined();
    const last = scoped.frames.filter((f) => f.type === 'delta').at(-1)!.payload as { changes: Array<{ id: string }> };
    expect(last.changes.map((c) => c.id)).toEqual([inside!.id]);
    expect(scoped.gaps).toEqual([]);
    cityWide.close();
    scoped.close();
  });

  it('dispatching to an offline staff member is refused with a reason a dispatcher can act on', async () => {
    const d = await connect();
    const offline = [...backend.state.all('staff')].find((s) => s.status === 'offline' && s.districtId === 'd01');
    const staff = offline ?? [...backend.state.all('staff')][0]!;
    if (!offline) backend.state.collections.staff.set(staff.id, { ...staff, status: 'offline' });
    const grid = backend.state.get('grids', staff.gridId)!;
    const eventId = String((await d.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '派给离线人员', description: '', location: grid.center })).result.eventId);
    await expect(d.command('event.dispatch', { eventId, staffId: staff.id })).rejects.toThrow(/已离线，不能接收事件/);
    d.close();
  });
});

describe('audit log', () => {
  it('records logins and commands, and cannot be rewritten', async () => {
    const log = await backend.store.auditLog(500);
    expect(log.some((a) => a.kind === 'login' && a.userId === 'dispatcher')).toBe(true);
    expect(log.some((a) => a.kind === 'command' && (a.detail as { type?: string }).type === 'event.report')).toBe(true);
    const db = (backend.store as unknown as { db: { prepare(sql: string): { run(): unknown } } }).db;
    expect(() => db.prepare("UPDATE audit SET kind = 'login' WHERE id = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
  });
});
