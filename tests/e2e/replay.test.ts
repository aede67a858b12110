/**
 * 复盘回放 in the console (Chromium, the browser host linked to a standalone backend whose city clock runs at ×60,
 * no simulator): an incident is scripted live (report → dispatch to a staff member → sign, feedback, follow-up,
 * close), then replayed from its detail (「复盘回放」). Jumping to its records shows it as it stood: new (待受理) at the report,
 * dispatched to that staff member at the dispatch. A second window shows the banner too; the actions are hidden;
 * a command is refused in the window and at the hub; 返回实时 brings the live rows back on both windows.
 */
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { SHOTS, anyGrid, hubBridge, syncedRows } from '../../harness/e2e';
import { backendArgs } from '../../harness/backend-process';
import { it } from '../../harness/fixtures';
import { REPLAY_REFUSAL, type CommandArgs, type HubApi, type TypedCommandRequest } from '../../protocol';

const TITLE = '复盘回放端到端：道路积水';
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls an asynchronous condition every 250 ms until it holds (or fails with what was waited for). */
async function waitFor(ok: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await wait(250);
  }
}

async function command(api: HubApi, ...[type, payload]: CommandArgs): Promise<void> {
  await api.submitCommand({ commandId: crypto.randomUUID(), type, payload } as TypedCommandRequest);
}

async function open(page: Page, url: string): Promise<Page> {
  await page.goto(url);
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
  return page;
}

/** Jumps to the first record of the range with this action (the time bar's marks list), and waits for T there. */
async function jumpTo(page: Page, action: string): Promise<string> {
  const option = page.locator(`[data-testid="replay-marks"] option[data-action="${action}"]`).first();
  const at = (await option.getAttribute('value'))!;
  await page.getByTestId('replay-marks').selectOption(at);
  await page.locator(`[data-testid="replay-banner"][data-at="${at}"]`).waitFor({ timeout: 15_000 });
  return at;
}

