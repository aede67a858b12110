/**
 * The field client's backend side (/field/): a 网格员 account's session as bearer (POST /auth/login {app:
 * 'field'}), its profile, tasks and SIP account, the page and its assets; bad input answered clearly without harm.
 */
import { describe, expect } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldMe, LoginAnswer, validate } from '../../protocol';
import { addFieldAccount } from '../../backend/users-field';
import { ensureSimulatedStaffAccount, SIMULATED_STAFF_USER } from '../../backend/sip/field';
import type { RunningBackend } from '../../backend/index';
import { it } from '../../harness/fixtures';

const SECRET = 'field-test-secret-0123';
let backend: RunningBackend;
let base: string;

// The file's backend serves a small field page written into the file's temp dir.
it.override('backendConfig', { scope: 'file' }, ({ fileDir }) => {
  const assets = join(fileDir, 'renderer');
  mkdirSync(join(assets, 'assets'), { recursive: true });
  writeFileSync(join(assets, 'field.html'), '<!doctype html><title>网格员外勤端</title><script type="module" src="./assets/field-x.js"></script>');
  writeFileSync(join(assets, 'assets', 'field-x.js'), 'console.log(1)');
  return { historyDays: 1, sip: { url: 'ws://127.0.0.1:5999', secret: SECRET, fieldUrl: 'wss://sip.example.org/ws' }, fieldAssetsDir: assets };
});
// The file's backend (the `backend` fixture: started here, within the hook's time, and closed after the file).
it.beforeAll(async ({ backend: fileBackend }) => {
  backend = fileBackend;
  base = `http://127.0.0.1:${backend.port}`;
}, 60_000);

const me = (authorization?: string): Promise<Response> => fetch(`${base}/field/api/me`, authorization ? { headers: { Authorization: authorization } } : {});
const PASSWORD = 'field-client-password';
/** A field account for `staff` (made once), signed in to the field app: its session token. */
async function fieldSession(staffId: string, password = PASSWORD, port = backend.port): Promise<string> {
  const answer = await fetch(`http://127.0.0.1:${port}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: staffId, password, client: { id: `field-${staffId}` }, app: 'field' }) });
  expect(answer.status).toBe(200);
  return LoginAnswer.parse(await answer.json()).sessionToken;
}

describe('field client backend (/field/)', () => {
  it("answers a field account's session: profile, open tasks, the SIP account for phones", async () => {
    const staff = [...backend.state.collections.staff.values()][0]!;
    await addFieldAccount(backend.store, staff, PASSWORD, 'test');
    const response = await me(`Bearer ${await fieldSession(staff.id)}`);
    expect(response.status).toBe(200);
    const checked = validate(FieldMe, await response.json());
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.value.staff).toMatchObject({ id: staff.id, name: staff.name, sipUser: staff.sipUser, simulated: false });
    // Phones get the field address; the domain stays the consoles' so both ends name each other alike.
    expect(checked.value.sip).toMatchObject({ url: 'wss://sip.example.org/ws', username: staff.sipUser, domain: '127.0.0.1' });
    const open = [...backend.state.collections.events.values()].filter((e) => e.assignee?.staffId === staff.id && !['closed', 'merged'].includes(e.status));
    expect(checked.value.tasks.map((t) => t.id).sort()).toEqual(open.map((e) => e.id).slice(0, 20).sort());
  });

  it('refuses missing, malformed, unknown and console credentials, the old passcode form, and a staff member gone from the city, in Chinese', async () => {
    const staff = [...backend.state.collections.staff.values()][1]!;
    await addFieldAccount(backend.store, staff, PASSWORD, 'test');
    const cases: Array<[string | undefined, number]> = [
      [undefined, 401],
      ['Basic abc', 401],
      [`Field ${staff.id}:12345678`, 401],
      ['Bearer not-a-session-token-at-all', 401],
      ['Bearer tok-dispatcher-0001', 403],
    ];
    for (const [authorization, status] of cases) {
      const response = await me(authorization);
      expect(response.status, String(authorization)).toBe(status);
      const body = (await response.json()) as { message: string };
      expect(body.message).toMatch(/[\u4e00-\u9fff]/);
    }
    expect((await fetch(`${base}/field/api/me`, { method: 'POST' })).status).toBe(405);
    // An account whose staff member is no longer in the city: 404, said.
    await backend.store.upsertUsers([{ id: 'gone-staff', name: '已调离', role: 'field', districtScope: null, tokenHash: 'gone-staff-token-hash', departmentId: null, staffId: 's-gone' }]);
    await backend.store.setPassword('gone-staff', (await backend.store.findLogin(staff.id))!.passwordHash);
    const gone = await me(`Bearer ${await fieldSession('gone-staff')}`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { message: string }).message).toContain('不存在');
    // Still serving.
    expect((await me(`Bearer ${await fieldSession(staff.id)}`)).status).toBe(200);
  });

  it('the simulated staff sign in as their own field account (no staff member) with the password the backend made', async () => {
    const password = await ensureSimulatedStaffAccount(backend.store);
    expect(password.length).toBeGreaterThanOrEqual(24);
    const response = await me(`Bearer ${await fieldSession(SIMULATED_STAFF_USER, password)}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as FieldMe).staff).toMatchObject({ id: SIMULATED_STAFF_USER, simulated: true, sipUser: SIMULATED_STAFF_USER });
    // A fresh password each start: the old one no longer signs in.
    await ensureSimulatedStaffAccount(backend.store);
    expect((await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: SIMULATED_STAFF_USER, password, client: { id: 'sim' }, app: 'field' }) })).status).toBe(401);
  });

  it('serves the page with a strict CSP that allows the SIP server, and its assets; nothing outside them', async () => {
    expect((await fetch(`${base}/field`, { redirect: 'manual' })).status).toBe(301);
    const page = await fetch(`${base}/field/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('网格员外勤端');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain('connect-src \'self\' wss://sip.example.org/ws');
    expect((await fetch(`${base}/field/assets/field-x.js`)).headers.get('content-type')).toContain('javascript');
    for (const path of ['/field/assets/..%2F..%2Fbackend.sqlite', '/field/assets/../field.html', '/field/../tokens.json', '/field/nothing.js']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });

  it('answers without a SIP account when calls are off (no SIP server); says so when the page is not built', async ({ startBackend }) => {
    // A second backend of this test's own (closed after it).
    const bare = await startBackend({ historyDays: 0, fieldAssetsDir: null }, 'bare');
    const staff = [...bare.state.collections.staff.values()][0]!;
    await addFieldAccount(bare.store, staff, PASSWORD, 'test');
    const response = await fetch(`http://127.0.0.1:${bare.port}/field/api/me`, { headers: { Authorization: `Bearer ${await fieldSession(staff.id, PASSWORD, bare.port)}` } });
    // Calls off, the rest on: the staff member and their tasks, no SIP account.
    expect(response.status).toBe(200);
    expect(FieldMe.parse(await response.json())).toMatchObject({ staff: { id: staff.id }, sip: null });
    const page = await fetch(`http://127.0.0.1:${bare.port}/field/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('npm run build');
  });
});
