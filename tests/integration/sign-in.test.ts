/**
 * Sign-in with a password on a real backend (HTTP + WebSocket, one backend for the file, small limits so that
 * lockout and expiry take a second, not hours): the password set from the command line (stdin, never argv),
 * a session token used in hello like a static token, a wrong password (a message that does not say whether the
 * user exists), lockout with a growing back-off, a disabled user, sign-out (the token refused on a new
 * connection and the open one closed with session-expired), idle and absolute expiry — each audited.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { LoginAnswer, WireCloseCode } from '../../protocol';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { hashPassword } from '../../backend/auth/password';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient } from '../../harness/wire-client';
import { it } from '../../harness/fixtures';

const root = resolve(import.meta.dirname, '../..');
const LIMITS = { lockAfter: 3, lockBaseMs: 400, lockMaxMs: 1000, sessionIdleMs: 1500, sessionMaxMs: 4000, sweepMs: 100 };
let backend: Awaited<ReturnType<typeof startTestBackend>>;
let http: string;

beforeAll(async () => {
  backend = await startTestBackend({ auth: LIMITS });
  http = `http://127.0.0.1:${backend.port}`;
  const store = backend.store as SqliteStore;
  for (const id of ['duty', 'duty-2', 'leader', 'viewer']) await store.setPassword(id, await hashPassword(`${id}-password-1`));
}, 60_000);
afterAll(async () => {
  await backend?.close();
  backend?.cleanup();
});

const login = (user: string, password: string, body: unknown = { user, password, client: { id: 'console-1', name: '测试台' } }) =>
  fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const audit = () => (backend.store as SqliteStore).auditLog(200);
const kinds = (userId: string | null) => audit().filter((e) => e.userId === userId).map((e) => e.kind);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function signedIn(user: string): Promise<LoginAnswer> {
  const res = await login(user, `${user}-password-1`);
  expect(res.status).toBe(200);
  return LoginAnswer.parse(await res.json());
}

function users(args: string[], stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'backend/cli.ts'), 'users', ...args, '--db', join(backend.dir, 'backend.sqlite')], { cwd: root, env: { ...process.env, ZONGZHI_DATABASE_URL: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('sign-in with a password', () => {
  it('sets a password from standard input (a short one refused in Chinese), then signs in and syncs with the session token', async () => {
    const short = await users(['passwd', 'dispatcher'], 'short\n');
    expect(short.code).toBe(4);
    expect(short.stderr).toMatch(/密码未设置：密码太短：至少 10 个字符/);
    const argv = await users(['passwd', 'dispatcher', 'a-password-on-argv'], '');
    expect(argv.code).toBe(2);
    expect(argv.stderr).toMatch(/密码不能写在命令行上/);
    const set = await users(['passwd', 'dispatcher'], 'dispatcher-password-1\n');
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);

    const answer = await signedIn('dispatcher');
    expect(answer.user).toEqual({ id: 'dispatcher', name: '调度员 张敏', role: 'dispatcher' });
    expect(Date.parse(answer.expiresAt) - Date.now()).toBeGreaterThan(3000);
    const client = new WireClient({ url: backend.url, token: answer.sessionToken });
    await client.waitSynced();
    expect(client.welcome?.user.id).toBe('dispatcher');
    // The session works as the HTTP routes' bearer too.
    expect((await fetch(`${http}/city/buildings`, { headers: { Authorization: `Bearer ${answer.sessionToken}` } })).status).toBe(200);
    client.close();
    expect(kinds('dispatcher')).toContain('sign-in');
    expect(audit().some((e) => e.kind === 'password-set' && e.detail.user === 'dispatcher')).toBe(true);
    // Static tokens keep working beside sessions.
    const staticClient = new WireClient({ url: backend.url, token: TEST_TOKENS.duty });
    await staticClient.waitSynced();
    expect(staticClient.welcome?.user.id).toBe('duty');
    staticClient.close();
  });

  it('answers a wrong password and an unknown user alike, in Chinese; refuses bad bodies', async () => {
    const wrong = await login('leader', 'not-the-password');
    const unknown = await login('nobody', 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const [a, b] = [(await wrong.json()) as { message: string }, (await unknown.json()) as { message: string }];
    expect(a.message).toBe(b.message);
    expect(a.message).toMatch(/用户名或密码错误/);
    expect(kinds('leader')).toContain('sign-in-refused');
    expect(audit().find((e) => e.kind === 'sign-in-refused' && e.userId === null)?.detail.reason).toBe('unknown-user');
    expect((await login('x', 'y', { user: 'x' })).status).toBe(400);
    expect((await login('x', 'y', { user: 'x', password: 'y', client: { id: 'c' }, role: 'admin' })).status).toBe(400);
    const big = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'x', password: 'y'.repeat(10_000), client: { id: 'c' } }) });
    expect(big.status).toBe(413);
    expect((await fetch(`${http}/auth/login`, { method: 'POST', body: 'user=x' })).status).toBe(415);
    expect((await fetch(`${http}/auth/login`)).status).toBe(405);
    // A user without a password (token only) cannot sign in with one.
    expect((await login('admin', 'anything-at-all')).status).toBe(401);
  });

  it('locks a user out after repeated failures, saying until when, with a back-off that doubles; the right password waits', async () => {
    for (let i = 0; i < LIMITS.lockAfter - 1; i++) expect((await login('duty-2', 'wrong-password')).status).toBe(401);
    const locked = await login('duty-2', 'wrong-password');
    expect(locked.status).toBe(423);
    const first = (await locked.json()) as { message: string; lockedUntil: string };
    expect(first.message).toMatch(/已锁定至 \d{2}:\d{2}:\d{2}/);
    const firstLock = Date.parse(first.lockedUntil) - Date.now();
    expect(firstLock).toBeGreaterThan(100);
    expect(firstLock).toBeLessThanOrEqual(LIMITS.lockBaseMs);
    // While locked even the right password is refused (not checked at all).
    expect((await login('duty-2', 'duty-2-password-1')).status).toBe(423);
    await sleep(Date.parse(first.lockedUntil) - Date.now() + 20);
    const again = await login('duty-2', 'wrong-password');
    expect(again.status).toBe(423);
    const second = Date.parse(((await again.json()) as { lockedUntil: string }).lockedUntil) - Date.now();
    expect(second).toBeGreaterThan(LIMITS.lockBaseMs);
    await sleep(second + 20);
    await signedIn('duty-2');
    expect(kinds('duty-2').filter((k) => k === 'lockout')).toHaveLength(2);
    expect((await backend.store.findLogin('duty-2'))?.failedLogins).toBe(0);
  });

  it('counts a burst of parallel guesses one by one: the lock comes after the same number of tries', async () => {
    await (backend.store as SqliteStore).setPassword('dispatcher-d01', await hashPassword('dispatcher-d01-password-1'));
    const answers = await Promise.all(Array.from({ length: 4 }, () => login('dispatcher-d01', 'wrong-password')));
    expect(answers.map((a) => a.status).sort()).toEqual([401, 401, 423, 423]);
    expect((await backend.store.findLogin('dispatcher-d01'))?.failedLogins).toBe(LIMITS.lockAfter);
    expect(kinds('dispatcher-d01').filter((k) => k === 'lockout')).toHaveLength(1);
  });

  it('refuses a disabled user at sign-in and on their static token', async () => {
    await backend.store.setUserDisabled('viewer', true, new Date().toISOString());
    const res = await login('viewer', 'viewer-password-1');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(/已停用/);
    const client = new WireClient({ url: backend.url, token: TEST_TOKENS.viewer });
    expect((await client.waitClosed()).code).toBe(WireCloseCode.unauthorized);
    expect(audit().find((e) => e.userId === 'viewer' && e.kind === 'sign-in-refused')?.detail.reason).toBe('disabled');
  });

  it('signs out: the open connection closes with session-expired, the token is refused on a new one and on HTTP', async () => {
    const answer = await signedIn('leader');
    const open = new WireClient({ url: backend.url, token: answer.sessionToken });
    await open.waitSynced();
    const out = await fetch(`${http}/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${answer.sessionToken}` } });
    expect(out.status).toBe(204);
    expect((await open.waitClosed()).code).toBe(WireCloseCode.sessionExpired);
    const reused = new WireClient({ url: backend.url, token: answer.sessionToken });
    expect((await reused.waitClosed()).code).toBe(WireCloseCode.sessionExpired);
    expect(reused.errors[0]?.code).toBe('session-expired');
    expect(reused.errors[0]?.message).toMatch(/已退出登录/);
    expect((await fetch(`${http}/city/buildings`, { headers: { Authorization: `Bearer ${answer.sessionToken}` } })).status).toBe(401);
    expect((await fetch(`${http}/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${answer.sessionToken}` } })).status).toBe(401);
    expect(kinds('leader')).toContain('sign-out');
    expect(audit().some((e) => e.userId === 'leader' && e.kind === 'login-refused' && e.detail.reason === 'session-ended')).toBe(true);
  });

  it('expires an unused session (idle) and a used one at its absolute limit, renewing it meanwhile', async () => {
    const idle = await signedIn('duty');
    const used = await signedIn('leader');
    const open = new WireClient({ url: backend.url, token: used.sessionToken });
    await open.waitSynced();
    await sleep(LIMITS.sessionIdleMs + 200);
    // Renewed while linked: still open past the idle limit …
    expect(open.closed).toBeNull();
    const late = new WireClient({ url: backend.url, token: idle.sessionToken });
    expect((await late.waitClosed()).code).toBe(WireCloseCode.sessionExpired);
    expect(late.errors[0]?.message).toMatch(/已过期/);
    // … and closed at the absolute limit.
    expect((await open.waitClosed(LIMITS.sessionMaxMs + 2000)).code).toBe(WireCloseCode.sessionExpired);
    const expired = audit().filter((e) => e.kind === 'session-expired');
    expect(expired.find((e) => e.userId === 'duty')?.detail.limit).toBe('idle');
    expect(expired.find((e) => e.userId === 'leader')?.detail.limit).toBe('absolute');
  }, 20_000);
});
