/**
 * 基础数据 in Chromium against a real backend: the administrator edits a rule's 处置 limit (a bad value is
 * refused inline first, nothing sent) and adds a department (a duplicate code refused inline); the backend holds
 * both, and a new event of that category reported to it gets the new deadlines; removing a department still
 * named by the 权责清单 is refused by the backend and the reason shows. A dispatcher's console has no such
 * workspace, and the address typed by hand says it is the administrator's.
 */
import { SHOTS } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { GovEvent, Grid } from '../../protocol';
import type { HostProcess } from '../../harness/browser';
import { TEST_TOKENS } from '../../harness/backend';
import { it } from '../../harness/fixtures';
import { WireClient, until } from '../../harness/wire-client';

async function open(page: Page, host: HostProcess, path: string): Promise<void> {
  await page.goto(`${host.url}#${path}`);
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
}

describe('基础数据 (administrator)', () => {
  it('the administrator edits a limit and adds a department; the backend applies them to a new event; a department in use is not removed', async ({ backend, newPage, startHost }) => {
    const host = await startHost({ name: 'admin', backend: { url: backend.url, token: TEST_TOKENS.admin } });
    const page = await newPage();
    await open(page, host, '/base-data');
    await page.locator('[data-workspace="base-data"]').waitFor();
    const row = page.locator('[data-testid="rule-row"][data-category="sanitation"]');
    await row.waitFor({ timeout: 30_000 });
    const before = backend.state.get('rules', 'sanitation')!;

    // A bad limit is refused before anything is sent.
    await row.getByTestId('rule-edit').click();
    await page.getByTestId('rule-limit-handle').fill('两天');
    await page.getByTestId('rule-save').click();
    await expect(page.getByTestId('rule-limit-handle-problem').textContent()).resolves.toContain('处置时限“两天”不是正整数分钟');
    // The administrator has no phone: no call bar (nor its 通话未启用 notice) over the tables.
    expect(await page.getByTestId('call-bar').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'base-data-form.png') });
    await page.getByTestId('rule-limit-handle').fill('333');
    await page.getByTestId('rule-save').click();
    await until(() => backend.state.get('rules', 'sanitation')?.limits.handle === 333, 'the new limit at the backend', 15_000);
    expect(backend.state.get('rules', 'sanitation')).toEqual({ ...before, limits: { ...before.limits, handle: 333 } });
    await row.locator('[data-step="handle"]', { hasText: '333' }).waitFor({ timeout: 15_000 });

    // A department: a duplicate code refused inline, then a new one saved.
    const taken = [...backend.state.all('departments')][0]!;
    await page.getByTestId('department-add').click();
    await page.getByTestId('department-code').fill(taken.code);
    await page.getByTestId('department-name').fill('市住房和城乡建设局');
    await page.getByTestId('department-save').click();
    await expect(page.getByTestId('department-code-problem').textContent()).resolves.toContain(`部门编码 ${taken.code} 已被 ${taken.name} 使用`);
    await page.getByTestId('department-code').fill('ZJ-E2E');
    await page.getByTestId('department-liaison').fill('zj01');
    await page.getByTestId('department-save').click();
    await until(() => backend.state.get('departments', 'dept-ZJ-E2E') !== undefined, 'the new department at the backend', 15_000);
    expect(backend.state.get('departments', 'dept-ZJ-E2E')).toEqual({ id: 'dept-ZJ-E2E', code: 'ZJ-E2E', name: '市住房和城乡建设局', liaison: 'zj01' });
    await page.locator('[data-testid="department-row"][data-code="ZJ-E2E"]').waitFor();

    // A new event of that category, reported to the backend, gets the new limits.
    const dispatcher = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await dispatcher.waitSynced();
    const grid = dispatcher.all<Grid>('grids')[0]!;
    const ack = await dispatcher.command('event.report', { source: 'hotline', category: 'sanitation', severity: 2, title: '端到端：新时限', description: '', location: grid.center });
    const event = backend.state.get('events', String(ack.result.eventId)) as GovEvent;
    const l = { ...before.limits, handle: 333 };
    expect(Date.parse(event.finalDeadline) - Date.parse(event.reportedAt)).toBe((l.report + l.dispatch + l.handle + l.followup + l.close) * 60_000);
    dispatcher.close();

    // The department the rule names cannot be removed: the backend refuses, the reason shows.
    const used = backend.state.get('departments', before.departmentId)!;
    const usedRow = page.locator(`[data-testid="department-row"][data-id="${used.id}"]`);
    await usedRow.getByTestId('department-remove').click();
    await page.getByTestId('department-remove-confirm').waitFor();
    await usedRow.getByTestId('department-remove').click();
    const reason = page.getByTestId('base-data-refusal-reason').first();
    await reason.waitFor({ timeout: 15_000 });
    await expect(reason.textContent()).resolves.toMatch(new RegExp(`不能删除 ${used.name}（${used.code}）：仍被权责清单事件类别 .*sanitation`));
    expect(backend.state.get('departments', used.id)).toEqual(used);
    // Every edit answered: none is left pending (an answer that came before the window's patch included).
    await page.getByTestId('base-data-pending').waitFor({ state: 'detached', timeout: 15_000 });
    await page.screenshot({ path: join(SHOTS, 'base-data.png') });
    await page.getByTestId('base-data-refusal-dismiss').first().click();
    await page.getByTestId('base-data-refusals').waitFor({ state: 'detached' });
  }, 120_000);

  it('the administrator tightens 加强\'s 处置 limit and stops it calling the 下沉干部: a looser factor is refused inline first', async ({ backend, newPage, startHost }) => {
    const host = await startHost({ name: 'admin-levels', backend: { url: backend.url, token: TEST_TOKENS.admin } });
    const page = await newPage();
    await open(page, host, '/base-data');
    await page.getByTestId('base-data-tab-levels').click();
    await page.getByTestId('level-profile-row-reinforced').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('level-factor-reinforced-handle').inputValue()).resolves.toBe('0.75');
    await page.getByTestId('level-factor-reinforced-handle').fill('1.5');
    await expect(page.getByTestId('level-factor-problem-reinforced-handle').textContent()).resolves.toBe('时限系数 1.5 大于 1：加强和应急只能收紧时限');
    expect(await page.getByTestId('level-profile-save-reinforced').isDisabled()).toBe(true);
    await page.getByTestId('level-factor-reinforced-handle').fill('0.6');
    await page.getByTestId('level-cadres-reinforced').uncheck();
    // The alarm policy: the shift leader's rung gets 4 minutes and a louder tone; a volume of 150 % is refused inline.
    await expect(page.getByTestId('level-rung-minutes-reinforced-1').inputValue()).resolves.toBe('3');
    await page.getByTestId('level-rung-volume-reinforced-1').fill('150');
    await expect(page.getByTestId('level-rung-problem-reinforced-1-volume').textContent()).resolves.toBe('第 2 级（值班长）音量“150”应为 0 到 100 的整数（%）');
    expect(await page.getByTestId('level-alarms-save-reinforced').isDisabled()).toBe(true);
    await page.getByTestId('level-rung-volume-reinforced-1').fill('90');
    await page.getByTestId('level-rung-minutes-reinforced-1').fill('4');
    await page.getByTestId('level-severe-from-reinforced').selectOption('2');
    await page.getByTestId('level-profile-save-reinforced').click();
    await until(() => backend.state.get('levelProfiles', 'reinforced')?.stepFactors.handle === 0.6, 'the saved profile at the backend');
    expect(backend.state.get('levelProfiles', 'reinforced')).toMatchObject({ callsCadres: false, updatedBy: expect.stringContaining('管理员') });
    expect(backend.state.get('levelProfiles', 'reinforced')!.alarms).toMatchObject({ severeFrom: 2, chain: [{ name: '值班员', ackWithinMinutes: 2 }, { name: '值班长', ackWithinMinutes: 4, volume: 0.9 }, { name: '中心领导', ackWithinMinutes: null }] });
    await page.getByTestId('level-profile-saved').waitFor();
    // The window reads the stored profile back through the hub: who changed it, and the form keeps the values.
    await page.locator('[data-testid="level-profile-updated-reinforced"]', { hasText: '系统管理员 赵磊' }).waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('level-factor-reinforced-handle').inputValue()).resolves.toBe('0.6');
    expect(await page.getByTestId('level-cadres-reinforced').isChecked()).toBe(false);
    await page.getByTestId('level-profiles').screenshot({ path: join(SHOTS, 'base-data-levels.png') });
  }, 120_000);

  it('a dispatcher has no 基础数据 workspace; the address typed by hand says it is the administrator’s', async ({ backend, newPage, startHost }) => {
    const host = await startHost({ name: 'dispatcher', backend: { url: backend.url, token: TEST_TOKENS.dispatcher } });
    const page = await newPage();
    await open(page, host, '/map');
    await page.locator('[data-workspace="dispatch"]').waitFor();
    await expect(page.locator('[data-workspace="base-data"]').count()).resolves.toBe(0);
    await page.keyboard.press('Alt+5');
    await page.waitForTimeout(300);
    expect(page.url()).not.toContain('base-data');
    await open(page, host, '/base-data');
    await expect(page.getByTestId('base-data-denied').textContent()).resolves.toContain('仅系统管理员');
    await expect(page.getByTestId('departments-panel').count()).resolves.toBe(0);
  }, 120_000);
});
