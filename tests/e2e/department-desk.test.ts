/**
 * What a department liaison does reaches the dispatch desk in Chromium, against a real backend: a 申请延期 made over
 * the department page's API shows at the desk with 批准 / 驳回, and 批准 moves the step deadline; an event 退回 by
 * the department is back at the desk as 已受理, with the return in its history, and is dispatched again (D).
 */
import { describe, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { LoginAnswer, type Department, type GovEvent, type Grid } from '../../protocol';
import type { HostProcess } from '../../harness/browser';
import { TEST_TOKENS } from '../../harness/backend';
import { it } from '../../harness/fixtures';
import { WireClient } from '../../harness/wire-client';

async function open(page: Page, host: HostProcess): Promise<void> {
  await page.goto(`${host.url}#/dispatch`);
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
}
const status = (page: Page, value: string) => page.locator(`[data-testid="detail-status"][data-status="${value}"]`).waitFor({ timeout: 15_000 });

describe('a department at the desk', () => {
  it('an extension request is approved at the desk (deadline moved); a returned event is back to dispatch', async ({ backend, newPage, startHost }) => {
    const http = `http://127.0.0.1:${backend.port}`;
    const department = [...backend.state.collections.departments.values()][0] as Department;
    const made = await fetch(`${http}/admin/users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 'e2e-liaison', name: '联络员', role: 'liaison', scope: null, password: 'e2e-liaison-secret', departmentId: department.id }),
    });
    expect(made.status).toBe(201);
    const login = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'e2e-liaison', password: 'e2e-liaison-secret', client: { id: 'e2e-browser' }, app: 'department' }) });
    const session = LoginAnswer.parse(await login.json()).sessionToken;
    const act = (eventId: string, action: string, body: Record<string, unknown>): Promise<Response> =>
      fetch(`${http}/department/api/events/${eventId}/${action}`, { method: 'POST', headers: { Authorization: `Bearer ${session}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ clientId: randomUUID(), ...body }) });

    const wire = new WireClient({ url: backend.url, token: TEST_TOKENS.duty });
    await wire.waitSynced();
    const grid = wire.all<Grid>('grids')[0]!;
    const category = [...backend.state.collections.rules.values()][0]!.category;
    const ids: string[] = [];
    for (const title of ['部门测试：申请延期', '部门测试：退回']) {
      const ack = await wire.command('event.report', { source: 'hotline', category, severity: 2, title, description: title, location: grid.center });
      ids.push(String(ack.result['eventId']));
      await wire.command('event.dispatch', { eventId: String(ack.result['eventId']), departmentId: department.id });
    }
    const [extended, returned] = ids as [string, string];
    const before = backend.state.get('events', extended)!.stepDeadline!;
    expect((await act(extended, 'extension', { minutes: 90, reason: '需采购材料' })).status).toBe(200);
    expect((await act(returned, 'return', { reason: '不属于本部门' })).status).toBe(200);
    wire.close();

    const desk = await startHost({ name: 'desk', backend: { url: backend.url, token: TEST_TOKENS.dispatcher } });
    const page = await newPage();
    await open(page, desk);
    await page.getByTestId('dispatch-search').fill(extended);
    await page.locator(`[data-event-id="${extended}"]`).click();
    const request = page.getByTestId('extension-request');
    await request.waitFor({ timeout: 15_000 });
    await expect(request.textContent()).resolves.toContain('申请延期 90 分钟：需采购材料');
    await page.getByTestId('act-extension-approve').click();
    await request.waitFor({ state: 'detached', timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="timeline"]')?.textContent?.includes('批准延期'), undefined, { timeout: 15_000 });
    const approved = backend.state.get('events', extended) as GovEvent;
    expect(Date.parse(approved.stepDeadline!) - Date.parse(before)).toBe(90 * 60_000);

    await page.getByTestId('dispatch-search').fill(returned);
    await page.locator(`[data-event-id="${returned}"]`).click();
    await status(page, 'accepted');
    await page.waitForFunction(() => document.querySelector('[data-testid="timeline"]')?.textContent?.includes('退回'), undefined, { timeout: 15_000 });
    await page.keyboard.press('d');
    await status(page, 'dispatched');
  }, 120_000);
});
