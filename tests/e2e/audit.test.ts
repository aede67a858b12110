/**
 * 审计 in Chromium against a real backend: a dispatcher opens an event with a reporter at the desk (the name and
 * phone shown); a leader's console opens 审计, filters by that dispatcher and by 查看事件, and sees the view of
 * that event, at the time it was opened, marked 个人信息已显示; the detail is one click away. A dispatcher's console
 * has no 审计 workspace, and the address typed by hand says whose it is.
 */
import { SHOTS } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Grid } from '../../protocol';
import type { HostProcess } from '../../harness/browser';
import { TEST_TOKENS } from '../../harness/backend';
import { it } from '../../harness/fixtures';
import { WireClient } from '../../harness/wire-client';

async function open(page: Page, host: HostProcess, path: string): Promise<void> {
  await page.goto(`${host.url}#${path}`);
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
}

describe('审计 (leader)', () => {
  it("shows a leader the dispatcher's view of an event with the reporter's data, by person and action", async ({ backend, newPage, startHost }) => {
    const reporter = new WireClient({ url: backend.url, token: TEST_TOKENS.duty });
    await reporter.waitSynced();
    const grid = reporter.all<Grid>('grids')[0]!;
    const ack = await reporter.command('event.report', { source: 'hotline', category: 'noise', severity: 3, title: '审计测试：深夜施工噪音', description: '', location: grid.center, reporter: { name: '赵审计', phone: '13700001111' } });
    const eventId = String(ack.result.eventId);
    reporter.close();

    const desk = await startHost({ name: 'desk', backend: { url: backend.url, token: TEST_TOKENS.dispatcher } });
    const deskPage = await newPage();
    await open(deskPage, desk, '/dispatch');
    expect(await deskPage.locator('[data-workspace="audit"]').count()).toBe(0);
    const item = deskPage.locator(`[data-event-id="${eventId}"]`);
    await item.waitFor({ timeout: 30_000 });
    const openedAt = Date.now();
    await item.click();
    await deskPage.getByText('13700001111').first().waitFor({ timeout: 15_000 });

    const lead = await startHost({ name: 'leader', backend: { url: backend.url, token: TEST_TOKENS.leader } });
    const page = await newPage();
    await open(page, lead, '/map');
    await page.locator('[data-workspace="audit"]').click();
    await page.getByTestId('workspace-audit').waitFor();
    await page.getByTestId('audit-filter-user').fill('dispatcher');
    await page.getByTestId('audit-filter-kind').selectOption('view');
    const row = page.locator(`[data-testid="audit-row"][data-kind="view"][data-event="${eventId}"]`);
    // The filters apply on 查询 (the view reaches the backend within a moment of the click: asked again until it shows).
    for (let i = 0; i < 20; i++) {
      await page.getByTestId('audit-search').click();
      await page.waitForTimeout(300);
      if ((await row.count()) > 0) break;
    }
    await row.first().waitFor({ timeout: 5_000 });
    // Only the dispatcher's views are listed.
    const kinds = await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.kind));
    expect(new Set(kinds)).toEqual(new Set(['view']));
    await expect(page.getByTestId('audit-table').textContent()).resolves.not.toContain('leader');
    await expect(row.first().getByTestId('audit-personal').textContent()).resolves.toBe('个人信息已显示');
    const at = Date.parse((await row.first().locator('time').getAttribute('datetime'))!);
    expect(Math.abs(at - openedAt)).toBeLessThan(60_000);
    await expect(row.first().textContent()).resolves.toContain('审计测试：深夜施工噪音');
    await row.first().getByTestId('audit-detail-toggle').click();
    await expect(page.getByTestId('audit-detail').textContent()).resolves.toContain('"personal": true');
    await page.screenshot({ path: join(SHOTS, 'audit.png') });

    // The desk's address typed by hand: the workspace says whose it is.
    await open(deskPage, desk, '/audit');
    await deskPage.getByTestId('audit-denied').waitFor();
  }, 180_000);
});
