/**
 * API keys of source systems (接入密钥) over real HTTP and WebSocket on one backend (SQLite file): the administrator
 * creates a key, which works at GET /api/v1/source (Bearer and X-Api-Key) and is never listed; revoked → 403;
 * unknown → 401; over its rate → 429 with Retry-After; a dispatcher at the admin routes and bad bodies refused;
 * each change and refusal audited (never the key). Escalation: the key at the WebSocket hello, at GET /audit and at
 * /auth/logout refused like an unknown token and audited 'api-key-misuse'; a console token at /api/v1/ → 401.
 * The command line: create (the key alone on stdout), list, revoke.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyList, ApiKeyRow, CreatedApiKey, LoginAnswer, SourceIdentity, WireCloseCode } from '../../protocol';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { hashPassword } from '../../backend/auth/password';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient } from '../../harness/wire-client';

const root = resolve(import.meta.dirname, '../..');
let backend: Awaited<ReturnType<typeof startTestBackend>>;
let http: string;

beforeAll(async () => {
  backend = await startTestBackend();
  http = `http://127.0.0.1:${backend.port}`;
  await (backend.store as SqliteStore).setPassword('dispatcher', await hashPassword('dispatcher-password-1'));
}, 60_000);
afterAll(async () => {
  await backend?.close();
  backend?.cleanup();
});

const call = (method: string, path: string, body?: unknown, token: string = TEST_TOKENS.admin, type = 'application/json'): Promise<Response> =>
  fetch(`${http}${path}`, { method, headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': type } : {}) }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
const source = (headers: Record<string, string>): Promise<Response> => fetch(`${http}/api/v1/source`, { headers });
const auditOf = (kind: string) => (backend.store as SqliteStore).auditLog(1000).filter((e) => e.kind === kind);
const create = async (body: unknown): Promise<CreatedApiKey> => {
  const res = await call('POST', '/admin/api-keys', body);
  expect(res.status).toBe(201);
  return CreatedApiKey.parse(await res.json());
};

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'backend/cli.ts'), 'api-keys', ...args, '--db', join(backend.dir, 'backend.sqlite')], { cwd: root, env: { ...process.env, ZONGZHI_DATABASE_URL: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

describe('a source system’s API key', () => {
  it('is created once, works at /api/v1/source, is never listed, is refused when revoked (403), twice revoked is 409', async () => {
    const { key, apiKey } = await create({ name: '12345 热线平台', source: 'hotline' });
    expect(key).toMatch(/^zk_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({ name: '12345 热线平台', source: 'hotline', ratePerMinute: 600, createdBy: 'admin', revokedAt: null, lastUsedAt: null, prefix: `${key.slice(0, 7)}…` });

    const me = await source({ Authorization: `Bearer ${key}` });
    expect(me.status).toBe(200);
    expect(SourceIdentity.parse(await me.json())).toEqual({ keyId: apiKey.id, name: '12345 热线平台', source: 'hotline', ratePerMinute: 600 });
    expect((await source({ 'X-Api-Key': key })).status).toBe(200);

    const listed = await call('GET', '/admin/api-keys');
    const text = await listed.text();
    const row = ApiKeyList.parse(JSON.parse(text)).keys.find((k) => k.id === apiKey.id)!;
    expect(row.lastUsedAt).not.toBeNull();
    expect(text).not.toContain(key.slice(12));
    expect(text).not.toMatch(/keyHash|key_hash|[0-9a-f]{64}/);
    // last_used_at is written at most once a minute, not on every request.
    expect((await source({ 'X-Api-Key': key })).status).toBe(200);
    expect((await backend.store.listApiKeys()).find((k) => k.id === apiKey.id)!.lastUsedAt).toBe(row.lastUsedAt);

    const revoked = await call('POST', `/admin/api-keys/${apiKey.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(ApiKeyRow.parse(await revoked.json())).toMatchObject({ id: apiKey.id, revokedBy: 'admin', revokedAt: expect.any(String) });
    const refused = await source({ Authorization: `Bearer ${key}` });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'revoked', message: expect.stringMatching(/已.*吊销/) });
    const again = await call('POST', `/admin/api-keys/${apiKey.id}/revoke`);
    expect(again.status).toBe(409);
    expect((await call('POST', '/admin/api-keys/nosuchid/revoke')).status).toBe(404);

    const lines = auditOf('api-key-admin');
    expect(lines.map((l) => [l.userId, l.detail.action, l.detail.target, l.detail.refused ?? null])).toEqual(
      expect.arrayContaining([
        ['admin', 'create', apiKey.id, null],
        ['admin', 'revoke', apiKey.id, null],
        ['admin', 'revoke', apiKey.id, 409],
        ['admin', 'revoke', 'nosuchid', 404],
      ]),
    );
    expect(JSON.stringify((backend.store as SqliteStore).auditLog(1000))).not.toContain(key.slice(12));
  });

  it('unknown keys and console tokens are 401; over its rate a key gets 429 with Retry-After', async () => {
    const tried: Array<Record<string, string>> = [{}, { Authorization: 'Bearer zk_AAAAAAAA_' + 'A'.repeat(43) }, { 'X-Api-Key': 'nonsense' }, { Authorization: `Bearer ${TEST_TOKENS.admin}` }];
    for (const headers of tried) {
      const res = await source(headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/接入密钥/) });
    }
    const login = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'dispatcher', password: 'dispatcher-password-1', client: { id: 'c1' } }) });
    const session = LoginAnswer.parse(await login.json());
    expect((await source({ Authorization: `Bearer ${session.sessionToken}` })).status).toBe(401);

    const { key } = await create({ name: '物联感知平台', source: 'sensor', ratePerMinute: 2 });
    expect((await source({ 'X-Api-Key': key })).status).toBe(200);
    expect((await source({ 'X-Api-Key': key })).status).toBe(200);
    const over = await source({ 'X-Api-Key': key });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    expect(await over.json()).toMatchObject({ code: 'rate-limited', message: expect.stringMatching(/每分钟至多 2 次/) });
  });

  it('a dispatcher at the admin routes is 403, bad bodies 400 (naming the field), each refusal audited', async () => {
    const before = auditOf('api-key-admin').length;
    for (const [method, path] of [['GET', '/admin/api-keys'], ['POST', '/admin/api-keys'], ['POST', '/admin/api-keys/abcdefgh/revoke']] as const) {
      const res = await call(method, path, method === 'POST' ? { name: 'x', source: 'hotline' } : undefined, TEST_TOKENS.dispatcher);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/接入密钥管理仅限全市范围的系统管理员/) });
    }
    expect((await call('GET', '/admin/api-keys', undefined, 'no-such-token')).status).toBe(401);
    const bad: Array<[unknown, string]> = [
      [{ name: '', source: 'hotline' }, 'name'],
      [{ name: '甲', source: 'radio' }, 'source'],
      [{ name: '甲', source: 'hotline', ratePerMinute: 0 }, 'ratePerMinute'],
      [{ name: '甲', source: 'hotline', ratePerMinute: 60_001 }, 'ratePerMinute'],
      [{ name: '甲', source: 'hotline', key: 'mine' }, '(root)'],
    ];
    const keysBefore = (await backend.store.listApiKeys()).length;
    for (const [body, path] of bad) {
      const res = await call('POST', '/admin/api-keys', body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'invalid', path, message: expect.stringMatching(/接入密钥的资料有误/) });
    }
    expect((await call('POST', '/admin/api-keys', '{not json')).status).toBe(400);
    expect((await call('POST', '/admin/api-keys', 'name=x', TEST_TOKENS.admin, 'text/plain')).status).toBe(415);
    expect((await backend.store.listApiKeys()).length).toBe(keysBefore);
    const refusals = auditOf('api-key-admin').slice(0, auditOf('api-key-admin').length - before);
    expect(refusals.filter((l) => l.userId === 'dispatcher' && l.detail.refused === 403)).toHaveLength(3);
    expect(refusals.filter((l) => l.userId === null && l.detail.refused === 401)).toHaveLength(1);
    expect(refusals.filter((l) => l.userId === 'admin' && l.detail.refused === 400)).toHaveLength(6);
  });

  it('a key used as a console token is refused at the hello, at GET /audit and at sign-out, and audited api-key-misuse', async () => {
    const { key, apiKey } = await create({ name: '视频智能分析平台', source: 'video-ai' });
    const client = new WireClient({ url: backend.url, token: key, lastSeq: null });
    expect((await client.waitClosed()).code).toBe(WireCloseCode.unauthorized);
    client.close();
    const read = await call('GET', '/audit', undefined, key);
    expect(read.status).toBe(401);
    const logout = await call('POST', '/auth/logout', undefined, key);
    expect(logout.status).toBe(401);
    const misuse = auditOf('api-key-misuse').filter((l) => l.detail.keyId === apiKey.id);
    // The hello is audited; the bearer route and sign-out within the same minute are refused, not audited again.
    expect(misuse).toHaveLength(1);
    expect(misuse[0]).toMatchObject({ userId: null, detail: { keyId: apiKey.id, where: 'wire hello', source: 'video-ai' } });
    expect(JSON.stringify(misuse)).not.toContain(key);

    // Another key tried first at a bearer route.
    const other = await create({ name: '数字城管', source: 'city-management' });
    expect((await call('GET', '/audit', undefined, other.key)).status).toBe(401);
    expect(auditOf('api-key-misuse').filter((l) => l.detail.keyId === other.apiKey.id).map((l) => l.detail.where)).toEqual(['GET /audit']);
  });

  it('the command line creates (the key alone on stdout), lists and revokes, audited by cli', async () => {
    const made = await cli(['create', '--name', '110 联动平台', '--source', 'linkage-110', '--rate', '120']);
    expect(made.code).toBe(0);
    const key = made.stdout.trim();
    expect(key).toMatch(/^zk_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/);
    expect(made.stderr).toMatch(/只显示这一次/);
    const id = key.slice(3, 11);
    expect(SourceIdentity.parse(await (await source({ 'X-Api-Key': key })).json())).toMatchObject({ keyId: id, source: 'linkage-110', ratePerMinute: 120 });
    const bad = await cli(['create', '--name', '甲', '--source', 'radio']);
    expect(bad.code).toBe(4);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/接入密钥未创建：--source/);
    const list = await cli(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe('');
    expect(list.stderr).toContain(`${id}\tzk_${id.slice(0, 4)}…\t110 联动平台\tlinkage-110\t120/min`);
    expect(list.stderr).not.toContain(key.slice(12));
    expect((await cli(['revoke', id])).code).toBe(0);
    expect((await cli(['revoke', id])).code).toBe(4);
    expect((await source({ 'X-Api-Key': key })).status).toBe(403);
    expect(auditOf('api-key-admin').filter((l) => l.detail.target === id && l.detail.by === 'cli').map((l) => l.detail.action)).toEqual(['revoke', 'create']);
  }, 60_000);
});
