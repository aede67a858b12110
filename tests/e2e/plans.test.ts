/**
 * 应急预案 in Chromium against a real backend: the administrator opens the flood plan in 基础数据 → 应急预案, reorders
 * its steps, rewrites one, gives it another owner and a resource, removes one (an empty step is refused inline
 * first, nothing sent), and saves; the backend holds the edit, and the duty officer's 应急 for a flood opens it
 * as edited. Removing the plan the open emergency runs is refused by the backend and the reason shows.
 */
import { SHOTS } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import type { CommandLevelState, Grid } from '../../protocol';
import { TEST_TOKENS } from '../../harness/backend';
import { it } from '../../harness/fixtures';
import { WireClient, until } from '../../harness/wire-client';

describe('应急预案 (administrator)', () => {
  it('an edited plan is saved from the editor and opens at 应急; the running plan is not removed', async ({ backend, newPage, startHost }) => {
    const host = await startHost({ name: 'admin', backend: { url: backend.url, token: TEST_TOKENS.admin } });
    const page = await newPage({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${host.url}#/base-data`);
    await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('base-data-tab-plans').click();
    const row = page.locator('[data-testid="plan-row"][data-id="plan-flood"]');
    await row.waitFor({ timeout: 30_000 });
    const seeded = backend.state.get('plans', 'plan-flood')!;
    await row.getByTestId('plan-edit').click();
    const steps = page.getByTestId('plan-step');
    await expect(steps.count()).resolves.toBe(seeded.steps.length);

    // Step 3 (泵车) up to first place, its text rewritten, owned by 应急管理局, one more resource; the last step removed.
    await steps.nth(2).getByTestId('plan-step-up').click();
    await steps.nth(1).getByTestId('plan-step-up').click();
    await steps.nth(0).getByTestId('plan-step-text').fill('排涝泵站全开，移动泵车 30 分钟内到达积水点');
    await steps.nth(0).getByTestId('plan-step-owner').selectOption('dept-emergency');
    await steps.nth(0).getByTestId('plan-resource-add').click();
    const added = steps.nth(0).getByTestId('plan-resource').last();
    await added.locator('input').nth(0).fill('沙袋');
    await added.locator('input').nth(1).fill('5000');
    await added.locator('input').nth(2).fill('袋');
    await steps.last().getByTestId('plan-step-remove').click();
    // An empty new step is refused before anything is sent.
    await page.getByTestId('plan-step-add').click();
    await page.getByTestId('plan-save').click();
    await page.getByText(`第 ${seeded.steps.length} 步没有内容`).waitFor();
    await page.screenshot({ path: join(SHOTS, 'plan-editor.png') });
    expect(backend.state.get('plans', 'plan-flood')).toEqual(seeded);
    await steps.last().getByTestId('plan-step-remove').click();
    await page.getByTestId('plan-save').click();
    await until(() => backend.state.get('plans', 'plan-flood')?.steps.length === seeded.steps.length - 1, 'the edited plan at the backend', 15_000);
    const saved = backend.state.get('plans', 'plan-flood')!;
    expect(saved.steps[0]).toEqual({ text: '排涝泵站全开，移动泵车 30 分钟内到达积水点', ownerDepartmentId: 'dept-emergency', resources: [...seeded.steps[2]!.resources, { name: '沙袋', quantity: 5000, unit: '袋' }] });
    expect(saved.steps.slice(1).map((s) => s.text)).toEqual([seeded.steps[0]!.text, seeded.steps[1]!.text, ...seeded.steps.slice(3, -1).map((s) => s.text)]);

    // The duty officer raises 应急 for a flood: the edited plan opens.
    const duty = new WireClient({ url: backend.url, token: TEST_TOKENS.duty });
    try {
      await duty.waitSynced();
      const grid = duty.all<Grid>('grids')[0]!;
      const report = await duty.command('event.report', { source: 'sensor', category: 'flood', severity: 4, title: '隧道积水', description: 'e2e', location: grid.center });
      await duty.command('level.set', { level: 'emergency', reason: '暴雨红色预警', incidentId: String(report.result.eventId) });
      const level = backend.state.get('commandLevel', 'current') as CommandLevelState;
      expect(level.planId).toBe('plan-flood');
      expect(level.plan.map((s) => s.text)).toEqual(saved.steps.map((s) => s.text));

      // Removing the running plan: the backend refuses, and the reason shows.
      await row.getByTestId('plan-remove').click();
      await row.getByTestId('plan-remove').click();
      await page.getByTestId('base-data-refusal-reason').filter({ hasText: '当前应急响应正在执行它' }).waitFor({ timeout: 15_000 });
      expect(backend.state.get('plans', 'plan-flood')).toBeDefined();
      await page.screenshot({ path: join(SHOTS, 'plan-editor-refused.png') });
      await duty.command('level.set', { level: 'daily', reason: '解除' });
    } finally {
      duty.close();
    }
    expect(errors).toEqual([]);
  }, 180_000);
});
