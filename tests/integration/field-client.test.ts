/**
 * The field client's backend side (/field/): sign-in with a derived passcode, its profile, tasks and SIP
 * account, the page and its assets; bad input answered clearly without harm.
 */
import { describe, expect } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldMe, validate } from '../../protocol';
import { fieldPasscode } from '../../backend/sip/field';
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

describe('field client backend (/field/)', () => {
  it('signs a staff member in with their passcode: profile, open tasks, the SIP account for phones', async () => {
    const staff = [...backend.state.collections.staff.values()][0]!;
    expect(backend.fieldPasscode(staff.id)).toBe(fieldPasscode(SECRET, staff.id));
    const response = await me(`Field ${staff.id}:${fieldPasscode(SECRET, staff.id)}`);
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

  it('refuses missing, malformed and wrong credentials and unknown staff, in Chinese', async () => {
    const staff = [...backend.state.collections.staff.values()][1]!;
    const cases: Array<[string | undefined, number]> = [
      [undefined, 400],
      ['Basic abc', 400],
      [`Field ${staff.id}:123`, 400],
      [`Field ${staff.id}:00000000`, 401],
      [`Field ${staff.id}:${fieldPasscode('another-secret', staff.id)}`, 401],
      [`Field s99999:${fieldPasscode(SECRET, 's99999')}`, 404],
      [`Field ../etc:${fieldPasscode(SECRET, '../etc')}`, 400],
    ];
    for (const [authorization, status] of cases) {
      const response = await me(authorization);
      expect(response.status, String(authorization)).toBe(status);
      const body = (await response.json()) as { error: string };
      expect(body.error).toMatch(/[\u4e00-\u9fff]/);
    }
    expect((await fetch(`${base}/field/api/me`, { method: 'POST' })).status).toBe(405);
    // Still serving.
    expect((await me(`Field ${staff.id}:${fieldPasscode(SECRET, staff.id)}`)).status).toBe(200);
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

  it('says so when calls are off (no SIP server) or the page is not built', async ({ startBackend }) => {
    // A second backend of this test's own (closed after it).
    const bare = await startBackend({ historyDays: 0, fieldAssetsDir: null }, 'bare');
    const staff = [...bare.state.collections.staff.values()][0]!;
    const response = await fetch(`http://127.0.0.1:${bare.port}/field/api/me`, { headers: { Authorization: `Field ${staff.id}:12345678` } });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: string }).error).toContain('SIP 服务器');
    const page = await fetch(`http://127.0.0.1:${bare.port}/field/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('npm run build');
    expect(bare.fieldPasscode(staff.id)).toBeNull();
  });
});
