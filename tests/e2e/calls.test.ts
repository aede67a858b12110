/**
 * 音视频调度 end to end: the console (browser host, its softphone) and field clients (the backend's /field/ page)
 * in Chromium with fake camera and microphone, through the project's real Kamailio. Media is asserted from
 * getStats (inbound-rtp bytes growing for audio and video), never from SIP state alone. The console reaches
 * Kamailio through a TCP proxy the test cuts, to prove a call survives the console's network drop.
 */
import { afterAll, describe, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SHOTS, hubBridge, syncedRows } from '../../harness/e2e';
import { backendArgs } from '../../harness/backend-process';
import { nearest } from '../../domain';
import { startConsoleFor, type HostProcess } from '../../harness/browser';
import { it } from '../../harness/fixtures';
import { TcpProxy } from '../../harness/tcp-proxy';
import { startJsonChild } from '../../harness/procs';
import { startKamailio, type RunningKamailio } from '../../backend/sip/kamailio';

const SECRET = 'calls-e2e-secret-0123456789';
const MEDIA_ARGS = ['--allow-loopback-in-peer-connection', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

// The file's Chromium and temp dir (fixtures, with fake camera and microphone); the SIP server, its proxy, the
// backend and the console are this file's own, started and stopped below.
it.override('chromiumOptions', { args: MEDIA_ARGS });
let dir: string;
let browser: Browser;
let kamailio: RunningKamailio;
let proxy: TcpProxy;
let backend: Awaited<ReturnType<typeof startJsonChild<{ url: string; port: number; tokensFile: string }>>>;
let host: HostProcess;
let desk: Page;
/** Field staff of the selected event's grid, on duty: each signed in on a field page. */
const field = new Map<string, Page>();
let staffIds: string[] = [];

function startConsole(name: string, backendUrl: string, token: string): Promise<HostProcess> {
  // The desk records its own side of each call (settings.json recordCalls): kept with the call on the backend.
  return startConsoleFor(join(dir, name), backendUrl, token, { recordCalls: true });
}

async function openDesk(console: HostProcess): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  await page.goto(`${console.url}#/dispatch`);
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
  return { page, context };
}

const FIELD_PASSWORD = 'calls-e2e-field-password';

/**
 * A field account for the staff member (made by the administrator, POST /admin/users), signed in on a phone-sized
 * page through its form. The first one also shows the form's answer to a wrong password (screenshot).
 */
async function openField(staffId: string, adminToken: string, first: boolean): Promise<Page> {
  const base = `http://127.0.0.1:${backend.ready.port}`;
  const made = await fetch(`${base}/admin/users`, { method: 'POST', headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ id: staffId, name: `网格员 ${staffId}`, role: 'field', scope: null, password: FIELD_PASSWORD, staffId }) });
  expect(made.status).toBe(201);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${base}/field/`);
  const signIn = async (password: string): Promise<void> => {
    await page.locator('input[name="user"]').fill(staffId);
    await page.locator('input[name="password"]').fill(password);
    await page.getByRole('button', { name: '登录', exact: true }).click();
  };
  if (first) {
    await signIn('not-the-password');
    await expect(page.getByTestId('field-error').textContent()).resolves.toContain('用户名或密码错误');
    await page.screenshot({ path: join(SHOTS, 'field-sign-in-390x844.png') });
  }
  await signIn(FIELD_PASSWORD);
  await page.locator('main[data-status="registered"]').waitFor({ timeout: 20_000 });
  await page.getByRole('heading', { name: /我的任务/ }).waitFor();
  if (first) await page.screenshot({ path: join(SHOTS, 'field-signed-in-390x844.png') });
  return page;
}

/** Bytes received on an element carrying data-audio-bytes / data-video-bytes (updated from getStats each second). */
async function bytes(locator: ReturnType<Page['locator']>): Promise<{ audio: number; video: number }> {
  return { audio: Number(await locator.getAttribute('data-audio-bytes')), video: Number(await locator.getAttribute('data-video-bytes')) };
}
/** Waits until both audio and video bytes grew past what they were. */
async function mediaGrows(locator: ReturnType<Page['locator']>, what: string, video = true): Promise<void> {
  const before = await bytes(locator);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const now = await bytes(locator);
    if (now.audio > before.audio + 1000 && (!video || now.video > before.video + 5000)) return;
    if (Date.now() > deadline) throw new Error(`${what}: media did not flow (before ${JSON.stringify(before)}, now ${JSON.stringify(now)})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

