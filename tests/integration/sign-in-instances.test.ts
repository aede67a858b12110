/**
 * Sign-in hardening where several backend instances share one PostgreSQL (two instances in this process, a real
 * server started by this file), and on one SQLite backend with the command line beside it:
 * - wrong passwords fired at both instances at once are counted once each: the lock comes after exactly lockAfter;
 * - a name that is no user is locked the same way, answered with the same statuses and bodies as a real user;
 * - an administrator narrowing a user's area on instance A closes the user's console on instance B at once (4012),
 *   which reconnects to a fresh snapshot of the new area;
 * - `users disable` from the command line closes the user's connections on every instance (static tokens too,
 *   4011 'disabled'): on PostgreSQL at once (the store announces it), on SQLite at the next session sweep; so does
 *   `users scope` (4012: the console resyncs to the new area).
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { AdminUserRow, LoginAnswer, WireCloseCode, type AdminUnit, type GovEvent, type Grid } from '../../protocol';
import { hashPassword } from '../../backend/auth/password';
import { TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';
import { startPostgres, type RunningPostgres } from '../../harness/postgres';
import { it } from '../../harness/fixtures';

const root = resolve(import.meta.dirname, '../..');
let postgres: RunningPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

/** Long locks (a slow machine must not see one pass mid-test); a sweep too slow to be what closes connections. */
const LIMITS = { lockAfter: 3, lockBaseMs: 120_000, lockMaxMs: 240_000, sweepMs: 60_000 };
const PASSWORD = 'a-good-password-1';

const login = (base: string, user: string, password: string) =>
  fetch(`${base}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password, client: { id: `console-${Math.random()}` } }) });
const httpOf = (b: { port: number }) => `http://127.0.0.1:${b.port}`;

/** `npm run backend -- users …` against a database, as an operator would run it beside the running backends. */
function usersCli(args: string[], db: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'backend/cli.ts'), 'users', ...args, '--db', db], { cwd: root, env: { ...process.env, ZONGZHI_DATABASE_URL: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end();
  });
}

describe('sign-in on two instances of one PostgreSQL', () => {
  it('counts wrong passwords fired at both instances once each: exactly lockAfter failures before the lock', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('lockout');
    const a = await startBackend({ databaseUrl, auth: LIMITS }, 'a');
    const b = await startBackend({ databaseUrl, auth: LIMITS }, 'b');
    await a.store.setPassword('duty', await hashPassword(PASSWORD));
    // Four at once on each (an instance answers 429 beyond four sign-ins in flight), eight in all, in parallel.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => login(httpOf(i % 2 ? a : b), 'duty', 'wrong-password')));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMITS.lockAfter - 1);
    expect(statuses.filter((s) => s === 423)).toHaveLength(8 - (LIMITS.lockAfter - 1));
    const counted = await b.store.findLogin('duty');
    expect(counted?.failedLogins).toBeGreaterThanOrEqual(LIMITS.lockAfter);
    expect(Date.parse(counted!.lockedUntil!)).toBeGreaterThan(Date.now());
    // The right password is refused on either instance while locked.
    expect((await login(httpOf(a), 'duty', PASSWORD)).status).toBe(423);
    expect((await login(httpOf(b), 'duty', PASSWORD)).status).toBe(423);
  }, 60_000);

  it('locks a name that is no user like a real one: the same statuses and bodies, on either instance', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('unknown_names');
    const a = await startBackend({ databaseUrl, auth: LIMITS }, 'a');
    const b = await startBackend({ databaseUrl, auth: LIMITS }, 'b');
    await a.store.setPassword('leader', await hashPassword(PASSWORD));
    const tries = async (user: string) => {
      const out: Array<{ status: number; body: Record<string, unknown> }> = [];
      for (let i = 0; i < 5; i++) {
        const res = await login(httpOf(i % 2 ? a : b), user, 'wrong-password');
        out.push({ status: res.status, body: (await res.json()) as Record<string, unknown> });
      }
      return out;
    };
    const real = await tries('leader');
    const unknown = await tries('No-Such-User');
    expect(real.map((r) => r.status)).toEqual([401, 401, 423, 423, 423]);
    expect(unknown.map((r) => r.status)).toEqual(real.map((r) => r.status));
    const shape = (r: { body: Record<string, unknown> }) => ({ keys: Object.keys(r.body).sort(), code: r.body.code, message: String(r.body.message).replace(/\d{2}:\d{2}:\d{2}|\d{4}-[\d-]+T[\d:.]+Z/g, 'T') });
    expect(unknown.map(shape)).toEqual(real.map(shape));
    // The name is counted lower-cased and trimmed: another spelling of it is locked too.
    expect((await login(httpOf(a), ' no-such-user ', 'wrong-password')).status).toBe(423);
    expect(await a.store.findNameFailures('no-such-user')).toMatchObject({ failed: LIMITS.lockAfter });
  }, 60_000);

  it('closes a user’s console on instance B at once when the administrator on A narrows their area; it resyncs to the new area', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('user_changes');
    const a = await startBackend({ databaseUrl, auth: LIMITS }, 'a');
    const b = await startBackend({ databaseUrl, auth: LIMITS }, 'b');
    const units = [...a.state.collections.adminUnits.values()];
    const streetA = units.find((u) => u.level === 'street' && u.parentId === 'd01') as AdminUnit;
    const streetB = units.find((u) => u.level === 'street' && u.parentId === 'd02') as AdminUnit;
    const grids = [...a.state.collections.grids.values()];
    const gridB = grids.find((g) => g.streetId === streetB.id) as Grid;
    const admin = (method: string, path: string, body: unknown) =>
      fetch(`${httpOf(a)}${path}`, { method, headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

    const created = await admin('POST', '/admin/users', { id: 'jd-b', name: '街道值班 周', role: 'dispatcher', scope: [streetA.id, streetB.id], password: PASSWORD });
    expect(created.status).toBe(201);
    expect(AdminUserRow.parse(await created.json()).hasPassword).toBe(true);
    const session = LoginAnswer.parse(await (await login(httpOf(b), 'jd-b', PASSWORD)).json());
    const onB = new WireClient({ url: b.url, token: session.sessionToken });
    await onB.waitSynced();
    const cityWide = new WireClient({ url: b.url, token: TEST_TOKENS.dispatcher });
    await cityWide.waitSynced();
    const inB = String((await cityWide.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '乙街道事件', description: '', location: gridB.center })).result.eventId);
    await until(() => onB.get('events', inB) !== undefined, 'the street B event on the user’s console');

    const narrowed = await admin('PATCH', '/admin/users/jd-b', { scope: [streetA.id] });
    expect(narrowed.status).toBe(200);
    const closed = await onB.waitClosed(3000);
    expect(closed.code).toBe(WireCloseCode.rightsChanged);
    const again = new WireClient({ url: b.url, token: session.sessionToken, lastSeq: onB.seq });
    await again.waitSynced();
    expect(again.welcome?.sync).toBe('snapshot');
    expect(again.welcome?.districtScope).toEqual([streetA.id]);
    expect(again.get('events', inB)).toBeUndefined();
    expect(again.all<GovEvent>('events').every((e) => a.state.get('grids', e.gridId)?.streetId === streetA.id)).toBe(true);

    // Disabled from the command line (it writes the database directly): both instances close the user's
    // connections at once (the sweep is a minute away), the static-token ones too.
    const staticOnA = new WireClient({ url: a.url, token: TEST_TOKENS.duty });
    const staticOnB = new WireClient({ url: b.url, token: TEST_TOKENS.duty });
    await Promise.all([staticOnA.waitSynced(), staticOnB.waitSynced()]);
    const started = Date.now();
    const cli = await usersCli(['disable', 'duty'], databaseUrl);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    for (const c of [staticOnA, staticOnB]) {
      const why = await c.waitClosed(5000);
      expect(why.code).toBe(WireCloseCode.sessionExpired);
      expect(why.reason).toMatch(/disabled/);
    }
    expect(Date.now() - started).toBeLessThan(LIMITS.sweepMs);
    for (const c of [again, cityWide]) c.close();
  }, 90_000);
});