describe('复盘回放 in the console', () => {
  it('replays a scripted incident from its detail: as it stood at each record, on every window, then back to live', async ({ dataDir, newPage, startChild, startHost }) => {
    const backend = await startChild<{ url: string; tokensFile: string }>(process.execPath, backendArgs(join(dataDir, 'b', 'backend.sqlite'), ['--no-sim', '--history-days', '1', '--speed', '60', '--sip', 'off', '--no-record']));
    const tokens = JSON.parse(readFileSync(backend.ready.tokensFile, 'utf8')) as Record<string, string>;
    const base = backend.ready.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
    const host = await startHost({ name: 'a', backend: { url: backend.ready.url, token: tokens.dispatcher! } });
    const api = await hubBridge(host);

    // The event's replay starts 15 city minutes before its report: wait until the history reaches that far back.
    await waitFor(
      async () => {
        const range = (await (await fetch(`${base}/history/range`, { headers: { Authorization: `Bearer ${tokens.dispatcher!}` } })).json()) as { earliest: string | null; latest: string };
        return range.earliest !== null && Date.parse(range.latest) - Date.parse(range.earliest) > 17 * 60_000;
      },
      'the history 17 city minutes long',
      60_000,
    );

    // Live: report, dispatch to a staff member of the grid, then the steps to its close, a few city minutes apart.
    const grid = await anyGrid(api);
    // On duty (an offline staff member cannot take an event), of the event's grid when there is one.
    const onDuty = (await syncedRows(api, 'staff')).filter((s) => s.status !== 'offline');
    const staff = onDuty.find((s) => s.gridId === grid.id) ?? onDuty[0]!;
    await command(api, 'event.report', { source: 'hotline', category: 'sanitation', severity: 2, title: TITLE, description: '复盘回放端到端测试事件', location: grid.center });
    let eventId = '';
    await waitFor(async () => Boolean((eventId = (await syncedRows(api, 'events')).find((e) => e.title === TITLE && !e.pending)?.id ?? '')), 'the reported event', 30_000);
    // The desk selects it while it is open (the queue lists open events); the detail follows it to its close.
    const desk = await open(await newPage(), `${host.url}#/dispatch`);
    await desk.getByTestId('dispatch-search').fill(TITLE);
    await desk.locator(`[data-testid="queue-row"][data-event-id="${eventId}"]`).click();
    const reached = (status: string): Promise<void> =>
      waitFor(async () => (await syncedRows(api, 'events')).some((e) => e.id === eventId && e.status === status && !e.pending), `the event ${status} live`, 30_000);
    await wait(3000);
    await command(api, 'event.dispatch', { eventId, staffId: staff.id });
    await reached('dispatched');
    await wait(3000);
    await command(api, 'event.sign', { eventId });
    await reached('handling');
    await command(api, 'event.feedback', { eventId, note: '积水已排除' });
    await reached('handled');
    await command(api, 'event.followup', { eventId, note: '回访群众，满意', reached: true });
    await reached('followed-up');
    await command(api, 'event.close', { eventId, satisfaction: 'satisfied', comment: '' });
    await reached('closed');

    // The desk: the event (selected while open) closed, its actions shown.
    await desk.locator('[data-testid="detail-status"][data-status="closed"]').waitFor({ timeout: 15_000 });
    await desk.getByTestId('actions').waitFor();
    // A second window of the console (the KPI wall).
    const wall = await open(await newPage(), `${host.url}#/kpi`);

    // 复盘回放 from the detail: every window shows the banner and the time bar; the actions are hidden.
    await desk.getByTestId('replay-event').click();
    for (const page of [desk, wall]) await page.locator(`[data-testid="replay-banner"][data-event-id="${eventId}"]`).waitFor({ timeout: 20_000 });
    await expect(desk.getByTestId('actions').count()).resolves.toBe(0);
    await expect(desk.getByTestId('open-handover').count()).resolves.toBe(0);
    await expect(desk.getByTestId('new-event').count()).resolves.toBe(0);

    // T1, its report: 新; T2, its dispatch: dispatched to that staff member.
    await jumpTo(desk, 'report');
    await desk.locator('[data-testid="detail-status"][data-status="new"]').waitFor({ timeout: 15_000 });
    await expect(desk.getByTestId('detail-status').textContent()).resolves.toBe('待受理');
    const t2 = await jumpTo(desk, 'dispatch');
    await desk.locator('[data-testid="detail-status"][data-status="dispatched"]').waitFor({ timeout: 15_000 });
    await expect(desk.getByTestId('event-detail').textContent()).resolves.toContain(staff.name);
    await wall.locator(`[data-testid="replay-banner"][data-at="${t2}"]`).waitFor({ timeout: 15_000 });
    await expect(desk.getByTestId('actions').count()).resolves.toBe(0);
    await desk.screenshot({ path: join(SHOTS, 'replay-desk-dispatched.png') });
    await wall.screenshot({ path: join(SHOTS, 'replay-kpi-banner.png') });

    // A command: refused in the window before the hub (S: 督办), and by the hub for anyone who asks it directly.
    await desk.locator('body').click({ position: { x: 960, y: 1000 } });
    await desk.keyboard.press('s');
    await desk.locator('[data-testid="error-notice"][data-code="replay-active"]').waitFor({ timeout: 10_000 });
    await expect(desk.getByTestId('error-notice').textContent()).resolves.toContain('回放中不能发送指令');
    await expect(command(api, 'event.supervise', { eventId, note: '督办' })).rejects.toThrow(REPLAY_REFUSAL);
    await desk.screenshot({ path: join(SHOTS, 'replay-command-refused.png') });
    await desk.getByTestId('error-notice').getByRole('button', { name: '关闭' }).click();

    // The time bar moves T: a step of +1 min, then playing at ×10 moves it on.
    await desk.getByTestId('replay-fwd1m').click();
    await desk.locator(`[data-testid="replay-banner"][data-at="${new Date(Date.parse(t2) + 60_000).toISOString()}"]`).waitFor({ timeout: 15_000 });
    await desk.getByTestId('replay-speed').selectOption('10');
    await desk.getByTestId('replay-toggle').click();
    await desk.locator('[data-testid="replay-time-bar"][data-playing="yes"]').waitFor({ timeout: 10_000 });
    await desk.getByTestId('replay-toggle').click();
    await desk.locator('[data-testid="replay-time-bar"][data-playing="no"]').waitFor({ timeout: 10_000 });

    // English: the banner and the time bar in the window's language.
    await desk.getByTestId('toggle-locale').click();
    await desk.getByTestId('replay-back-to-live').getByText('Back to live').waitFor({ timeout: 10_000 });
    await desk.screenshot({ path: join(SHOTS, 'replay-desk-en.png') });
    await desk.getByTestId('toggle-locale').click();
    await desk.getByTestId('replay-back-to-live').getByText('返回实时').waitFor({ timeout: 10_000 });

    // 返回实时 from the second window: both windows live again, the event closed, its actions back.
    await wall.getByTestId('replay-back-to-live').click();
    for (const page of [desk, wall]) await page.getByTestId('replay-banner').waitFor({ state: 'detached', timeout: 15_000 });
    await desk.locator('[data-testid="detail-status"][data-status="closed"]').waitFor({ timeout: 15_000 });
    await desk.getByTestId('actions').waitFor({ timeout: 10_000 });
  }, 240_000);
});
