/**
 * The loop closed by real people, no simulator (the test backend runs with simulate: false): a grid staff member
 * reports over the field app's HTTP API → the dispatcher at the desk (browser host page) accepts it and dispatches it
 * to the department the 权责清单 names → that department's liaison, on the department page (/department/, Chromium
 * at 1366x768), sees it in the queue, 签收, 处置反馈 with a photo → the desk sees it handled with the photo → the
 * dispatcher follows up and closes it. A second event is 退回 with a reason and is back at the desk for dispatch.
 * The page's sign-in refuses a wrong password and another app's account with the field app's words. An action made
 * offline waits in 待发送 and is sent when the network returns; a cut answer is sent again by the queue as the
 * same action; a thumbnail closed mid-read leaks no blob URL; the page speaks English when chosen (kept on reload).
 */
import { describe, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { AttachmentRef, FieldReportAnswer, LoginAnswer, type Grid, type Staff, type TimelineRecord } from '../../protocol';
import { TEST_TOKENS } from '../../harness/backend';
import { SHOTS } from '../../harness/e2e';
import { it } from '../../harness/fixtures';
import { WireClient } from '../../harness/wire-client';

const LIAISON = { user: 'e2e-dept-liaison', password: 'e2e-dept-liaison-secret' };
const FIELD = { user: 'e2e-grid-staff', password: 'e2e-grid-staff-secret' };

const deskStatus = (page: Page, value: string) => page.locator(`[data-testid="detail-status"][data-status="${value}"]`).waitFor({ timeout: 15_000 });
const pageStatus = (page: Page, value: string) => page.locator(`[data-testid="department-detail"][data-status="${value}"]`).waitFor({ timeout: 15_000 });

async function deskOpen(page: Page, eventId: string): Promise<void> {
  await page.getByTestId('dispatch-search').fill(eventId);
  await page.locator(`[data-event-id="${eventId}"]`).click();
}

async function signInAt(page: Page, user: string, password: string): Promise<void> {
  await page.locator('input[name="user"]').fill(user);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('[data-testid="department-sign-in"] button[type="submit"]').click();
}

describe('the department page (部门联络员端)', () => {
  it('the loop closes by real people: field report → desk dispatch → 签收 and 反馈 with a photo on the page → desk closes; 退回 goes back to dispatch', async ({ backend, newPage, startHost }) => {
    const http = `http://127.0.0.1:${backend.port}`;
    const rule = [...backend.state.collections.rules.values()][0]!;
    const department = backend.state.get('departments', rule.departmentId)!;
    const staff = [...backend.state.collections.staff.values()][0] as Staff;
    const grid = backend.state.get('grids', staff.gridId) as Grid;
    const admin = (body: Record<string, unknown>): Promise<Response> =>
      fetch(`${http}/admin/users`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await admin({ id: LIAISON.user, name: '王联络', role: 'liaison', scope: null, password: LIAISON.password, departmentId: department.id })).status).toBe(201);
    expect((await admin({ id: FIELD.user, name: staff.name, role: 'field', scope: null, password: FIELD.password, staffId: staff.id })).status).toBe(201);
    const login = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: FIELD.user, password: FIELD.password, client: { id: 'e2e-phone' }, app: 'field' }) });
    const fieldSession = LoginAnswer.parse(await login.json()).sessionToken;
    const report = async (description: string): Promise<string> => {
      const res = await fetch(`${http}/field/api/reports`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${fieldSession}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ clientId: randomUUID(), category: rule.category, description, location: grid.center, accuracy: 5 }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
      return FieldReportAnswer.parse(await res.json()).eventId;
    };
    const first = await report('人行道井盖破损，已设置警示');
    const second = await report('河道漂浮物（非本部门）');

    // The dispatcher at the desk accepts the first report and dispatches it to the department the 权责清单 names.
    const host = await startHost({ name: 'desk', backend: { url: backend.url, token: TEST_TOKENS.dispatcher } });
    const desk = await newPage();
    await desk.goto(`${host.url}#/dispatch`);
    await desk.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
    await deskOpen(desk, first);
    await deskStatus(desk, 'new');
    await desk.getByTestId('act-accept').click();
    await deskStatus(desk, 'accepted');
    await desk.getByTestId('act-dispatch-dept').click();
    await deskStatus(desk, 'dispatched');
    const wire = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await wire.waitSynced();
    await wire.command('event.accept', { eventId: second });
    await wire.command('event.dispatch', { eventId: second, departmentId: department.id });
    wire.close();

    // The liaison's page: a wrong password and a field account are refused in the field app's words.
    const page = await newPage({ viewport: { width: 1366, height: 768 } });
    // Blob URLs made and revoked (the attachments' thumbnails): none may outlive its component.
    await page.addInitScript(() => {
      const counts = { made: 0, revoked: 0 };
      (window as unknown as { blobs: typeof counts }).blobs = counts;
      const make = URL.createObjectURL.bind(URL);
      const revoke = URL.revokeObjectURL.bind(URL);
      URL.createObjectURL = (o: Blob | MediaSource) => (counts.made++, make(o));
      URL.revokeObjectURL = (u: string) => (counts.revoked++, revoke(u));
    });
    const blobs = (): Promise<{ made: number; revoked: number }> => page.evaluate(() => (window as unknown as { blobs: { made: number; revoked: number } }).blobs);
    await page.goto(`${http}/department/`);
    await signInAt(page, LIAISON.user, 'wrong-password');
    await expect(page.getByTestId('department-error').textContent()).resolves.toContain('用户名或密码错误');
    await signInAt(page, FIELD.user, FIELD.password);
    await page.waitForFunction(() => document.querySelector('[data-testid="department-error"]')?.textContent?.includes('只能登录网格员外勤端'), undefined, { timeout: 10_000 });
    await signInAt(page, LIAISON.user, LIAISON.password);
    await expect(page.getByTestId('department-name').textContent()).resolves.toContain(department.name);
    const item = page.locator(`[data-testid="department-queue"] [data-event="${first}"]`);
    await item.waitFor({ timeout: 15_000 });
    await expect(item.getByTestId('deadline').textContent()).resolves.toMatch(/剩余/);

    // 签收 (a double click is one action), then 处置反馈 with a photo.
    await item.click();
    await pageStatus(page, 'dispatched');
    await page.locator('[data-action="sign"]').dblclick();
    await pageStatus(page, 'handling');
    await deskStatus(desk, 'handling');
    await page.locator('[data-action="feedback"]').click();
    await page.locator('[data-testid="feedback-form"] textarea[name="note"]').fill('井盖已更换，现场已清理');
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 40, g: 140, b: 90 } } }).png().toBuffer();
    await page.locator('[data-testid="feedback-form"] input[type="file"]').setInputFiles({ name: '处置后.png', mimeType: 'image/png', buffer: png });
    await page.locator('[data-testid="feedback-form"] button[type="submit"]').click();
    await pageStatus(page, 'handled');
    await expect(page.getByTestId('department-notice').textContent()).resolves.toContain('已提交处置反馈');
    // The photo's thumbnail, read with the liaison's session, in the page's history.
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="timeline"] li[data-action="feedback"] img[data-testid="attachment-thumb"]');
      return img !== null && img.complete && img.naturalWidth > 0;
    }, undefined, { timeout: 15_000 });
    await page.screenshot({ path: join(SHOTS, 'department-page-1366x768.png') });
    // The thumbnail read slowly, and the detail switched away mid-read: the read is dropped, no blob URL is left.
    const secondItem = page.locator(`[data-testid="department-queue"] [data-event="${second}"]`);
    await page.route('**/attachments/*/thumb', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue().catch(() => undefined);
    });
    await secondItem.click();
    await page.locator(`[data-testid="department-detail"][data-event="${second}"]`).waitFor();
    await item.click();
    await page.locator('[data-testid="timeline"] li[data-action="feedback"] [data-attachment]').waitFor();
    await secondItem.click();
    await page.locator(`[data-testid="department-detail"][data-event="${second}"]`).waitFor();
    await new Promise((r) => setTimeout(r, 2500));
    await page.unroute('**/attachments/*/thumb');
    const counted = await blobs();
    expect(counted.made).toBeGreaterThan(0);
    expect(counted.revoked).toBe(counted.made);
    const entries = (): TimelineRecord[] => [...backend.state.collections.timeline.values()].filter((r) => r.eventId === first).sort((a, b) => a.index - b.index);
    expect(entries().filter((r) => r.action === 'sign')).toHaveLength(1);
    const photo = AttachmentRef.parse(entries().find((r) => r.action === 'feedback')!.attachments![0]);

    // The desk sees it handled with the photo, follows up and closes it.
    await deskStatus(desk, 'handled');
    await desk.waitForFunction(
      (id) => {
        const img = document.querySelector<HTMLImageElement>(`[data-testid="attachment-gallery"] [data-attachment="${id}"] img`);
        return img !== null && img.complete && img.naturalWidth > 0;
      },
      photo.id,
      { timeout: 15_000 },
    );
    await desk.screenshot({ path: join(SHOTS, 'department-page-desk-handled.png') });
    await desk.getByTestId('action-note').fill('已电话回访，群众满意');
    await desk.getByTestId('act-followup').click();
    await deskStatus(desk, 'followed-up');
    await desk.getByTestId('act-close').click();
    await deskStatus(desk, 'closed');
    expect(backend.state.get('events', first)!.status).toBe('closed');
    // Real people all the way: the field account, the dispatcher, the liaison — no simulated actor.
    expect(entries().map((r) => `${r.action}:${r.actor}`)).toEqual([
      `report:${FIELD.user}`,
      'accept:dispatcher',
      'dispatch:dispatcher',
      `sign:${LIAISON.user}`,
      `feedback:${LIAISON.user}`,
      'followup:dispatcher',
      'close:dispatcher',
    ]);

    // 退回 with a reason, made offline: it waits in 待发送 and goes when the network returns; the event leaves the
    // queue and is back at the desk to dispatch again.
    await page.getByTestId('refresh').click();
    await secondItem.click();
    await pageStatus(page, 'dispatched');
    await page.locator('[data-action="return"]').click();
    const giveBack = page.locator('[data-testid="return-form"] button[type="submit"]');
    expect(await giveBack.isDisabled()).toBe(true);
    await page.locator('[data-testid="return-form"] textarea[name="reason"]').fill('属于水务部门职责，请改派');
    await page.context().setOffline(true);
    await page.getByTestId('offline-note').waitFor();
    await giveBack.click();
    await page.locator('[data-testid="department-outbox"][data-count="1"] [data-testid="outbox-item"][data-state="waiting"]').waitFor();
    await expect(page.getByTestId('department-outbox').textContent()).resolves.toContain('无网络，联网后自动发送');
    expect(await page.locator('[data-action="return"]').isDisabled()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'department-page-offline-1366x768.png') });
    await new Promise((r) => setTimeout(r, 500));
    expect(backend.state.get('events', second)!.status).toBe('dispatched');
    await page.context().setOffline(false);
    await page.waitForFunction(() => document.querySelector('[data-testid="department-notice"]')?.textContent?.includes('已退回'), undefined, { timeout: 10_000 });
    await page.locator(`[data-testid="department-queue"] [data-event="${second}"]`).waitFor({ state: 'detached', timeout: 15_000 });
    await deskOpen(desk, second);
    await deskStatus(desk, 'accepted');
    await desk.waitForFunction(() => document.querySelector('[data-testid="timeline"]')?.textContent?.includes('属于水务部门职责'), undefined, { timeout: 15_000 });
    await desk.screenshot({ path: join(SHOTS, 'department-page-desk-returned.png') });

    // A third, 督办 by a leader: 申请延期 from the page; then the desk gives it to another department while the page
    // still shows it: 签收 is refused in Chinese, the detail one click away, and the event leaves the queue.
    const third = await report('小区消防通道被占用');
    const other = [...backend.state.collections.departments.values()].find((d) => d.id !== department.id)!;
    const leader = new WireClient({ url: backend.url, token: TEST_TOKENS.leader });
    const dispatcher = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await Promise.all([leader.waitSynced(), dispatcher.waitSynced()]);
    await dispatcher.command('event.accept', { eventId: third });
    await dispatcher.command('event.dispatch', { eventId: third, departmentId: department.id });
    await leader.command('event.supervise', { eventId: third, note: '限期办结' });
    await page.getByTestId('refresh').click();
    const thirdItem = page.locator(`[data-testid="department-queue"] [data-event="${third}"]`);
    await thirdItem.getByTestId('supervised').waitFor({ timeout: 15_000 });
    await thirdItem.click();
    await pageStatus(page, 'dispatched');
    await page.locator('[data-action="extension"]').click();
    await page.locator('[data-testid="extension-form"] input[name="minutes"]').fill('90');
    await page.locator('[data-testid="extension-form"] textarea[name="extensionReason"]').fill('需协调物业清理');
    // The first answer is lost on the way back (the backend acted): the queue sends it again with the same clientId,
    // so it is the same action (a new one would be refused: one pending request at a time).
    let cut = true;
    await page.route('**/department/api/events/*/extension', async (route) => {
      if (!cut) return route.continue();
      cut = false;
      await route.fetch();
      await route.abort('connectionreset');
    });
    const submit = page.locator('[data-testid="extension-form"] button[type="submit"]');
    await submit.click();
    await page.locator('[data-testid="outbox-item"][data-state="retrying"]').waitFor({ timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="department-notice"]')?.textContent?.includes('已提交延期申请'), undefined, { timeout: 10_000 });
    await page.getByTestId('extension-request').waitFor({ timeout: 15_000 });
    expect(backend.state.get('events', third)!.extensionRequests).toHaveLength(1);
    await expect(thirdItem.textContent()).resolves.toContain('延期审批中');
    expect(backend.state.get('events', third)!.extensionRequests?.[0]).toMatchObject({ minutes: 90, reason: '需协调物业清理', requestedBy: LIAISON.user, state: 'pending' });
    await page.screenshot({ path: join(SHOTS, 'department-page-extension-1366x768.png') });
    await dispatcher.command('event.reassign', { eventId: third, departmentId: other.id, reason: '改由属地处理' });
    leader.close();
    dispatcher.close();
    await page.locator('[data-action="sign"]').click();
    const failure = page.getByTestId('department-error');
    await page.waitForFunction(() => /派给|部门/.test(document.querySelector('[data-testid="department-error"]')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await failure.locator('summary').click();
    await expect(failure.locator('pre').textContent()).resolves.toMatch(/签收 .*HTTP 403 forbidden/s);
    await thirdItem.waitFor({ state: 'detached', timeout: 15_000 });
    await expect(page.getByTestId('detail-placeholder').textContent()).resolves.toContain(`事件 ${third} 已不由本部门办理`);
    await page.screenshot({ path: join(SHOTS, 'department-page-refused-1366x768.png') });

    // English, chosen in the bar and kept on a reload; Chinese again.
    await page.getByTestId('toggle-locale').click();
    await expect(page.locator('.bar strong').textContent()).resolves.toBe('Department liaison');
    await expect(page.getByTestId('refresh').textContent()).resolves.toBe('Refresh');
    await page.reload();
    await page.getByTestId('department-name').waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('sign-out').textContent()).resolves.toBe('Sign out');
    await expect(page.locator('aside h2').textContent()).resolves.toMatch(/^Our queue \(\d+\)$/);
    await page.screenshot({ path: join(SHOTS, 'department-page-english-1366x768.png') });
    await page.getByTestId('toggle-locale').click();
    await expect(page.locator('.bar strong').textContent()).resolves.toBe('部门联络员端');

    // 退出登录: back to the form; the ended session opens nothing.
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.getByTestId('department-sign-in').waitFor();
  }, 180_000);
});