describe('a user disabled or moved from the command line beside one SQLite backend', () => {
  it('has every connection closed at the next sweep, the static-token ones too (4011 disabled)', async ({ startBackend }) => {
    const backend = await startBackend({ auth: { sweepMs: 200 } });
    const viaToken = new WireClient({ url: backend.url, token: TEST_TOKENS.viewer });
    const other = new WireClient({ url: backend.url, token: TEST_TOKENS.duty });
    await Promise.all([viaToken.waitSynced(), other.waitSynced()]);
    const cli = await usersCli(['disable', 'viewer'], join(backend.dir, 'backend.sqlite'));
    expect(cli.code).toBe(0);
    const why = await viaToken.waitClosed(5000);
    expect(why.code).toBe(WireCloseCode.sessionExpired);
    expect(why.reason).toMatch(/disabled/);
    expect(viaToken.errors.at(-1)).toMatchObject({ code: 'session-expired', message: expect.stringMatching(/账号已停用/) });
    // Nobody else is touched; the token is refused on a new connection.
    await new Promise((r) => setTimeout(r, 500));
    expect(other.closed).toBeNull();
    const refused = new WireClient({ url: backend.url, token: TEST_TOKENS.viewer });
    expect((await refused.waitClosed(5000)).code).toBe(WireCloseCode.unauthorized);

    // `users scope` from the command line: nothing is announced on SQLite, the sweep finds the console acting on
    // the old area (a static token: no session) and closes it with 4012; it comes back to a snapshot of d02 only.
    const scoped = new WireClient({ url: backend.url, token: TEST_TOKENS['dispatcher-d01'] });
    await scoped.waitSynced();
    expect((await usersCli(['scope', 'dispatcher-d01', 'd02'], join(backend.dir, 'backend.sqlite'))).code).toBe(0);
    expect((await scoped.waitClosed(5000)).code).toBe(WireCloseCode.rightsChanged);
    const again = new WireClient({ url: backend.url, token: TEST_TOKENS['dispatcher-d01'], lastSeq: scoped.seq, syncStamp: scoped.welcome!.syncStamp! });
    await again.waitSynced();
    expect(again.welcome?.sync).toBe('snapshot');
    expect(new Set(again.all<GovEvent>('events').map((e) => e.districtId))).toEqual(new Set(['d02']));
    expect(other.closed).toBeNull();
    again.close();
    other.close();
  }, 60_000);
});
