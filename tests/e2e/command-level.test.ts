/** 平急转换 and the night theme, in Chromium against the real host, hub and embedded backend. */
import { SHOTS } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { it } from '../../harness/fixtures';

async function open(newPage: () => Promise<Page>, url: string, hash = '#/kpi'): Promise<Page> {
  const page = await newPage();
  await page.goto(`${url}${hash}`);
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
  return page;
}

describe('command level (平急转换)', () => {
  it('a leader switches to emergency with a typed confirmation; every window follows; a dispatcher may not', async ({ newPage, startHost }) => {
    const host = await startHost({ env: { ZONGZHI_USER: 'leader' } });
    const wall = await open(newPage, host.url, '#/kpi');
    const desk = await open(newPage, host.url, '#/dispatch');
    await expect(wall.getByTestId('command-level').getAttribute('data-level')).resolves.toBe('daily');
    await desk.getByTestId('command-level').click();
    await desk.getByTestId('level-switch').waitFor();
    await desk.getByTestId('level-emergency').click();
    await desk.getByTestId('level-reason').fill('暴雨红色预警，启动防汛应急预案');
    // Not without the confirmation word.
    expect(await desk.getByTestId('level-apply').isDisabled()).toBe(true);
    await desk.getByTestId('level-confirm').fill('应急');
    // The incident is preselected: the most severe open event.
    const incident = desk.getByTestId('level-incident');
    await desk.waitForFunction(() => (document.querySelector<HTMLSelectElement>('[data-testid="level-incident"]')?.value ?? '') !== '');
    const incidentTitle = (await incident.locator('option:checked').textContent())!.split(' · ')[1]!;
    await desk.getByTestId('level-apply').click();
    // Every window changes at once: label and colour.
    for (const page of [desk, wall]) {
      await page.locator('[data-testid="command-level"][data-level="emergency"]').waitFor({ timeout: 15_000 });
      await expect(page.getByTestId('command-level').textContent()).resolves.toContain('应急');
      await expect(page.evaluate(() => document.documentElement.dataset.level)).resolves.toBe('emergency');
    }
    // Every wall shows the incident board first: the incident, its plan with owners, a timeline.
    for (const page of [desk, wall]) {
      await page.getByTestId('emergency-board').waitFor();
      await page.locator('[data-testid="emergency-incident"] .incident-title').waitFor({ timeout: 15_000 });
      await expect(page.getByTestId('emergency-incident').textContent()).resolves.toContain(incidentTitle);
      await page.locator('[data-testid="plan-step-1"]').waitFor();
      await expect(page.getByTestId('emergency-timeline').textContent()).resolves.toContain('切换为应急');
    }
    // A tick on one console shows on the other, with who did it.
    const steps = await wall.locator('[data-testid="emergency-plan"] li').count();
    expect(steps).toBeGreaterThan(4);
    await desk.locator('[data-testid="plan-step-1"] input').check();
    await wall.locator('[data-testid="plan-step-1"].done').waitFor({ timeout: 15_000 });
    await expect(wall.getByTestId('plan-progress').textContent()).resolves.toBe(`1 / ${steps}`);
    await expect(wall.getByTestId('plan-step-1').textContent()).resolves.toMatch(/于 .* 完成/);
    await wall.getByTestId('kpi-closureRate').waitFor();
    await wall.screenshot({ path: join(SHOTS, 'kpi-wall-emergency.png') });
    // Back to daily (no confirmation needed to stand down).
    await desk.getByTestId('command-level').click();
    await desk.getByTestId('level-daily').click();
    await desk.getByTestId('level-reason').fill('预警解除');
    await desk.getByTestId('level-apply').click();
    await wall.locator('[data-testid="command-level"][data-level="daily"]').waitFor({ timeout: 15_000 });
  }, 120_000);

  it('加强 tightens an open step\'s deadline and calls the 下沉干部 to their grids on the map; 日常 restores the limits', async ({ newPage, startHost }) => {
    // ×60: a called cadre reaches their grid 10–40 simulated minutes later, 10–40 s here.
    const host = await startHost({ args: ['--speed', '60'], env: { ZONGZHI_USER: 'leader' } });
    const desk = await open(newPage, host.url, '#/dispatch');
    const row = desk.locator('[data-testid="queue-row"][data-status="handling"]:not(.overdue)').first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    const deadlineOf = async (): Promise<number> => Date.parse((await desk.getByTestId('detail-deadline').getAttribute('data-deadline')) ?? '');
    await desk.getByTestId('detail-deadline').waitFor();
    const before = await deadlineOf();
    expect(before).toBeGreaterThan(0);

    await desk.getByTestId('command-level').click();
    await expect(desk.getByTestId('level-profile-reinforced').textContent()).resolves.toContain('×0.75，召集下沉干部');
    await expect(desk.getByTestId('level-profile-daily').textContent()).resolves.toBe('时限 ×1');
    await desk.getByTestId('level-reinforced').click();
    await desk.getByTestId('level-reason').fill('节日重点时段加强，下沉干部到岗');
    await desk.getByTestId('level-apply').click();
    await desk.locator('[data-testid="command-level"][data-level="reinforced"]').waitFor({ timeout: 15_000 });
    // The selected event's step now ends earlier (three quarters of its limit), with no switch-made overdue.
    await desk.waitForFunction((b) => Date.parse(document.querySelector<HTMLElement>('[data-testid="detail-deadline"]')?.dataset.deadline ?? '') < b, before, { timeout: 15_000 });
    const tightened = await deadlineOf();
    expect(tightened).toBeLessThan(before);

    // The map wall: 下沉干部 come on duty at their grids (gold-ringed), listed per grid beside it.
    const map = await open(newPage, host.url.replace('role=combined', 'role=map'), '#/map');
    type Probe = { gridsReady(): boolean; cadreCount(): number; selected(): { layer: string; id: string } | null };
    await map.waitForFunction(() => (window as unknown as { zongzhiMap?: Probe }).zongzhiMap?.gridsReady() === true, undefined, { timeout: 90_000 });
    await map.waitForFunction(() => ((window as unknown as { zongzhiMap: Probe }).zongzhiMap.cadreCount() ?? 0) >= 5, undefined, { timeout: 90_000 });
    await map.getByTestId('cadre-panel').waitFor();
    await expect(map.getByTestId('cadre-arrival').textContent()).resolves.toMatch(/到岗 [1-9]\d* \/ \d+/);
    await map.locator('[data-testid="cadre-row"]').first().waitFor();
    await map.screenshot({ path: join(SHOTS, 'map-reinforced-cadres.png') });
    // 加强 puts the incidents first: the map wall tours the events the center alarms for (30 s on each).
    await map.waitForFunction(() => (window as unknown as { zongzhiMap: Probe }).zongzhiMap.selected()?.layer === 'events', undefined, { timeout: 45_000 });
    await map.getByTestId('map-detail').waitFor();
    await map.screenshot({ path: join(SHOTS, 'map-reinforced-tour.png') });
    // 到岗率 on the KPI wall while the level calls them.
    const wall = await open(newPage, host.url, '#/kpi');
    await wall.getByTestId('kpi-cadreArrivalRate').waitFor({ timeout: 30_000 });
    await expect(wall.getByTestId('kpi-cadreArrivalRate').textContent()).resolves.toContain('下沉干部到岗率');

    // Back to daily: the step's deadline is later again, the cadres stand down, the tile goes.
    await desk.getByTestId('command-level').click();
    await desk.getByTestId('level-daily').click();
    await desk.getByTestId('level-reason').fill('加强结束');
    await desk.getByTestId('level-apply').click();
    await desk.waitForFunction((b) => Date.parse(document.querySelector<HTMLElement>('[data-testid="detail-deadline"]')?.dataset.deadline ?? '') > b, tightened, { timeout: 15_000 });
    await map.getByTestId('cadre-panel').waitFor({ state: 'detached', timeout: 15_000 });
    await wall.getByTestId('kpi-cadreArrivalRate').waitFor({ state: 'detached', timeout: 30_000 });
  }, 240_000);

  it('a dispatcher sees why the levels are locked; the night theme dims the console and is remembered', async ({ newPage, startHost }) => {
    const host = await startHost();
    const page = await open(newPage, host.url, '#/kpi');
    await page.getByTestId('command-level').click();
    await expect(page.getByTestId('level-not-allowed').textContent()).resolves.toContain('只有领导和值班员可以切换指挥等级');
    expect(await page.getByTestId('level-emergency').isDisabled()).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByTestId('level-switch').waitFor({ state: 'detached' });
    await page.getByTestId('toggle-theme').click();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'night');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(5, 9, 15)');
    await page.getByTestId('kpi-closureRate').waitFor();
    await page.screenshot({ path: join(SHOTS, 'kpi-wall-night.png') });
    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'night');
  }, 120_000);
});