it.beforeAll(async ({ browser: fileBrowser, fileDir }) => {
  browser = fileBrowser;
  dir = fileDir;
  kamailio = await startKamailio({ secret: SECRET });
  proxy = await TcpProxy.start(kamailio.port);
  backend = await startJsonChild(
    process.execPath,
    backendArgs(join(dir, 'backend', 'backend.sqlite'), ['--no-sim', '--history-days', '1', '--staff-per-grid', '4',
      // The duty roster follows the time of day: at night too few staff are on duty for a group call of three.
      '--start-at', '10:00',
      '--sip', `ws://127.0.0.1:${proxy.port}`, '--sip-field-url', kamailio.url]),
    { ...process.env, ZONGZHI_SIP_SECRET: SECRET },
  );
  const tokens = JSON.parse(readFileSync(backend.ready.tokensFile, 'utf8')) as Record<string, string>;
  host = await startConsole('console', backend.ready.url, tokens.dispatcher!);
  ({ page: desk } = await openDesk(host));
  await desk.locator('[data-testid="call-bar"]').waitFor({ state: 'detached', timeout: 20_000 }).catch(() => undefined);
  // An event whose grid has at least three staff on duty: they sign in on their phones.
  const rows = desk.getByTestId('queue-row');
  await rows.first().waitFor({ timeout: 30_000 });
  for (let i = 0; i < 30 && staffIds.length < 3; i++) {
    await rows.nth(i).click();
    await desk.locator('[data-testid="call-video"]').first().waitFor({ timeout: 20_000 });
    staffIds = await desk.locator('[data-testid="grid-staff"] .person:not(.offline)').evaluateAll((els) => els.map((el) => el.getAttribute('data-staff')!));
  }
  expect(staffIds.length).toBeGreaterThanOrEqual(3);
  staffIds = staffIds.slice(0, 3);
  for (const id of staffIds) field.set(id, await openField(id, tokens.admin!, id === staffIds[0]));
}, 180_000);

afterAll(async () => {
  await host?.stop();
  await backend?.stop();
  await proxy?.close();
  await kamailio?.stop();
});

const deskCall = (peer: string): ReturnType<Page['locator']> => desk.locator(`[data-testid="call"][data-peer="${peer}"]`);
/** The call with `peer` still in progress (an ended one lingers on the bar for a few seconds). */
const liveCall = (peer: string): ReturnType<Page['locator']> => desk.locator(`[data-testid="call"][data-peer="${peer}"]:not([data-state="ended"])`);
const fieldCall = (page: Page): ReturnType<Page['locator']> => page.getByTestId('active-call');

