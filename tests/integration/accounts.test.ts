/**
 * Accounts of every kind (issue 19) over real HTTP and WebSocket on one backend: the administrator makes a
 * 部门联络员 (liaison, bound to a department) and a 网格员 (field, bound to a staff member) account — a missing or
 * unknown department or staff member refused (400), a staff member with an account (409), each audited; each kind
 * signs in to its own app and is refused at the others (403 wrong-app after the password, audited, no failure
 * counted), a field session at the console's WebSocket and /audit too; the field app's /field/api/me and the
 * department page's /department/api/me with their session; sign-out; the 督查 (inspector) reads the audit and
 * runs no command; the bulk `users field-accounts` command (CSV, mode 600, never overwritten).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AdminUserRow, DepartmentMe, FieldMe, LoginAnswer, WireCloseCode, validate, type Department, type Staff } from '../../protocol';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient } from '../../harness/wire-client';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let http: string;
let staff: Staff[];
let department: Department;
const PASSWORD = 'accounts-test-secret';

beforeAll(async () => {
  backend = await startTestBackend({ sip: { url: 'ws://127.0.0.1:5999', secret: 'accounts-test-sip-secret' } });
  http = `http://127.0.0.1:${backend.port}`;
  staff = [...backend.state.collections.staff.values()];
  // The department with the most open events assigned to it (its queue is checked below).
  const open = [...backend.state.collections.events.values()].filter((e) => e.assignee?.departmentId && e.status !== 'closed' && e.status !== 'merged');
  const count = (id: string): number => open.filter((e) => e.assignee?.departmentId === id).length;
  department = [...backend.state.collections.departments.values()].sort((a, b) => count(b.id) - count(a.id))[0]!;
}, 60_000);
afterAll(async () => {
  await backend?.close();
  backend?.cleanup();
});

const admin = (method: string, path: string, body?: unknown): Promise<Response> =>
  fetch(`${http}${path}`, { method, headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
const login = (user: string, app?: 'console' | 'field' | 'department', password = PASSWORD): Promise<Response> =>
  fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password, client: { id: `test-${user}` }, ...(app ? { app } : {}) }) });
const bearer = (path: string, token: string): Promise<Response> => fetch(`${http}${path}`, { headers: { Authorization: `Bearer ${token}` } });
const audit = () => (backend.store as SqliteStore).auditLog(2000);
const sessionOf = async (user: string, app: 'console' | 'field' | 'department'): Promise<string> => {
  const answer = await login(user, app);
  expect(answer.status, `${user} at ${app}`).toBe(200);
  return LoginAnswer.parse(await answer.json()).sessionToken;
};

describe('liaison, field and inspector accounts', () => {
  it('the administrator makes them; a missing or unknown department or staff member, a taken one, a link for another role: refused and audited', async () => {
    const made = await admin('POST', '/admin/users', { id: 'liaison-1', name: '联络员 周红', role: 'liaison', scope: null, password: PASSWORD, departmentId: department.id });
    expect(made.status).toBe(201);
    expect(AdminUserRow.parse(await made.json())).toMatchObject({ role: 'liaison', department: { id: department.id, name: department.name }, staff: null });
    const field = await admin('POST', '/admin/users', { id: 'field-1', name: staff[0]!.name, role: 'field', scope: null, password: PASSWORD, staffId: staff[0]!.id });
    expect(field.status).toBe(201);
    const grid = backend.state.get('grids', staff[0]!.gridId)!;
    expect(AdminUserRow.parse(await field.json()).staff).toEqual({ id: staff[0]!.id, name: staff[0]!.name, gridId: grid.id, gridName: grid.name });
    expect((await admin('POST', '/admin/users', { id: 'inspector-1', name: '督查 钱明', role: 'inspector', scope: null, password: PASSWORD })).status).toBe(201);

    const cases: Array<[Record<string, unknown>, number, string, RegExp]> = [
      [{ role: 'liaison' }, 400, 'department-required', /须选择所属部门/],
      [{ role: 'liaison', departmentId: 'no-such-dept' }, 400, 'unknown-department', /没有部门 no-such-dept/],
      [{ role: 'field' }, 400, 'staff-required', /须选择对应的网格员/],
      [{ role: 'field', staffId: 's-nobody' }, 400, 'unknown-staff', /没有工号为 s-nobody/],
      [{ role: 'field', staffId: staff[0]!.id }, 409, 'staff-taken', /已有账号 field-1/],
      [{ role: 'dispatcher', staffId: staff[1]!.id }, 400, 'no-staff', /只有网格员账号/],
    ];
    for (const [shape, status, code, message] of cases) {
      const answer = await admin('POST', '/admin/users', { id: 'bad-one', name: '坏账号', scope: null, password: PASSWORD, ...shape });
      expect(answer.status, JSON.stringify(shape)).toBe(status);
      const body = (await answer.json()) as { code: string; message: string };
      expect(body.code).toBe(code);
      expect(body.message).toMatch(message);
    }
    expect((await backend.store.listUsers()).some((u) => u.id === 'bad-one')).toBe(false);
    // Editing: another field account cannot take the staff member either; the liaison moved to an unknown department is refused.
    expect((await admin('POST', '/admin/users', { id: 'field-2', name: staff[1]!.name, role: 'field', scope: null, password: PASSWORD, staffId: staff[1]!.id })).status).toBe(201);
    expect((await admin('PATCH', '/admin/users/field-2', { staffId: staff[0]!.id })).status).toBe(409);
    expect((await admin('PATCH', '/admin/users/liaison-1', { departmentId: 'nope' })).status).toBe(400);
    const entries = audit().filter((e) => e.kind === 'user-admin');
    expect(entries.find((e) => e.detail.target === 'liaison-1' && e.detail.action === 'create')?.detail.after).toMatchObject({ role: 'liaison', departmentId: department.id });
    expect(entries.filter((e) => e.detail.target === 'bad-one' && e.detail.refused).map((e) => e.detail.code).sort()).toEqual(cases.map((c) => c[2]).sort());
    expect(entries.find((e) => e.detail.target === 'field-2' && e.detail.refused === 409)?.detail.code).toBe('staff-taken');
  });

  it('each signs in to its own app only: another app answers 403 wrong-app after the password (audited, not a failure); a wrong password says nothing more', async () => {
    const own: Array<[string, 'console' | 'field' | 'department']> = [['inspector-1', 'console'], ['field-1', 'field'], ['liaison-1', 'department']];
    for (const [user, app] of own) {
      await sessionOf(user, app);
      for (const other of (['console', 'field', 'department'] as const).filter((a) => a !== app)) {
        const refused = await login(user, other === 'console' ? undefined : other);
        expect(refused.status, `${user} at ${other}`).toBe(403);
        const body = (await refused.json()) as { code: string; message: string };
        expect(body.code).toBe('wrong-app');
        expect(body.message).toMatch(app === 'field' ? /只能登录网格员外勤端/ : app === 'department' ? /只能登录部门联络页/ : /只能登录指挥调度台/);
      }
      expect((await backend.store.findLogin(user))?.failedLogins).toBe(0);
    }
    expect(audit().filter((e) => e.kind === 'sign-in-refused' && e.userId === 'field-1' && e.detail.reason === 'wrong-app').map((e) => e.detail.app).sort()).toEqual(['console', 'department']);
    // A wrong password at the wrong app: the same 401 as anywhere.
    expect((await login('field-1', 'console', 'wrong-password-x')).status).toBe(401);
    expect((await login('dispatcher', 'field', 'wrong-password-x')).status).toBe(401);
  });

  it("a field session: the field route answers the staff member and tasks; refused (403, audited) at the console's WebSocket, /audit and the department route; signed out: 401", async () => {
    const token = await sessionOf('field-1', 'field');
    const me = await bearer('/field/api/me', token);
    expect(me.status).toBe(200);
    const checked = validate(FieldMe, await me.json());
    expect(checked.ok && checked.value.staff).toMatchObject({ id: staff[0]!.id, name: staff[0]!.name, simulated: false });

    const ws = new WireClient({ url: backend.url, token });
    expect((await ws.waitClosed()).code).toBe(WireCloseCode.unauthorized);
    expect(ws.errors[0]).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/只能登录网格员外勤端/) });
    const auditRoute = await bearer('/audit', token);
    expect(auditRoute.status).toBe(403);
    expect(((await auditRoute.json()) as { code: string }).code).toBe('wrong-app');
    expect((await bearer('/department/api/me', token)).status).toBe(403);
    const refusals = audit().filter((e) => e.kind === 'sign-in-refused' && e.userId === 'field-1' && e.detail.reason === 'wrong-app');
    expect(refusals.some((e) => e.detail.via === 'wire')).toBe(true);
    expect(refusals.some((e) => e.detail.path === '/audit')).toBe(true);
    expect(refusals.some((e) => e.detail.path === '/department/api/me')).toBe(true);

    // A console token at the field route: refused too; none at all: 401.
    expect((await bearer('/field/api/me', TEST_TOKENS.dispatcher)).status).toBe(403);
    expect((await fetch(`${http}/field/api/me`)).status).toBe(401);
    expect((await fetch(`${http}/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).status).toBe(204);
    const after = await bearer('/field/api/me', token);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { code: string; message: string }).code).toBe('session-expired');
  });

  it("the department route answers the liaison's department and its open queue, newest first", async () => {
    const token = await sessionOf('liaison-1', 'department');
    const answer = await bearer('/department/api/me', token);
    expect(answer.status).toBe(200);
    const me = DepartmentMe.parse(await answer.json());
    expect(me.department).toEqual({ id: department.id, name: department.name });
    const expected = [...backend.state.collections.events.values()]
      .filter((e) => e.assignee?.departmentId === department.id && e.status !== 'closed' && e.status !== 'merged')
      .sort((a, b) => b.reportedAt.localeCompare(a.reportedAt))
      .slice(0, 50)
      .map((e) => e.id);
    expect(me.queue.map((e) => e.id)).toEqual(expected);
    expect((await bearer('/field/api/me', token)).status).toBe(403);
  });

  it('the inspector reads the audit (and its CSV) but runs no command', async () => {
    const token = await sessionOf('inspector-1', 'console');
    expect((await bearer('/audit', token)).status).toBe(200);
    expect((await bearer('/audit.csv', token)).status).toBe(200);
    const ws = new WireClient({ url: backend.url, token });
    await ws.waitSynced();
    expect(ws.welcome?.user.role).toBe('inspector');
    const grid = [...backend.state.collections.grids.values()][0]!;
    const refused = await ws.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '督查不能上报', description: '', location: grid.center }).catch((e: { wire: { code: string } }) => e.wire);
    expect(refused).toMatchObject({ code: 'forbidden' });
    ws.close();
  });
});

describe('users field-accounts (bulk)', () => {
  const root = resolve(import.meta.dirname, '../..');
  const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((done) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'backend/cli.ts'), 'users', 'field-accounts', '--db', join(backend.dir, 'backend.sqlite'), ...args], { cwd: root, env: { ...process.env, ZONGZHI_DATABASE_URL: '' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    });

  it('makes an account for each staff member of the district without one, writes the CSV (mode 600), never prints a password, refuses to overwrite', async () => {
    // All of the district's staff but three already have accounts (quick: no passwords), so the command makes three.
    const district = staff[0]!.districtId;
    const inDistrict = staff.filter((s) => s.districtId === district && s.id !== staff[0]!.id && s.id !== staff[1]!.id);
    const left = inDistrict.slice(0, 3);
    await backend.store.upsertUsers(inDistrict.slice(3).map((s) => ({ id: `pre-${s.id}`, name: s.name, role: 'field' as const, districtScope: null, tokenHash: `pre-${s.id}`, departmentId: null, staffId: s.id })));
    const out = join(backend.dir, 'field-accounts.csv');
    const result = await run(['--district', district, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('已为 3 名网格员创建外勤端账号');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('login,name,grid,password');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => r[0])).toEqual(left.map((s) => s.id).sort());
    for (const [id, name, grid, password] of rows) {
      const s = left.find((x) => x.id === id)!;
      expect([name, grid]).toEqual([s.name, backend.state.get('grids', s.gridId)!.name]);
      expect(password!.length).toBeGreaterThanOrEqual(12);
      expect(result.stdout + result.stderr).not.toContain(password);
    }
    // The first one signs in to the field app with its initial password.
    const [id, , , password] = rows[0]!;
    expect((await login(id!, 'field', password)).status).toBe(200);
    expect(audit().filter((e) => e.kind === 'user-admin' && e.detail.by === 'cli').map((e) => e.detail.target).sort()).toEqual(left.map((s) => s.id).sort());
    // Again: the file exists, refused before anything is made; an unknown district: refused.
    const again = await run(['--district', district, '--out', out]);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('已存在，不会覆盖');
    const unknown = await run(['--district', 'no-district', '--out', join(backend.dir, 'other.csv')]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('没有区县 no-district');
  }, 60_000);
});
