/**
 * User administration (用户管理) over real HTTP and WebSocket on one backend: the administrator creates a
 * street-scoped user with an initial password, who signs in (POST /auth/login) and is sent only their street; the
 * administrator moves them to another street and their open connection is closed (4012) and resynced by a
 * snapshot of the new street (not deltas of the old one); disabling closes it with 4011 and refuses sign-in.
 * Escalation and bad input, each refused and audited: a dispatcher at the admin routes, the administrator editing
 * their own role, demoting the last administrator, an unknown unit, a login taken, bodies that are not a user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUserList, AdminUserRow, LoginAnswer, WireCloseCode, type AdminUnit, type GovEvent, type Grid, type Staff } from '../../protocol';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let http: string;
const clients: WireClient[] = [];
let streetA: AdminUnit;
let streetB: AdminUnit;
let gridA: Grid;
let gridB: Grid;
const PASSWORD = 'jiedao-2024-secret';

beforeAll(async () => {
  backend = await startTestBackend();
  http = `http://127.0.0.1:${backend.port}`;
  const units = [...backend.state.collections.adminUnits.values()];
  streetA = units.find((u) => u.level === 'street' && u.parentId === 'd01')!;
  streetB = units.find((u) => u.level === 'street' && u.parentId === 'd02')!;
  const grids = [...backend.state.collections.grids.values()];
  gridA = grids.find((g) => g.streetId === streetA.id)!;
  gridB = grids.find((g) => g.streetId === streetB.id)!;
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await backend?.close();
  backend?.cleanup();
});

const call = (method: string, path: string, body?: unknown, token: string = TEST_TOKENS.admin, type = 'application/json'): Promise<Response> =>
  fetch(`${http}${path}`, { method, headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': type } : {}) }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
const userAdminAudit = async () => (await (backend.store as SqliteStore).auditLog(500)).filter((e) => e.kind === 'user-admin');
const connect = async (token: string, lastSeq: number | null = null, syncStamp?: string): Promise<WireClient> => {
  const c = new WireClient({ url: backend.url, token, lastSeq, ...(syncStamp ? { syncStamp } : {}) });
  clients.push(c);
  await c.waitSynced();
  return c;
};
const report = async (c: WireClient, grid: Grid, title: string): Promise<string> =>
  String((await c.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title, description: '', location: grid.center })).result.eventId);
const streetOf = (gridId: string): string | undefined => backend.state.get('grids', gridId)?.streetId;

describe('the administrator creates a street user, who sees their street; a changed scope takes effect at once', () => {
  it('creates, lists (no hashes), signs in, sees only the street; moved to another street: closed 4012 and resynced by snapshot; disabled: closed 4011', async () => {
    const cityWide = await connect(TEST_TOKENS.dispatcher);
    const inA = await report(cityWide, gridA, '甲街道事件');
    const inB = await report(cityWide, gridB, '乙街道事件');

    const created = await call('POST', '/admin/users', { id: 'jd-chief', name: '街道指挥 孙伟', role: 'dispatcher', scope: [streetA.id], password: PASSWORD });
    expect(created.status).toBe(201);
    const row = AdminUserRow.parse(await created.json());
    expect(row).toMatchObject({ id: 'jd-chief', role: 'dispatcher', disabled: false, hasPassword: true, lockedUntil: null, scope: [{ id: streetA.id, level: 'street', code: streetA.code }] });
    const listed = await call('GET', '/admin/users');
    const text = await listed.text();
    expect(AdminUserList.parse(JSON.parse(text)).users.map((u) => u.id)).toEqual(expect.arrayContaining(['admin', 'dispatcher', 'jd-chief']));
    expect(text).not.toMatch(/scrypt|tokenHash|token_hash|passwordHash/);

    const login = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'jd-chief', password: PASSWORD, client: { id: 'street-console' } }) });
    expect(login.status).toBe(200);
    const session = LoginAnswer.parse(await login.json());
    const user = await connect(session.sessionToken);
    expect(user.welcome?.districtScope).toEqual([streetA.id]);
    expect(user.get('events', inA)).toBeDefined();
    expect(user.get('events', inB)).toBeUndefined();
    expect(user.all<GovEvent>('events').every((e) => streetOf(e.gridId) === streetA.id)).toBe(true);
    expect(user.all<Staff>('staff').length).toBeGreaterThan(0);
    expect(user.all<Staff>('staff').every((s) => streetOf(s.gridId) === streetA.id)).toBe(true);

    // Moved to street B: the open connection closes with rightsChanged; resuming from its cursor gets a snapshot.
    const moved = await call('PATCH', '/admin/users/jd-chief', { scope: [streetB.id] });
    expect(moved.status).toBe(200);
    expect(AdminUserRow.parse(await moved.json()).scope?.map((u) => u.id)).toEqual([streetB.id]);
    await until(() => user.closed !== null, 'the connection closed');
    expect(user.closed?.code).toBe(WireCloseCode.rightsChanged);
    const again = await connect(session.sessionToken, user.seq, user.welcome!.syncStamp);
    expect(again.welcome?.sync).toBe('snapshot');
    expect(again.welcome?.districtScope).toEqual([streetB.id]);
    expect(again.get('events', inB)).toBeDefined();
    expect(again.get('events', inA)).toBeUndefined();
    expect(again.all<Staff>('staff').every((s) => streetOf(s.gridId) === streetB.id)).toBe(true);
    // Live: an event in street A no longer arrives, one in street B does.
    const liveA = await report(cityWide, gridA, '甲街道新事件');
    const liveB = await report(cityWide, gridB, '乙街道新事件');
    await until(() => again.get('events', liveB) !== undefined, 'the street B event');
    expect(again.get('events', liveA)).toBeUndefined();
    // A later reconnection with a cursor past the change resumes by deltas again.
    again.close();
    const later = await connect(session.sessionToken, again.seq, again.welcome!.syncStamp);
    expect(later.welcome?.sync).toBe('deltas');
    // The area changed behind the routes' back (as `users scope` on the command line does: no mark anywhere): the
    // cursor's stamp is another area's, so a snapshot of street A again, never deltas over street B's records.
    const stored = (await backend.store.listUsers()).find((u) => u.id === 'jd-chief')!;
    await backend.store.upsertUsers([{ ...stored, districtScope: [streetA.id] }]);
    const direct = await connect(session.sessionToken, later.seq, later.welcome!.syncStamp);
    expect(direct.welcome?.sync).toBe('snapshot');
    expect(direct.get('events', inA)).toBeDefined();
    expect(direct.get('events', inB)).toBeUndefined();
    await backend.store.upsertUsers([stored]);
    direct.close();
    await until(() => later.closed !== null, 'the console of the old area closed');
    expect(later.closed?.code).toBe(WireCloseCode.rightsChanged);
    const current = await connect(session.sessionToken);
    const audit = await userAdminAudit();
    expect(audit.find((e) => e.detail.action === 'update' && e.detail.target === 'jd-chief')?.detail).toMatchObject({ before: { scope: [streetA.id] }, after: { scope: [streetB.id] }, passwordSet: false, connectionsClosed: 1 });
    expect(audit.find((e) => e.detail.action === 'create')?.detail).toMatchObject({ target: 'jd-chief', after: { role: 'dispatcher', scope: [streetA.id], disabled: false }, passwordSet: true });
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);

    // Disabled: closed as an ended session, sign-in refused; enabled again with a reset password: signs in.
    expect((await call('PATCH', '/admin/users/jd-chief', { disabled: true })).status).toBe(200);
    await until(() => current.closed !== null, 'the connection closed');
    expect(current.closed?.code).toBe(WireCloseCode.sessionExpired);
    const refused = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'jd-chief', password: PASSWORD, client: { id: 'street-console' } }) });
    expect(refused.status).toBe(403);
    const enabled = await call('PATCH', '/admin/users/jd-chief', { disabled: false, password: 'a-new-password-99' });
    expect(AdminUserRow.parse(await enabled.json())).toMatchObject({ disabled: false, hasPassword: true });
    const back = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'jd-chief', password: 'a-new-password-99', client: { id: 'street-console' } }) });
    expect(back.status).toBe(200);
  });
});

describe('refusals, each audited', () => {
  it('refuses a dispatcher, a district administrator, no token; the administrator editing their own rights; the last administrator', async () => {
    const dispatcher = await call('GET', '/admin/users', undefined, TEST_TOKENS.dispatcher);
    expect(dispatcher.status).toBe(403);
    expect((await dispatcher.json()).message).toMatch(/仅限全市范围的系统管理员/);
    expect((await call('POST', '/admin/users', { id: 'sneaky', name: 'x', role: 'admin', scope: null, password: 'whatever-1234' }, TEST_TOKENS.leader)).status).toBe(403);
    expect((await call('GET', '/admin/users', undefined, 'not-a-token-at-all')).status).toBe(401);
    // The only administrator: demoting or disabling them would leave none.
    const last = await call('PATCH', '/admin/users/admin', { role: 'dispatcher' });
    expect(last.status).toBe(409);
    expect((await last.json()).message).toMatch(/最后一位全市系统管理员/);
    expect((await call('PATCH', '/admin/users/admin', { disabled: true })).status).toBe(409);
    // With a second administrator, still not their own rights.
    expect((await call('POST', '/admin/users', { id: 'admin-2', name: '系统管理员 二', role: 'admin', scope: null, password: 'admin-two-password' })).status).toBe(201);
    const own = await call('PATCH', '/admin/users/admin', { role: 'leader' });
    expect(own.status).toBe(403);
    expect((await own.json()).message).toMatch(/不能更改自己的角色、辖区或停用状态/);
    expect((await call('PATCH', '/admin/users/admin', { scope: [streetA.id] })).status).toBe(403);
    // Their own name is theirs to change.
    expect((await call('PATCH', '/admin/users/admin', { name: '系统管理员 赵磊（值班）' })).status).toBe(200);
    const refusedAudit = (await userAdminAudit()).filter((e) => typeof e.detail.refused === 'number');
    expect(refusedAudit.filter((e) => e.userId === 'dispatcher' && e.detail.refused === 403)).toHaveLength(1);
    expect(refusedAudit.filter((e) => e.userId === 'leader' && e.detail.refused === 403)).toHaveLength(1);
    expect(refusedAudit.filter((e) => e.userId === null && e.detail.refused === 401)).toHaveLength(1);
    expect(refusedAudit.filter((e) => e.userId === 'admin' && e.detail.code === 'last-admin')).toHaveLength(2);
    expect(refusedAudit.filter((e) => e.userId === 'admin' && e.detail.code === 'own-rights')).toHaveLength(2);
    expect((await backend.store.listUsers()).find((u) => u.id === 'admin')).toMatchObject({ role: 'admin', districtScope: null });
  });

  it('refuses an unknown unit (naming it), a login taken, bad bodies: nothing written', async () => {
    const before = (await backend.store.listUsers()).length;
    const unknown = await call('POST', '/admin/users', { id: 'ghost-user', name: '无此街道', role: 'dispatcher', scope: [streetA.id, 'no-such-street', 'x9'], password: 'long-enough-pw' });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).message).toMatch(/不存在的区县、街道或社区：no-such-street、x9/);
    expect((await call('PATCH', '/admin/users/dispatcher', { scope: ['nowhere'] })).status).toBe(400);
    const dup = await call('POST', '/admin/users', { id: 'dispatcher', name: '重名', role: 'viewer', scope: null, password: 'long-enough-pw' });
    expect(dup.status).toBe(409);
    expect((await dup.json()).message).toMatch(/登录名 dispatcher 已被占用/);
    const reserved = await call('POST', '/admin/users', { id: 'sim-zhang', name: '张三', role: 'dispatcher', scope: null, password: 'long-enough-pw' });
    expect(reserved.status).toBe(400);
    expect((await reserved.json()).message).toContain('留给模拟人员');
    const bad: Array<[string, string, unknown, string?]> = [
      ['POST', '/admin/users', '{not json'],
      ['POST', '/admin/users', { id: 'short-pw', name: 'x', role: 'dispatcher', scope: null, password: 'short' }],
      ['POST', '/admin/users', { id: '中文名', name: 'x', role: 'dispatcher', scope: null, password: 'long-enough-pw' }],
      ['POST', '/admin/users', { id: 'no-role', name: 'x', role: 'root', scope: null, password: 'long-enough-pw' }],
      ['POST', '/admin/users', { id: 'extra', name: 'x', role: 'viewer', scope: null, password: 'long-enough-pw', tokenHash: 'x' }],
      ['POST', '/admin/users', { id: 'empty-scope', name: 'x', role: 'viewer', scope: [], password: 'long-enough-pw' }],
      ['PATCH', '/admin/users/dispatcher', {}],
      ['PATCH', '/admin/users/dispatcher', { role: 'dispatcher', password: ' padded-password ' }],
    ];
    for (const [method, path, body] of bad) expect((await call(method, path, body)).status, JSON.stringify(body)).toBe(400);
    expect((await call('POST', '/admin/users', 'id=x', TEST_TOKENS.admin, 'text/plain')).status).toBe(415);
    expect((await call('PATCH', '/admin/users/nobody-here', { name: 'x' })).status).toBe(404);
    expect((await call('DELETE', '/admin/users/dispatcher')).status).toBe(405);
    expect((await backend.store.listUsers()).length).toBe(before);
    expect((await backend.store.listUsers()).find((u) => u.id === 'dispatcher')).toMatchObject({ role: 'dispatcher', districtScope: null });
    const refused = (await userAdminAudit()).filter((e) => e.userId === 'admin' && typeof e.detail.refused === 'number');
    expect(refused.filter((e) => e.detail.code === 'unknown-units')).toHaveLength(2);
    expect(refused.filter((e) => e.detail.code === 'duplicate')).toHaveLength(1);
    expect(refused.filter((e) => e.detail.code === 'invalid').length).toBeGreaterThanOrEqual(bad.length);
  });
});
