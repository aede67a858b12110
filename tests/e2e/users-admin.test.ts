/**
 * 用户 in Chromium against a real backend: the administrator creates a street-scoped user in the 用户 workspace
 * (a short password and a missing area refused inline first, nothing sent; a login taken refused by the backend
 * with its reason); a second console signs in as that user and its status bar says 「辖区：<street>」 and its
 * desk, map and KPI wall show only the street's events and figures. The administrator's own row cannot be disabled. 接入密钥: the administrator
 * creates a source system's key (a blank name refused inline), sees it once (「只显示这一次」), the key works at
 * /api/v1/source; closed, it is gone from the page; revoked after a confirmation, the key is refused (403). A key
 * with a webhook: a bad URL refused inline, then its signing secret shown once; a report through the key whose
 * address cannot be placed carries 「位置待核实」 on the desk (queue and detail).
 */
import { SHOTS } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IngestAnswer, SourceIdentity, type GovEvent, type Grid } from '../../protocol';
import { TEST_TOKENS } from '../../harness/backend';
import { it } from '../../harness/fixtures';
import { WireClient } from '../../harness/wire-client';

describe('用户 (administrator)', () => {
  it('creates a street user who then signs in at another console and sees only the street', async ({ backend, newPage, startHost, dataDir }) => {
    const street = [...backend.state.collections.adminUnits.values()].find((u) => u.level === 'street' && u.parentId === 'd01')!;
    const grids = [...backend.state.collections.grids.values()];
    const inStreet = grids.find((g: Grid) => g.streetId === street.id)!;
    const elsewhere = grids.find((g: Grid) => g.districtId === 'd02')!;
    const reporter = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await reporter.waitSynced();
    const report = async (grid: Grid, title: string): Promise<string> => String((await reporter.command('event.report', { source: 'hotline', category: 'noise', severity: 2, title, description: '', location: grid.center })).result.eventId);
    const here = await report(inStreet, '本街道噪声投诉');
    const far = await report(elsewhere, '二区噪声投诉');

    const admin = await startHost({ name: 'admin', backend: { url: backend.url, token: TEST_TOKENS.admin } });
    const page = await newPage();
    await page.goto(`${admin.url}#/users`);
    await page.locator('[data-testid="users-row"][data-user="admin"]').waitFor({ timeout: 30_000 });
    await expect(page.locator('[data-testid="users-row"][data-user="admin"] [data-testid="users-toggle"]').isDisabled()).resolves.toBe(true);

    await page.getByTestId('users-new').click();
    await page.getByTestId('user-form-id').fill('jd-chief');
    await page.getByTestId('user-form-name').fill('街道指挥 孙伟');
    await page.getByTestId('user-form-password').fill('short');
    await page.getByTestId('user-form-password2').fill('short');
    await page.getByTestId('user-form-submit').click();
    const problems = (await page.getByTestId('user-form-problem').allTextContents()).join(' ');
    expect(problems).toContain('请选择至少一个辖区');
    expect(problems).toContain('密码至少 10 个字符');
    await page.getByTestId('user-form-filter').fill(street.name);
    await page.getByTestId(`user-form-unit-${street.id}`).check();
    await page.getByTestId('user-form-password').fill('jiedao-2024-secret');
    await page.getByTestId('user-form-password2').fill('jiedao-2024-secret');
    await page.screenshot({ path: join(SHOTS, 'users-new.png') });
    await page.getByTestId('user-form-submit').click();
    await page.locator('[data-testid="users-row"][data-user="jd-chief"]').waitFor({ timeout: 15_000 });
    expect((await backend.store.listUsers()).find((u) => u.id === 'jd-chief')).toMatchObject({ role: 'dispatcher', districtScope: [street.id] });
    await page.screenshot({ path: join(SHOTS, 'users-table.png') });

    // A login taken: the backend's reason in the form.
    await page.getByTestId('users-new').click();
    await page.getByTestId('user-form-id').fill('jd-chief');
    await page.getByTestId('user-form-name').fill('重名');
    await page.getByTestId('user-form-citywide').check();
    await page.getByTestId('user-form-password').fill('another-secret-1');
    await page.getByTestId('user-form-password2').fill('another-secret-1');
    await page.getByTestId('user-form-submit').click();
    await expect(page.getByTestId('user-form-error').textContent()).resolves.toContain('登录名 jd-chief 已被占用');
    await page.getByTestId('user-form-cancel').click();

    // A 网格员 account: its staff member found by 工号 in the picker; the list shows the staff member and grid.
    const staff = [...backend.state.collections.staff.values()][0]!;
    await page.getByTestId('users-new').click();
    await page.getByTestId('user-form-id').fill('wgy-1');
    await page.getByTestId('user-form-name').fill(staff.name);
    await page.getByTestId('user-form-role').selectOption('field');
    await page.getByTestId('user-form-citywide').check();
    await page.getByTestId('user-form-password').fill('wangge-2024-secret');
    await page.getByTestId('user-form-password2').fill('wangge-2024-secret');
    await page.getByTestId('user-form-submit').click();
    await expect(page.getByTestId('user-form-problem').first().textContent()).resolves.toContain('网格员账号须选择对应的网格员');
    await page.getByTestId('user-form-staff-filter').fill(staff.id);
    await page.getByTestId(`user-form-staff-${staff.id}`).check();
    await expect(page.getByTestId('user-form-staff-chosen').textContent()).resolves.toContain(staff.id);
    await page.screenshot({ path: join(SHOTS, 'users-new-field.png') });
    await page.getByTestId('user-form-submit').click();
    const fieldRow = page.locator('[data-testid="users-row"][data-user="wgy-1"]');
    await expect(fieldRow.getByTestId('users-link').textContent()).resolves.toContain(`${staff.name}（${staff.id}`);

    // A second console with no login: the new user signs in there and sees their street only.
    mkdirSync(join(dataDir, 'street'), { recursive: true });
    writeFileSync(join(dataDir, 'street', 'settings.json'), JSON.stringify({ locale: 'zh-CN', theme: 'night', backendUrl: backend.url }));
    const streetHost = await startHost({ name: 'street' });
    const other = await newPage();
    await other.goto(`${streetHost.url}#/dispatch`);
    // The 网格员 account is for the field app: the console says so (after the password matched).
    await other.getByTestId('sign-in-user').fill('wgy-1');
    await other.getByTestId('sign-in-password').fill('wangge-2024-secret');
    await other.getByTestId('sign-in-password').press('Enter');
    await other.locator('[data-testid="sign-in-error"][data-reason="wrong-app"]').waitFor({ timeout: 10_000 });
    await expect(other.getByTestId('sign-in-error').textContent()).resolves.toContain('不能登录调度台');
    await other.getByTestId('sign-in-user').fill('jd-chief');
    await other.getByTestId('sign-in-password').fill('jiedao-2024-secret');
    await other.getByTestId('sign-in-password').press('Enter');
    await other.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
    await expect(other.getByTestId('area-scope').textContent()).resolves.toContain(`辖区：`);
    await expect(other.getByTestId('area-scope').textContent()).resolves.toContain(street.name);
    await other.locator(`[data-testid="queue-row"][data-event-id="${here}"]`).waitFor({ timeout: 20_000 });
    const ids = await other.locator('[data-testid="queue-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-id')));
    expect(ids).not.toContain(far);
    const streetOf = (id: string | null): string | undefined => backend.state.get('grids', (backend.state.get('events', id ?? '') as GovEvent | undefined)?.gridId ?? '')?.streetId;
    expect(ids.every((id) => streetOf(id) === street.id)).toBe(true);

    // The map draws the street's events only.
    await other.goto(`${streetHost.url}#/map`);
    await other.locator('[data-testid="workspace-map"][data-phase="ready"]').waitFor({ timeout: 60_000 });
    const eventIds = (): Promise<string[]> => other.evaluate(() => (window as unknown as { zongzhiMap: { eventIds(): string[] } }).zongzhiMap.eventIds());
    await expect.poll(async () => (await eventIds()).includes(here), { timeout: 20_000 }).toBe(true);
    const drawn = await eventIds();
    expect(drawn).not.toContain(far);
    expect(drawn.every((id) => streetOf(id) === street.id)).toBe(true);
    await other.screenshot({ path: join(SHOTS, 'users-street-map.png') });

    // The KPI wall counts the street: its staff on-line ratio is over the street's staff, not the city's.
    await other.goto(`${streetHost.url}#/kpi`);
    const tile = other.getByTestId('kpi-staffOnlineRate');
    await tile.waitFor({ timeout: 20_000 });
    const denominator = Number(/分母：\d+ \/ (\d+)/.exec((await tile.getAttribute('title')) ?? '')?.[1]);
    // 下沉干部 are counted apart (到岗率), not in the grid staff's on-line ratio.
    const streetStaff = [...backend.state.collections.staff.values()].filter((s) => s.role !== 'cadre' && backend.state.get('grids', s.gridId)?.streetId === street.id).length;
    expect(denominator).toBe(streetStaff);
    expect(denominator).toBeLessThan(backend.state.collections.staff.size);
    await other.screenshot({ path: join(SHOTS, 'users-street-kpi.png') });
    reporter.close();
  });

  it('creates a source system’s API key, shown once, and revokes it after a confirmation', async ({ backend, newPage, startHost }) => {
    const admin = await startHost({ name: 'admin-keys', backend: { url: backend.url, token: TEST_TOKENS.admin } });
    const page = await newPage();
    await page.goto(`${admin.url}#/users`);
    await page.getByTestId('api-keys-table').waitFor({ timeout: 30_000 });
    await page.getByTestId('api-keys-new').click();
    await page.getByTestId('api-keys-create').click();
    await expect(page.getByTestId('api-keys-form-error').textContent()).resolves.toContain('请填写名称');
    await page.getByTestId('api-keys-name').fill('12345 热线平台');
    await page.getByTestId('api-keys-source').selectOption('hotline');
    await page.getByTestId('api-keys-rate').fill('300');
    await page.getByTestId('api-keys-create').click();
    await page.getByTestId('api-keys-shown').waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('api-keys-shown').textContent()).resolves.toContain('只显示这一次');
    const key = (await page.getByTestId('api-keys-secret').textContent())!.trim();
    expect(key).toMatch(/^zk_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/);
    const id = key.slice(3, 11);
    const row = page.locator(`[data-testid="api-keys-row"][data-key="${id}"]`);
    await expect(row.textContent()).resolves.toMatch(/12345 热线平台.*12345 热线平台.*zk_.{4}….*300.*有效/);
    await page.screenshot({ path: join(SHOTS, 'api-keys-created.png') });
    const http = backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
    const me = await fetch(`${http}/api/v1/source`, { headers: { Authorization: `Bearer ${key}` } });
    expect(SourceIdentity.parse(await me.json())).toMatchObject({ keyId: id, source: 'hotline', ratePerMinute: 300 });

    await page.getByTestId('api-keys-done').click();
    await expect(page.getByTestId('api-keys-shown').count()).resolves.toBe(0);
    expect(await page.content()).not.toContain(key.slice(12));
    await row.getByTestId('api-keys-revoke').click();
    await expect(row.getByTestId('api-keys-confirm').textContent()).resolves.toContain('确定吊销「12345 热线平台」');
    await page.screenshot({ path: join(SHOTS, 'api-keys-revoke.png') });
    await row.getByTestId('api-keys-revoke-yes').click();
    await row.locator('[data-testid="api-keys-status"]', { hasText: '已吊销' }).waitFor({ timeout: 15_000 });
    expect((await fetch(`${http}/api/v1/source`, { headers: { 'X-Api-Key': key } })).status).toBe(403);
    await page.screenshot({ path: join(SHOTS, 'api-keys-revoked.png') });

    // A key with a webhook; its report with an address nothing matches is flagged on the desk.
    await page.getByTestId('api-keys-new').click();
    await page.getByTestId('api-keys-name').fill('12345 回调');
    await page.getByTestId('api-keys-webhook').fill('ftp://12345.example/hook');
    await page.getByTestId('api-keys-create').click();
    await expect(page.getByTestId('api-keys-form-error').textContent()).resolves.toContain('回调地址');
    await page.getByTestId('api-keys-webhook').fill('https://12345.example/hook');
    await page.getByTestId('api-keys-create').click();
    await page.getByTestId('api-keys-webhook-secret').waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('api-keys-webhook-secret').textContent()).resolves.toMatch(/^whsec_/);
    const hookKey = (await page.getByTestId('api-keys-secret').textContent())!.trim();
    await page.getByTestId('api-keys-done').click();
    const category = backend.state.collections.rules.keys().next().value!;
    const made = await fetch(`${http}/api/v1/reports`, { method: 'POST', headers: { 'X-Api-Key': hookKey, 'Content-Type': 'application/json' }, body: JSON.stringify({ sourceId: 'e2e-1', category, title: '地址不明的来电', description: '市民来电', address: '不存在的路 999 号' }) });
    const { eventId, locationResolved } = IngestAnswer.parse(await made.json());
    expect(locationResolved).toBe(false);
    await page.goto(`${admin.url}#/dispatch`);
    const queued = page.locator(`[data-testid="queue-row"][data-event-id="${eventId}"]`);
    await queued.waitFor({ timeout: 20_000 });
    await expect(queued.getByTestId('location-unresolved').textContent()).resolves.toBe('位置待核实');
    await queued.click();
    await expect(page.getByTestId('detail-location-unresolved').textContent()).resolves.toBe('位置待核实');
    await page.screenshot({ path: join(SHOTS, 'ingest-location-unresolved.png') });
  });
});
