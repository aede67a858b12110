/**
 * 一表通 in Chromium against a console linked to a real backend whose database got places and a 重点人员 register
 * through `backend import` (the command line): a leader opens a grid's card and sees its numbers and the
 * register unmasked, a community's card through 一表, a place found by search and one clicked on the map; a demo
 * window of the same console and a dispatcher's console see the register masked; the backend's audit holds one
 * sensitive-read per opening; with the backend gone the card still adds up the replica and says the register needs the link.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import type { Page } from 'playwright-core';
import type { Grid } from '../../protocol';
import { idCheckChar } from '../../domain';
import { SHOTS } from '../../harness/e2e';
import { TEST_TOKENS } from '../../harness/backend';
import { backendImport } from '../../harness/import-cli';
import { it } from '../../harness/fixtures';

const idNo = (body17: string): string => body17 + idCheckChar(body17);
const P1 = idNo('11010119800101123');
const P2 = idNo('11010219900315456');

interface Probe {
  toScreen(lon: number, lat: number): { x: number; y: number } | null;
  gridsReady(): boolean;
  selected(): { layer: string; id: string } | null;
}

async function openMap(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('[data-testid="workspace-map"][data-phase="ready"]').waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => (window as unknown as { zongzhiMap?: Probe }).zongzhiMap?.gridsReady() === true, undefined, { timeout: 90_000 });
}

async function find(page: Page, text: string): Promise<void> {
  await page.keyboard.press('/');
  await page.getByTestId('map-search').fill(text);
  await page.getByTestId('map-hits').waitFor();
  await page.keyboard.press('Enter');
}

const digits = (s: string | null): number => Number((s ?? '').replace(/[^\d]/g, ''));

describe('一表通 (the at-a-glance card)', () => {
  it('shows a grid, a community and a place with their numbers; 重点人员 unmasked to a leader, masked on a demo window and to a dispatcher, every opening audited; offline from the replica', async ({ startBackend, startHost, newPage, dataDir }) => {
    // The city, then its places and register imported into its database as a city office would, then the backend again.
    const first = await startBackend({ scale: 0.1 });
    const grid: Grid = [...first.state.all('grids')].find((g) => g.population > 0)!;
    await first.close();
    const db = join(dataDir, 'backend', 'backend.sqlite');
    const [lon, lat] = grid.center;
    const places = join(dataDir, 'places.csv');
    writeFileSync(places, `编码,名称,类别,地址,经度,纬度,联系人,联系电话,备注\nE2E-SCH,一表测试小学,学校,测试路1号,${lon},${lat},赵校长,13900139000,\nE2E-ENT,一表测试机械厂,企业,测试路2号,${lon + 0.0004},${lat},,,\nE2E-HAZ,一表测试加油站,危化品场所,测试路3号,${lon - 0.0004},${lat},,,\n`);
    const placed = await backendImport(['places', places, '--crs', 'wgs84', '--db', db]);
    expect(placed.code, placed.stdout + placed.stderr).toBe(0);
    const persons = join(dataDir, 'persons.csv');
    writeFileSync(persons, `姓名,公民身份号码,类别,网格编码,地址,联系电话,关注等级,备注\n张三丰,${P1},刑满释放人员,${grid.code},测试路1号3单元,13800138000,1,\n李四光,${P2},独居老人,${grid.code},测试路2号,,2,\n`);
    const people = await backendImport(['persons', persons, '--db', db]);
    expect(people.code, people.stdout + people.stderr).toBe(0);
    const backend = await startBackend({ scale: 0.1 });
    expect(backend.state.get('places', 'pl-E2E-SCH')?.gridId).toBe(grid.id);
    const reads = async (id: string): Promise<Array<{ userId: string | null; revealed: unknown }>> =>
      (await backend.store.auditLog()).filter((a) => a.kind === 'sensitive-read' && (a.detail.target as { id?: string } | undefined)?.id === id).map((a) => ({ userId: a.userId, revealed: a.detail.revealed }));

    const host = await startHost({ name: 'leader', backend: { url: backend.url, token: TEST_TOKENS.leader } });
    const errors: string[] = [];
    const page = await newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await openMap(page, `${host.url}#/map`);
    await page.getByTestId('layer-places').waitFor();
    await expect(page.getByTestId('layer-places').isChecked()).resolves.toBe(true);

    // A grid: its numbers from the replica, its register revealed to a leader, the list closed until asked.
    await find(page, grid.code);
    await page.locator(`[data-testid="profile-card"][data-level="grid"][data-id="${grid.id}"]`).waitFor();
    await expect(page.getByTestId('map-detail-code').textContent()).resolves.toBe(grid.code);
    expect(digits(await page.getByTestId('profile-population').textContent())).toBe(grid.population);
    expect(digits(await page.getByTestId('profile-households').textContent())).toBe(grid.households);
    await expect(page.getByTestId('profile-places').textContent()).resolves.toBe('3');
    await expect(page.getByTestId('profile-orgs').textContent()).resolves.toContain('一表测试机械厂');
    const kp = page.getByTestId('key-persons');
    await page.locator('[data-testid="key-persons"][data-state="shown"]').waitFor({ timeout: 15_000 });
    await expect(kp.getAttribute('data-masked')).resolves.toBe('');
    await expect(page.getByTestId('key-persons-total').textContent()).resolves.toBe('共 2 人');
    await expect(kp.textContent()).resolves.toContain('查看已记录审计');
    await expect(page.getByTestId('key-person-row').first().isVisible()).resolves.toBe(false);
    await page.getByTestId('key-persons-list').locator('summary').click();
    await expect(page.getByTestId('key-persons-list').textContent()).resolves.toMatch(/张三丰刑满释放人员1 级测试路1号3单元/);
    await page.waitForTimeout(2500); // the flight to the grid
    await page.screenshot({ path: join(SHOTS, 'map-profile-grid-1920x1080.png') });
    expect(await reads(grid.id)).toEqual([{ userId: 'leader', revealed: true }]);

    // Its community through 一表 in the breadcrumb: the card opens on request, and that opening is audited too.
    await page.getByTestId('profile-close').click();
    await page.getByTestId('map-breadcrumb').locator('button').nth(3).click();
    await page.getByTestId('map-profile-open').click();
    await page.locator(`[data-testid="profile-card"][data-level="community"][data-id="${grid.communityId}"]`).waitFor();
    expect(digits(await page.getByTestId('profile-population').textContent())).toBeGreaterThanOrEqual(grid.population);
    await page.locator('[data-testid="key-persons"][data-state="shown"]').waitFor({ timeout: 15_000 });
    expect(await reads(grid.communityId)).toEqual([{ userId: 'leader', revealed: true }]);
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('profile-card').count()).resolves.toBe(0);

    // A place by its code: its facts, its grid's numbers, its grid's register (another audited opening).
    await find(page, 'E2E-SCH');
    await page.locator('[data-testid="profile-card"][data-level="place"][data-id="pl-E2E-SCH"]').waitFor();
    await expect(page.getByTestId('profile-title').textContent()).resolves.toBe('一表测试小学');
    await expect(page.getByTestId('profile-place').textContent()).resolves.toContain('13900139000');
    expect(digits(await page.getByTestId('profile-population').textContent())).toBe(grid.population);
    await page.locator('[data-testid="key-persons"][data-state="shown"]').waitFor({ timeout: 15_000 });
    await page.waitForTimeout(2500); // the flight to the place
    await page.screenshot({ path: join(SHOTS, 'map-profile-place-1920x1080.png') });
    expect(await reads(grid.id)).toHaveLength(2);

    // A place clicked on the map (the other point layers off: their icons would take the click).
    for (const id of ['staff', 'events', 'cameras', 'resources']) await page.getByTestId(`layer-${id}`).uncheck();
    const box = (await page.getByTestId('map-canvas').boundingBox())!;
    const at = (await page.evaluate(([x, y]) => (window as unknown as { zongzhiMap: Probe }).zongzhiMap.toScreen(x!, y!), [lon - 0.0004, lat]))!;
    await page.mouse.click(box.x + at.x, box.y + at.y);
    await page.locator('[data-testid="profile-card"][data-id="pl-E2E-HAZ"]').waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('profile-place').textContent()).resolves.toContain('危化品场所');
    expect(await page.evaluate(() => (window as unknown as { zongzhiMap: Probe }).zongzhiMap.selected())).toEqual({ layer: 'places', id: 'pl-E2E-HAZ' });
    await page.locator('[data-testid="key-persons"][data-state="shown"]').waitFor({ timeout: 15_000 });
    expect(await reads(grid.id)).toHaveLength(3);

    // A demo window of the same console: the register masked, whatever the leader's role; still audited.
    const demo = await newPage();
    await openMap(demo, `${host.url}&demo=1#/map`);
    await find(demo, grid.code);
    await demo.locator('[data-testid="key-persons"][data-state="shown"][data-masked="demo"]').waitFor({ timeout: 15_000 });
    await expect(demo.getByTestId('key-persons-masked').textContent()).resolves.toContain('演示模式已脱敏');
    await demo.getByTestId('key-persons-list').locator('summary').click();
    const shown = (await demo.getByTestId('profile-card').textContent())!;
    for (const secret of ['张三丰', '李四光', '测试路1号3单元', P1, '13800138000']) expect(shown).not.toContain(secret);
    expect(shown).toContain('张**');
    expect(await reads(grid.id)).toEqual([{ userId: 'leader', revealed: false }, ...Array(3).fill({ userId: 'leader', revealed: true })]);

    // A dispatcher's console: masked for the role.
    const dispatcherHost = await startHost({ name: 'dispatcher', backend: { url: backend.url, token: TEST_TOKENS.dispatcher } });
    const desk = await newPage();
    await openMap(desk, `${dispatcherHost.url}#/map`);
    await find(desk, grid.code);
    await desk.locator('[data-testid="key-persons"][data-state="shown"][data-masked="role"]').waitFor({ timeout: 15_000 });
    await expect(desk.getByTestId('key-persons-masked').textContent()).resolves.toContain('已脱敏：当前角色无权查看');
    expect(await desk.getByTestId('profile-card').textContent()).not.toContain('张三丰');
    expect((await reads(grid.id))[0]).toEqual({ userId: 'dispatcher', revealed: false });

    // Nothing of the register stays in the windows' storage.
    for (const p of [page, demo, desk]) expect(await p.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toContain('张');

    // The backend gone: the card still adds up the replica; the register says it needs the link, the reason one click away.
    await backend.close();
    await page.keyboard.press('Escape');
    await find(page, grid.code);
    await page.locator('[data-testid="key-persons"][data-state="unavailable"]').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('key-persons-unavailable').textContent()).resolves.toContain('重点人员需联网查看');
    expect(digits(await page.getByTestId('profile-population').textContent())).toBe(grid.population);
    await page.getByTestId('key-persons-unavailable').locator('summary').click();
    await expect(page.getByTestId('key-persons-unavailable').locator('code').textContent()).resolves.toMatch(/后端不可达|未连接后端/);
    expect(errors).toEqual([]);
  }, 300_000);
});
