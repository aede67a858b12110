/**
 * 网格通 (the field app at /field/) in Chromium at 390x844, against one real backend, with emulated geolocation and a
 * photo set on the camera input: signed in with a field account it goes on duty (its position reaches a console, and
 * moves there), goes offline, reports with a photo (the report waits in the visible queue, and survives a reload
 * offline: the service worker serves the shell, IndexedDB keeps the queue), comes back online (the console sees the
 * event with the photo and the right grid within 2 s), then signs, arrives at and feeds back with a photo on a task
 * dispatched to it (the console sees each), and goes off duty. The app's files are served with their types; a phone
 * refused location says so and refuses a report without a position; in English (the bar's button, kept on a reload)
 * the tasks tab, that refusal and a refused sign-in are English. Screenshots into test-results/e2e.
 */
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import sharp from 'sharp';
import type { BrowserContextOptions, Page } from 'playwright-core';
import type { GovEvent, Staff, TimelineRecord } from '../../protocol';
import { SHOTS } from '../../harness/e2e';
import { TEST_TOKENS } from '../../harness/backend';
import { it } from '../../harness/fixtures';
import { WireClient, until } from '../../harness/wire-client';

const PASSWORD = 'field-app-e2e-secret';
const photo = async (r: number, name: string): Promise<{ name: string; mimeType: string; buffer: Buffer }> => ({
  name,
  mimeType: 'image/jpeg',
  buffer: await sharp({ create: { width: 640, height: 480, channels: 3, background: { r, g: 120, b: 60 } } }).jpeg().toBuffer(),
});
const phone = (extra: BrowserContextOptions = {}): BrowserContextOptions => ({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', colorScheme: 'dark', ...extra });

async function signIn(page: Page, base: string, user: string): Promise<void> {
  await page.goto(`${base}/field/`);
  await page.locator('input[name="user"]').fill(user);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.getByRole('heading', { name: /我的任务/ }).waitFor({ timeout: 15_000 });
}

describe('网格通 (the field app)', () => {
  it('offline report with a photo → the console within 2 s; position on the map; a task signed, arrived, fed back', async ({ backend, newPage }) => {
    const http = `http://127.0.0.1:${backend.port}`;
    const staff = [...backend.state.collections.staff.values()];
    const me = staff[0]!;
    const center = backend.state.get('grids', me.gridId)!.center as [number, number];
    const made = await fetch(`${http}/admin/users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 'e2e-grid', name: me.name, role: 'field', scope: null, password: PASSWORD, staffId: me.id }),
    });
    expect(made.status).toBe(201);
    const desk = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await desk.waitSynced();
    const at = (lon: number, lat: number): boolean => desk.positions.some((p) => p.items.some(([id, x, y]) => id === me.id && Math.abs(x - lon) < 1e-5 && Math.abs(y - lat) < 1e-5));

    // The app's own files: the worker at /field/ with its scope, the manifest with PNG icons.
    const sw = await fetch(`${http}/field/sw.js`);
    expect(sw.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(sw.headers.get('service-worker-allowed')).toBe('/field/');
    const manifest = (await (await fetch(`${http}/field/manifest.webmanifest`)).json()) as { start_url: string; display: string; icons: { src: string; type: string }[] };
    expect(manifest).toMatchObject({ start_url: '/field/', display: 'standalone' });
    const icon = await fetch(`${http}/field/${manifest.icons.find((i) => i.type === 'image/png')!.src}`);
    expect(icon.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await icon.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    expect((await fetch(`${http}/field/constructor`)).status).toBe(404);
    expect((await fetch(`${http}/field/`)).headers.get('content-security-policy')).toMatch(/worker-src 'self'.*manifest-src 'self'/);

    const page = await newPage(phone({ geolocation: { longitude: center[0], latitude: center[1], accuracy: 8 }, permissions: ['geolocation'] }));
    await signIn(page, http, 'e2e-grid');
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 15_000 });

    // 上班: the position reaches the console's staff layer; moved 150 m, it moves there (≥ 10 s later: the battery rule).
    await page.getByTestId('duty').click();
    await until(() => at(center[0], center[1]), 'the console sees the phone on duty', 5000);
    await until(() => desk.get<Staff>('staff', me.id)?.status !== 'offline', 'on duty at the console', 5000);
    const moved: [number, number] = [center[0] + 0.0015, center[1]];
    await page.context().setGeolocation({ longitude: moved[0], latitude: moved[1], accuracy: 8 });
    await until(() => at(moved[0], moved[1]), 'the console sees the phone move', 15_000);

    // 一键上报, offline: category, text, a photo; it waits in the queue.
    const category = [...backend.state.collections.rules.values()][0]!;
    await page.locator('[data-tab="report"]').click();
    await page.getByTestId('report-category').selectOption(category.category);
    await page.getByTestId('report-text').fill('井盖缺失，已放置警示锥');
    await page.getByTestId('report-camera').setInputFiles(await photo(200, '现场.jpg'));
    await page.locator('[data-testid="report-files"] img').waitFor();
    await page.locator('[data-testid="report-place"][data-state="ok"]').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'field-app-report-390x844.png') });
    await page.context().setOffline(true);
    await page.getByTestId('report-submit').click();
    await page.locator('[data-testid="outbox"][data-count="1"]').waitFor();
    await page.getByTestId('offline-note').waitFor();
    await expect(page.getByTestId('outbox-item').textContent()).resolves.toContain('无网络，联网后自动发送');
    await page.screenshot({ path: join(SHOTS, 'field-app-queue-offline-390x844.png') });

    // A reload with no network: the shell from the service worker, the queue from IndexedDB, the tasks from the last /me.
    await page.reload();
    await page.getByRole('heading', { name: /我的任务/ }).waitFor({ timeout: 15_000 });
    await page.getByTestId('tab-queue').click();
    await page.locator('[data-testid="outbox"][data-count="1"]').waitFor();
    expect(backend.state.collections.events.size).toBeGreaterThan(0);
    const before = new Set(backend.state.collections.events.keys());

    // Back online: uploaded, reported, at the console within 2 s with the photo and the right grid.
    const online = Date.now();
    await page.context().setOffline(false);
    let event: GovEvent | undefined;
    await until(() => (event = desk.all<GovEvent>('events').find((e) => !before.has(e.id) && e.source === 'grid-app')) !== undefined, 'the console sees the report', 2000);
    expect(Date.now() - online).toBeLessThan(2000);
    expect(event).toMatchObject({ category: category.category, gridId: me.gridId, reporter: { name: me.name } });
    expect(event!.description).toContain('井盖缺失');
    expect(event!.attachments).toHaveLength(1);
    expect(event!.attachments![0]).toMatchObject({ kind: 'image' });
    await page.locator('[data-testid="outbox"][data-count="0"]').waitFor();
    await expect(page.getByTestId('outbox-sent').first().textContent()).resolves.toContain(event!.id);
    expect([...backend.state.collections.events.values()].filter((e) => !before.has(e.id))).toHaveLength(1);

    // A task dispatched to me: 签收 → 到场 (with the position) → 处置反馈 with a photo; the console sees each.
    const report = await desk.command('event.report', { source: 'hotline', category: category.category, severity: 2, title: '路灯不亮', description: '路灯不亮', location: center });
    const taskId = String(report.result['eventId']);
    await desk.command('event.dispatch', { eventId: taskId, staffId: me.id });
    await page.locator('[data-tab="tasks"]').click();
    const task = page.locator(`[data-testid="task"][data-event="${taskId}"]`);
    await task.locator('[data-action="sign"]').click({ timeout: 10_000 });
    await until(() => desk.get<GovEvent>('events', taskId)?.status === 'handling', 'the console sees 签收', 5000);
    await task.locator('[data-action="arrive"]').click({ timeout: 10_000 });
    await until(() => desk.all<TimelineRecord>('timeline').some((r) => r.eventId === taskId && r.action === 'arrive' && r.accuracy === 8), 'the console sees 到场', 5000);
    await task.locator('[data-action="feedback"]').click({ timeout: 10_000 });
    await task.locator('textarea[name="note"]').fill('已更换灯泡，恢复照明');
    await task.getByTestId('feedback-camera').setInputFiles(await photo(40, '处置后.jpg'));
    await task.getByTestId('task-deadline').waitFor();
    await page.screenshot({ path: join(SHOTS, 'field-app-tasks-390x844.png') });
    await task.getByRole('button', { name: '提交反馈' }).click();
    await until(() => desk.get<GovEvent>('events', taskId)?.status === 'handled', 'the console sees 处置反馈', 5000);
    const feedback = desk.all<TimelineRecord>('timeline').find((r) => r.eventId === taskId && r.action === 'feedback')!;
    expect(feedback).toMatchObject({ actor: 'e2e-grid', note: '已更换灯泡，恢复照明' });
    expect(feedback.attachments).toHaveLength(1);

    // 下班: off the map (sent again if the backend's 2 s between positions refuses it).
    await page.getByTestId('duty').click();
    await until(() => desk.get<Staff>('staff', me.id)?.status === 'offline', 'off duty at the console', 5000);
    desk.close();
  }, 180_000);

  it('location refused: the app says so, and a report without any position is refused in Chinese (nothing queued)', async ({ backend, newPage }) => {
    const http = `http://127.0.0.1:${backend.port}`;
    const staff = [...backend.state.collections.staff.values()][1]!;
    const made = await fetch(`${http}/admin/users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 'e2e-grid-2', name: staff.name, role: 'field', scope: null, password: PASSWORD, staffId: staff.id }),
    });
    expect(made.status).toBe(201);
    const page = await newPage(phone());
    await signIn(page, http, 'e2e-grid-2');
    await page.getByTestId('duty').click();
    await page.getByTestId('duty-line').filter({ hasText: '定位权限被拒绝' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="duty"][data-on="false"]').waitFor(); // no duty without a position
    await page.locator('[data-tab="report"]').click();
    await page.getByTestId('report-text').fill('无定位上报');
    await page.getByTestId('report-submit').click();
    await expect(page.getByTestId('report-error').textContent()).resolves.toMatch(/无法上报：没有位置。定位权限被拒绝/);
    await page.getByTestId('tab-queue').click();
    await page.locator('[data-testid="outbox"][data-count="0"]').waitFor();
    await page.screenshot({ path: join(SHOTS, 'field-app-location-refused-390x844.png') });

    // English, chosen in the bar: the tasks tab (a task dispatched to me: its actions, deadline), kept on a reload;
    // the app's own refusal and the backend's (a wrong password, through the shared page-app calls) in English too.
    const desk = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await desk.waitSynced();
    const category = [...backend.state.collections.rules.values()][0]!.category;
    const center = backend.state.get('grids', staff.gridId)!.center as [number, number];
    const report = await desk.command('event.report', { source: 'hotline', category, severity: 2, title: '路灯不亮', description: '路灯不亮', location: center });
    const taskId = String(report.result['eventId']);
    // On duty for the dispatch (this phone has no position: its session sends one, as another phone's would).
    const onDuty = await page.evaluate(async (at) => {
      const { token } = JSON.parse(localStorage.getItem('zongzhi.field.session')!) as { token: string };
      const body = JSON.stringify({ lon: at[0], lat: at[1], accuracy: 10, at: new Date().toISOString(), onDuty: true });
      return (await fetch('/field/api/position', { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body })).status;
    }, center);
    expect(onDuty).toBeLessThan(300);
    await until(() => desk.get<Staff>('staff', staff.id)?.status !== 'offline', 'on duty at the console', 5000);
    await desk.command('event.dispatch', { eventId: taskId, staffId: staff.id });
    desk.close();
    await page.locator('[data-tab="tasks"]').click();
    const task = page.locator(`[data-testid="task"][data-event="${taskId}"]`);
    await task.locator('[data-action="sign"]').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'field-app-tasks-chinese-390x844.png') });
    await page.getByTestId('toggle-locale').click();
    await page.getByRole('heading', { name: /^My tasks \(\d+\)$/ }).waitFor();
    await expect(task.locator('[data-action="sign"]').textContent()).resolves.toBe('Sign for');
    await expect(task.getByTestId('task-deadline').textContent()).resolves.toMatch(/ left \(due /);
    await expect(page.locator('[data-tab="report"]').textContent()).resolves.toBe('Report');
    await page.screenshot({ path: join(SHOTS, 'field-app-tasks-english-390x844.png') });
    await page.reload();
    await page.getByRole('heading', { name: /^My tasks/ }).waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('toggle-locale').textContent()).resolves.toBe('中文');
    await page.locator('[data-tab="report"]').click();
    await page.getByTestId('report-text').fill('no position');
    await page.getByTestId('report-submit').click();
    await expect(page.getByTestId('report-error').textContent()).resolves.toMatch(/^Cannot report: no position\. Location permission refused/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name="user"]').fill('e2e-grid-2');
    await page.locator('input[name="password"]').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByTestId('field-error').textContent()).resolves.toContain('Wrong user name or password');
  }, 90_000);
});