describe('audio/video calls (音视频调度)', () => {
  it('the dispatcher video-calls a field staff member in one click; media flows both ways; hang-up ends it at the far end', async () => {
    const [a] = staffIds as [string];
    const phone = field.get(a)!;
    await desk.locator(`[data-staff="${a}"] [data-testid="call-video"]`).click();
    await phone.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await expect(phone.getByTestId('incoming').textContent()).resolves.toContain('视频来电');
    await phone.getByRole('button', { name: '接听', exact: true }).click();
    await deskCall(a).and(desk.locator('[data-state="established"]')).waitFor({ timeout: 20_000 });
    await mediaGrows(liveCall(a), 'console ← field');
    await mediaGrows(fieldCall(phone), 'field ← console');
    await desk.screenshot({ path: join(SHOTS, 'calls-video-1920x1080.png') });
    await phone.screenshot({ path: join(SHOTS, 'calls-field-client.png') });

    await deskCall(a).getByTestId('hangup-call').click();
    await fieldCall(phone).waitFor({ state: 'detached', timeout: 10_000 });
    await desk.locator(`[data-testid="call"][data-peer="${a}"][data-result="answered"]`).waitFor({ timeout: 5000 });
    // The call log: in the event's timeline.
    await desk.getByTestId('timeline-call').first().waitFor({ timeout: 10_000 });
    await expect(desk.getByTestId('timeline-call').first().textContent()).resolves.toMatch(/呼出视频通话 .+：已挂断，时长/);
    // On the backend (call.log through the outbox): the entry names who called, and the call shows once.
    await desk.locator('[data-testid="timeline-call"] .who', { hasText: '调度员' }).first().waitFor({ timeout: 10_000 });
    await expect(desk.getByTestId('timeline-call').count()).resolves.toBe(1);
    // With the recording of the desk's side (recordCalls): an audio attachment of the entry, as the backend keeps it.
    const recording = desk.locator('[data-testid="timeline-call"] [data-testid="attachment-thumb"]');
    await recording.first().waitFor({ timeout: 10_000 });
    await expect(recording.first().getAttribute('title')).resolves.toMatch(/call-[0-9a-z-]+\.(webm|ogg)/);
    await desk.getByTestId('timeline').screenshot({ path: join(SHOTS, 'calls-timeline-recording.png') });
  }, 60_000);

  it('an incoming call from the field rings at the desk and is answered (Alt+A)', async () => {
    const [, b] = staffIds as [string, string];
    const phone = field.get(b)!;
    await phone.reload();
    await phone.locator('main[data-status="registered"]').waitFor({ timeout: 20_000 });
    await phone.locator('.person button', { hasText: '视频' }).first().click();
    await desk.getByTestId('incoming-call').waitFor({ timeout: 10_000 });
    await desk.keyboard.press('Alt+a');
    await deskCall(b).and(desk.locator('[data-state="established"]')).waitFor({ timeout: 20_000 });
    await mediaGrows(liveCall(b), 'console ← field (incoming)');
    await mediaGrows(fieldCall(phone), 'field ← console (incoming)');
    await phone.getByRole('button', { name: '挂断' }).click();
    await deskCall(b).and(desk.locator('[data-state="ended"]')).waitFor({ timeout: 10_000 });
  }, 60_000);

  it('a group call reaches the grid\'s three staff on duty; everyone hears the others', async () => {
    await desk.getByTestId('call-grid').click();
    for (const id of staffIds) {
      const phone = field.get(id)!;
      await phone.getByTestId('incoming').waitFor({ timeout: 10_000 });
      await phone.getByRole('button', { name: '接听', exact: true }).click();
    }
    const group = desk.getByTestId('group-call');
    for (const id of staffIds) {
      const member = group.locator(`[data-testid="group-member"][data-peer="${id}"]`);
      await member.and(desk.locator('[data-state="established"]')).waitFor({ timeout: 15_000 });
      await mediaGrows(member, `group: console ← ${id}`);
      await mediaGrows(fieldCall(field.get(id)!), `group: ${id} ← console mix`);
    }
    await desk.screenshot({ path: join(SHOTS, 'calls-group-1920x1080.png') });
    await group.getByTestId('hangup-group').click();
    for (const id of staffIds) await fieldCall(field.get(id)!).waitFor({ state: 'detached', timeout: 10_000 });
  }, 90_000);

  it('R calls everyone on duty within 1 km of the event, whatever their grid: the nearest, at most 8', async () => {
    // Whom the desk should reach, computed here from the hub's own rows.
    const eventId = (await desk.locator('[data-testid="queue-row"].selected').getAttribute('data-event-id'))!;
    const api = await hubBridge(host);
    let expected: string[];
    try {
      const event = (await syncedRows(api, 'events')).find((e) => e.id === eventId)!;
      const onDuty = (await syncedRows(api, 'staff')).filter((s) => s.status !== 'offline');
      expected = nearest(onDuty, event.location, 1000, 8, (s) => s.position).map((n) => n.item.sipUser);
    } finally {
      api.close();
    }
    expect(expected.length).toBeGreaterThan(0);
    await expect(desk.getByTestId('call-around').textContent()).resolves.toContain(`（${expected.length}）`);
    await desk.locator('body').click({ position: { x: 5, y: 5 } }); // keys go to the desk, not a field
    // The grid call before this one may still linger on the bar, ended: the new group is the last.
    await desk.getByTestId('group-call').waitFor({ state: 'detached', timeout: 10_000 });
    await desk.keyboard.press('r');
    const group = desk.getByTestId('group-call');
    await group.waitFor({ timeout: 10_000 });
    await expect.poll(() => group.getByTestId('group-member').evaluateAll((els) => els.map((el) => el.getAttribute('data-peer')).sort())).toEqual([...expected].sort());
    // Staff not signed in on a phone are unreachable (no simulated staff here); hang up the rest.
    await group.getByTestId('hangup-group').click();
    for (const id of staffIds) await field.get(id)!.getByTestId('incoming').waitFor({ state: 'detached', timeout: 10_000 });
    await group.waitFor({ state: 'detached', timeout: 15_000 });
  }, 60_000);

  it('a call survives the console losing its SIP connection: reconnecting, then re-registered and re-INVITEd (ICE restart)', async () => {
    const [a] = staffIds as [string];
    const phone = field.get(a)!;
    await desk.locator(`[data-staff="${a}"] [data-testid="call-voice"]`).click();
    await phone.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await phone.getByRole('button', { name: '接听', exact: true }).click();
    const call = deskCall(a).and(desk.locator('[data-state="established"]'));
    await call.waitFor({ timeout: 20_000 });

    const cutAt = Date.now();
    proxy.block();
    proxy.cut();
    await deskCall(a).and(desk.locator('[data-state="reconnecting"]')).waitFor({ timeout: 10_000 });
    await expect(desk.getByTestId('phone-status').textContent()).resolves.toContain('正在重连');
    await new Promise((r) => setTimeout(r, 3000));
    proxy.unblock();
    await desk.locator(`[data-testid="call"][data-peer="${a}"][data-state="established"][data-recoveries="1"]`).waitFor({ timeout: 15_000 });
    expect(Date.now() - cutAt).toBeLessThan(15_000 + 3000);
    await mediaGrows(liveCall(a), 'after recovery: console ← field', false);
    await mediaGrows(fieldCall(phone), 'after recovery: field ← console', false);
    // The dialog works after the drop: the hang-up reaches the field phone.
    await desk.keyboard.press('Alt+h');
    await fieldCall(phone).waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('a call survives the SIP server itself stopping and restarting: both ends reconnect, register again, and the call comes back', async () => {
    const [, b] = staffIds as [string, string];
    const phone = field.get(b)!;
    await desk.locator(`[data-staff="${b}"] [data-testid="call-video"]`).click();
    await phone.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await phone.getByRole('button', { name: '接听', exact: true }).click();
    await liveCall(b).and(desk.locator('[data-state="established"]')).waitFor({ timeout: 20_000 });
    await mediaGrows(liveCall(b), 'before the restart: console ← field');

    // Kamailio goes away with every connection and its in-memory registrations, then starts again.
    const port = kamailio.port;
    await kamailio.stop();
    await liveCall(b).and(desk.locator('[data-state="reconnecting"]')).waitFor({ timeout: 10_000 });
    await fieldCall(phone).and(phone.locator('[data-state="reconnecting"]')).waitFor({ timeout: 10_000 });
    const restartedAt = Date.now();
    kamailio = await startKamailio({ secret: SECRET, port });
    try {
      await liveCall(b).and(desk.locator('[data-state="established"]:not([data-recoveries="0"])')).waitFor({ timeout: 15_000 });
      await fieldCall(phone).and(phone.locator('[data-state="established"]')).waitFor({ timeout: 15_000 });
    } catch (e) {
      // What each end made of it, for a failure in CI.
      const deskCalls = await desk.locator(`[data-testid="call"][data-peer="${b}"]`).evaluateAll((els) => els.map((el) => `${el.getAttribute('data-state')} ${el.getAttribute('data-result')} ${el.getAttribute('data-cause')} recoveries=${el.getAttribute('data-recoveries')}`));
      const fieldState = await phone.locator('main').evaluate((el) => `${el.getAttribute('data-status')} ${el.querySelector('[data-testid="active-call"]')?.getAttribute('data-state') ?? 'no call'}`);
      throw new Error(`${(e as Error).message}\ndesk: ${deskCalls.join(' | ')}; phone: ${await desk.getByTestId('call-bar').getAttribute('data-phone')}\nfield: ${fieldState}\nkamailio: ${kamailio.log.slice(-15).join('\n')}`);
    }
    const recoveredMs = Date.now() - restartedAt;
    console.log(`call back ${recoveredMs} ms after the SIP server restarted`);
    expect(recoveredMs).toBeLessThan(15_000);
    await mediaGrows(liveCall(b), 'after the restart: console ← field');
    await mediaGrows(fieldCall(phone), 'after the restart: field ← console');
    // The dialog works after the restart: the hang-up reaches the field phone.
    await liveCall(b).getByTestId('hangup-call').click();
    await fieldCall(phone).waitFor({ state: 'detached', timeout: 10_000 });
  }, 90_000);

  it('blind transfer: the field staff member is handed to a colleague and the desk leaves the call', async () => {
    const [a, b] = staffIds as [string, string];
    await desk.locator(`[data-staff="${a}"] [data-testid="call-voice"]`).click();
    await field.get(a)!.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await field.get(a)!.getByRole('button', { name: '接听', exact: true }).click();
    await deskCall(a).and(desk.locator('[data-state="established"]')).waitFor({ timeout: 20_000 });
    // Transfer opens the roster; its search finds the colleague by staff id too.
    await deskCall(a).getByTestId('transfer-call').click();
    await desk.getByTestId('roster-search').fill(b);
    await desk.locator(`[data-testid="roster-person"][data-sip="${b}"] [data-testid="roster-transfer"]`).click();
    await desk.locator(`[data-testid="call"][data-peer="${a}"][data-result="transferred"]`).waitFor({ timeout: 3000 });
    await field.get(b)!.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await field.get(b)!.getByRole('button', { name: '接听', exact: true }).click();
    await fieldCall(field.get(b)!).and(field.get(b)!.locator('[data-state="established"]')).waitFor({ timeout: 20_000 });
    await mediaGrows(fieldCall(field.get(b)!), 'transferred: b ← a', false);
    await field.get(b)!.getByRole('button', { name: '挂断' }).click();
    await fieldCall(field.get(a)!).waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('attended transfer: called from the roster, the caller waits on hold while the dispatcher consults a colleague, then the two talk', async () => {
    const [a, b] = staffIds as [string, string];
    const [phoneA, phoneB] = [field.get(a)!, field.get(b)!];
    // The roster (Alt+D): anyone in scope, not only the selected event's grid.
    await desk.keyboard.press('Alt+d');
    await desk.getByTestId('roster-search').fill(a);
    await desk.locator(`[data-testid="roster-person"][data-sip="${a}"] [data-testid="roster-voice"]`).click();
    await expect(desk.getByTestId('call-roster').count()).resolves.toBe(0);
    await phoneA.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await phoneA.getByRole('button', { name: '接听', exact: true }).click();
    await deskCall(a).and(desk.locator('[data-state="established"]')).waitFor({ timeout: 20_000 });

    // 咨询转接: a is put on hold, b is called.
    await liveCall(a).getByTestId('transfer-call').click();
    await desk.getByTestId('roster-search').fill(b);
    await desk.getByTestId('call-roster').screenshot({ path: join(SHOTS, 'calls-roster-transfer.png') });
    await desk.locator(`[data-testid="roster-person"][data-sip="${b}"] [data-testid="roster-consult"]`).click();
    await liveCall(a).getByTestId('hold-call').and(desk.locator('[aria-pressed="true"]')).waitFor({ timeout: 10_000 });
    await phoneB.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await phoneB.getByRole('button', { name: '接听', exact: true }).click();
    await deskCall(b).and(desk.locator('[data-state="established"]')).waitFor({ timeout: 20_000 });
    await liveCall(b).getByTestId('consulting').waitFor();
    await mediaGrows(liveCall(b), 'consultation: console ← b', false);
    await desk.screenshot({ path: join(SHOTS, 'calls-consult-1920x1080.png') });

    // Complete: a calls b with Replaces, b's phone swaps the consultation for a; the desk leaves both calls.
    await liveCall(b).getByTestId('complete-transfer').click();
    await desk.locator(`[data-testid="call"][data-peer="${a}"][data-result="transferred"]`).last().waitFor({ timeout: 10_000 });
    await desk.locator(`[data-testid="call"][data-peer="${b}"][data-result="transferred"]`).last().waitFor({ timeout: 10_000 });
    await fieldCall(phoneB).and(phoneB.locator(`[data-peer="${a}"][data-state="established"]`)).waitFor({ timeout: 10_000 });
    await fieldCall(phoneA).and(phoneA.locator(`[data-peer="${b}"][data-state="established"]`)).waitFor({ timeout: 10_000 });
    await mediaGrows(fieldCall(phoneB), 'transferred: b ← a', false);
    await mediaGrows(fieldCall(phoneA), 'transferred: a ← b', false);
    await phoneB.getByRole('button', { name: '挂断' }).click();
    await fieldCall(phoneA).waitFor({ state: 'detached', timeout: 10_000 });
  }, 90_000);

  it('a consultation the colleague declines: the caller comes back off hold and the desk still talks to them', async () => {
    const [a, b] = staffIds as [string, string];
    const [phoneA, phoneB] = [field.get(a)!, field.get(b)!];
    await desk.locator(`[data-staff="${a}"] [data-testid="call-voice"]`).click();
    await phoneA.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await phoneA.getByRole('button', { name: '接听', exact: true }).click();
    await deskCall(a).and(desk.locator('[data-state="established"]')).waitFor({ timeout: 20_000 });
    await liveCall(a).getByTestId('transfer-call').click();
    await desk.getByTestId('roster-search').fill(b);
    await desk.keyboard.press('Escape'); // closes the roster: nothing happens
    await expect(desk.getByTestId('call-roster').count()).resolves.toBe(0);
    await liveCall(a).getByTestId('transfer-call').click();
    await desk.getByTestId('roster-search').fill(b);
    await desk.locator(`[data-testid="roster-person"][data-sip="${b}"] [data-testid="roster-consult"]`).click();
    await phoneB.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await phoneB.getByRole('button', { name: '拒绝' }).click();
    await desk.locator(`[data-testid="call"][data-peer="${b}"][data-result="declined"]`).last().waitFor({ timeout: 10_000 });
    await liveCall(a).getByTestId('hold-call').and(desk.locator('[aria-pressed="false"]')).waitFor({ timeout: 10_000 });
    await mediaGrows(fieldCall(phoneA), 'back from hold: a ← console', false);
    await liveCall(a).getByTestId('hangup-call').click();
    await fieldCall(phoneA).waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('a map wall has no phone: calling a staff member from its card has the desk place the call', async ({ newPage }) => {
    const [, , c] = staffIds as [string, string, string];
    const phoneC = field.get(c)!;
    const wall = await newPage({ viewport: { width: 1280, height: 800 } });
    await wall.goto(`${host.url.replace('role=combined', 'role=map')}#/map`);
    await wall.locator('[data-testid="workspace-map"][data-phase="ready"]').waitFor({ timeout: 60_000 });
    // The desk shows the staff member on the map wall; the wall's card calls them.
    const api = await hubBridge(host);
    try {
      expect(await api.showOnWall({ wall: 'map', kind: 'staff', id: c })).toEqual({ walls: 1 });
    } finally {
      api.close();
    }
    await wall.getByTestId('map-call-voice').click();
    await expect(wall.getByTestId('map-call-note').textContent()).resolves.toContain('已请调度台呼叫');
    await wall.getByTestId('map-detail').screenshot({ path: join(SHOTS, 'calls-map-card.png') });
    await phoneC.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await phoneC.getByRole('button', { name: '接听', exact: true }).click();
    await deskCall(c).and(desk.locator('[data-state="established"]')).waitFor({ timeout: 20_000 });
    await mediaGrows(liveCall(c), 'called from the map wall: console ← c', false);
    await deskCall(c).getByTestId('hangup-call').click();
    await fieldCall(phoneC).waitFor({ state: 'detached', timeout: 10_000 });
  }, 120_000);

  it('上墙: a video call\'s picture goes to the console\'s video wall window (another window: relayed over a loopback peer connection)', async () => {
    const [, , c] = staffIds as [string, string, string];
    const phoneC = field.get(c)!;
    await desk.locator(`[data-staff="${c}"] [data-testid="call-video"]`).click();
    await phoneC.getByTestId('incoming').waitFor({ timeout: 10_000 });
    await phoneC.getByRole('button', { name: '接听', exact: true }).click();
    await liveCall(c).and(desk.locator('[data-state="established"]')).waitFor({ timeout: 20_000 });
    await mediaGrows(liveCall(c), 'before 上墙: console ← c');
    // No video wall open yet: said so, nothing else happens.
    await liveCall(c).getByTestId('call-to-wall').click();
    await desk.getByTestId('no-video-wall').waitFor({ timeout: 5000 });
    await expect(desk.getByTestId('no-video-wall').textContent()).resolves.toContain('没有打开的视频墙窗口');

    // The video wall: another window of the same console (its own page in the same browser profile).
    const wall = await desk.context().newPage();
    try {
      await wall.goto(`${host.url.replace('role=combined', 'role=video')}#/video`);
      await wall.getByTestId('workspace-video').waitFor({ timeout: 30_000 });
      // Garbage on the relay channel (another page of the origin misbehaving) is ignored.
      await wall.evaluate(() => {
        const channel = new BroadcastChannel('zongzhi-call-wall');
        for (const junk of [null, 'offer', { type: 'offer', callId: '../x', wallId: 'w', name: 'x', sdp: 42 }, { type: 'here', callId: 'a b', wallId: 'w' }, { type: 'end' }]) channel.postMessage(junk);
        channel.close();
      });
      await liveCall(c).getByTestId('call-to-wall').click();
      await liveCall(c).getByTestId('on-wall').waitFor({ timeout: 10_000 });
      const tile = wall.getByTestId('wall-call-tile');
      await tile.waitFor({ timeout: 10_000 });
      await expect(tile.textContent()).resolves.toContain('调度通话');
      // The picture plays: decoded frames keep coming on the wall.
      const frames = (): Promise<number> => tile.locator('video').evaluate((v: HTMLVideoElement) => (v.videoWidth > 0 ? v.getVideoPlaybackQuality().totalVideoFrames : 0));
      await expect.poll(frames, { timeout: 10_000 }).toBeGreaterThan(0);
      const before = await frames();
      await expect.poll(frames, { timeout: 10_000 }).toBeGreaterThan(before + 10);
      await wall.screenshot({ path: join(SHOTS, 'calls-on-video-wall-1920x1080.png') });
      // Hanging up takes it off the wall.
      await liveCall(c).getByTestId('hangup-call').click();
      await tile.waitFor({ state: 'detached', timeout: 10_000 });
      await fieldCall(phoneC).waitFor({ state: 'detached', timeout: 10_000 });
    } finally {
      await wall.close();
    }
  }, 90_000);

  it('a wrong SIP secret at the backend: the console says in Chinese that the SIP password is wrong; nothing else breaks', async ({ dataDir, startChild, startHost }) => {
    const other = await startChild<{ url: string; port: number; tokensFile: string }>(
      process.execPath,
      backendArgs(join(dataDir, 'wrong', 'backend.sqlite'), ['--no-sim', '--history-days', '0', '--sip', kamailio.url]),
      { ...process.env, ZONGZHI_SIP_SECRET: 'not-the-kamailio-secret' },
    );
    const tokens = JSON.parse(readFileSync(other.ready.tokensFile, 'utf8')) as Record<string, string>;
    const console2 = await startHost({ name: 'wrong-console', backend: { url: other.ready.url, token: tokens.dispatcher! } });
    const { page, context } = await openDesk(console2);
    await page.locator('[data-testid="call-bar"][data-phone="failed"]').waitFor({ timeout: 20_000 });
    await expect(page.getByTestId('phone-status').textContent()).resolves.toContain('通话账号认证失败：SIP 密码错误');
    await context.close();
    // The well-configured console still calls.
    expect(await desk.locator('[data-testid="call-bar"][data-phone="failed"]').count()).toBe(0);
  }, 90_000);
});

describe('the demo: simulated field staff (embedded backend, its own Kamailio)', () => {
  it('a staff member with no phone signed in is answered by the simulated staff, with a picture and a tone', async ({ startHost }) => {
    // The quick start's set-up: the host starts the embedded backend, which starts Kamailio and the simulator.
    const demo = await startHost({ name: 'demo', env: { ZONGZHI_SIMULATED_STAFF: 'on' } });
    // Opened before the embedded backend (and its Kamailio) was up: calls come by themselves, with no prompt and
    // no reload (the page's policy names the embedded backend's loopback from the first load).
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto(`${demo.url}#/dispatch`);
    await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 60_000 });
    // The phone registers once the embedded Kamailio is up, the page never reloaded.
    await page.locator('[data-testid="call-bar"][data-phone="registered"]').waitFor({ timeout: 60_000 });
    await page.getByTestId('queue-row').first().click();
    // Any staff member of the grid (at night most are off duty: the simulated staff answer anyway).
    const button = page.locator('[data-testid="grid-staff"] [data-testid="call-video"]').first();
    await button.waitFor({ timeout: 30_000 });
    const staffId = (await button.locator('xpath=..').getAttribute('data-staff'))!;
    // The simulator registers a few seconds after the backend is up.
    for (let attempt = 0; ; attempt++) {
      await button.click();
      const call = page.locator(`[data-testid="call"][data-peer="${staffId}"]`).last();
      await page.locator(`[data-testid="call"][data-peer="${staffId}"]:is([data-state="established"], [data-state="ended"])`).last().waitFor({ timeout: 15_000 });
      if ((await call.getAttribute('data-state')) === 'established') break;
      if (attempt >= 10) throw new Error(`the simulated staff never answered: ${await call.getAttribute('data-result')}`);
      await page.waitForTimeout(2000);
    }
    const call = page.locator(`[data-testid="call"][data-peer="${staffId}"][data-state="established"]`);
    await mediaGrows(call, 'console ← simulated staff');
    await page.screenshot({ path: join(SHOTS, 'calls-simulated-staff-1920x1080.png') });
    await call.getByTestId('hangup-call').click();
    expect(await page.getByTestId('reload-for-calls').count()).toBe(0);
    expect(loads).toBe(1);
    await context.close();
  }, 120_000);
});
