/**
 * 登录 at a console linked to a configured backend with no static token: the overlay asks over the picture; a
 * wrong password is said without saying whether the user exists; the fifth wrong try locks with the time; the
 * session ending mid-shift asks again in place, a command queued meanwhile goes after signing in again; 换班登录
 * at 交接班 (the outgoing session ended, the hand-over naming both), also on the two consoles of one desk; 退出登录. Screenshots at 1920x1080.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { hashPassword } from '../../backend/auth/password';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { SHOTS, hubBridge } from '../../harness/e2e';
import type { HostProcess } from '../../harness/browser';
import { it } from '../../harness/fixtures';

// Sessions end 20 s after sign-in (the expiry case below waits for it), checked every 250 ms; a lock lasts a minute.
it.override('backendConfig', { historyDays: 1, auth: { sessionMaxMs: 20_000, sweepMs: 250, lockBaseMs: 60_000 } });

const PASSWORDS = { dispatcher: 'dispatcher-pass-01', leader: 'leader-pass-0001', duty: 'duty-pass-00001', 'duty-2': 'duty2-pass-00001' } as const;

/** A console with the backend's address and no login: what a deployment gets before anyone signs in. */
async function consoleWithoutLogin(startHost: (s: { name: string }) => Promise<HostProcess>, dataDir: string, name: string, backendUrl: string): Promise<HostProcess> {
  mkdirSync(join(dataDir, name), { recursive: true });
  writeFileSync(join(dataDir, name, 'settings.json'), JSON.stringify({ locale: 'zh-CN', theme: 'night', backendUrl }));
  return startHost({ name });
}

async function signIn(page: Page, user: string, password: string, where = page.getByTestId('sign-in')): Promise<void> {
  const field = where.getByTestId('sign-in-user');
  if ((await field.inputValue()) !== user) await field.fill(user);
  await where.getByTestId('sign-in-password').fill(password);
  await where.getByTestId('sign-in-password').press('Enter');
}

/** A try that is refused: waits for its own answer (a second wrong password looks like the first). */
async function refusedTry(page: Page, user: string, password: string): Promise<void> {
  const answers = Number(await page.locator('[data-testid="sign-in"] form').getAttribute('data-answers'));
  await signIn(page, user, password);
  await page.locator(`[data-testid="sign-in"] form[data-answers="${answers + 1}"]`).waitFor({ timeout: 20_000 });
}

const online = (page: Page) => page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });

describe('sign-in at the console (登录)', () => {
  it('asks, words a wrong password and a lock, and keeps a command queued through an expired session', async ({ backend, dataDir, newPage, startHost }) => {
    for (const [user, password] of Object.entries(PASSWORDS)) await backend.store.setPassword(user, await hashPassword(password));
    const host = await consoleWithoutLogin(startHost, dataDir, 'a', backend.url);
    const page = await newPage();
    await page.goto(`${host.url}#/dispatch`);
    const dialog = page.locator('[data-testid="sign-in"] form[data-state="required"]');
    await dialog.waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('connection-reason').textContent()).resolves.toContain('请登录');
    await page.screenshot({ path: join(SHOTS, 'sign-in-required.png') });

    // A demo screen of the same console never asks (it stays the console's viewer).
    const demo = await newPage();
    await demo.goto(`${host.url}&demo=1#/map`);
    await demo.getByTestId('connection-status').waitFor();
    await demo.waitForTimeout(1000);
    await expect(demo.getByTestId('sign-in').count()).resolves.toBe(0);

    // A wrong password, and a user that does not exist: the same words; the password field is emptied.
    await refusedTry(page, 'dispatcher', 'not-the-password');
    const error = page.getByTestId('sign-in-error');
    await page.locator('[data-testid="sign-in-error"][data-reason="wrong-password"]').waitFor();
    await expect(error.textContent()).resolves.toContain('用户名或密码错误');
    await expect(page.getByTestId('sign-in-password').inputValue()).resolves.toBe('');
    await page.screenshot({ path: join(SHOTS, 'sign-in-wrong-password.png') });
    await refusedTry(page, 'nobody-here', 'whatever-password');
    await expect(error.textContent()).resolves.toContain('用户名或密码错误');

    // Five wrong tries in a row: locked until HH:MM:SS, counting down; even the right password is refused now.
    for (let i = 0; i < 5; i++) {
      await refusedTry(page, 'leader', `wrong-${i}-password`);
      await page.locator(`[data-testid="sign-in-error"][data-reason="${i < 4 ? 'wrong-password' : 'locked'}"]`).waitFor();
    }
    await expect(error.textContent()).resolves.toMatch(/已锁定至 \d{2}:\d{2}:\d{2}（还剩 (\d+ 秒|1 分 \d+ 秒)）/);
    const before = await error.textContent();
    await page.waitForTimeout(2100);
    expect(await error.textContent()).not.toBe(before);
    await page.screenshot({ path: join(SHOTS, 'sign-in-locked.png') });
    await refusedTry(page, 'leader', PASSWORDS.leader);
    await expect(page.locator('[data-testid="sign-in-error"][data-reason="locked"]').count()).resolves.toBe(1);

    // Signed in: the overlay goes, the console is online as that user.
    await signIn(page, 'dispatcher', PASSWORDS.dispatcher);
    await online(page);
    await expect(page.getByTestId('sign-in').count()).resolves.toBe(0);
    await expect(page.getByTestId('backend-user').textContent()).resolves.toContain('调度员 张敏');

    // The session ends mid-shift (its 20 s limit): asked again in place, the user kept, the picture behind it.
    await page.locator('[data-testid="sign-in"] form[data-state="expired"]').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('sign-in-user').inputValue()).resolves.toBe('dispatcher');
    const api = await hubBridge(host);
    const [event] = await new Promise<Array<{ id: string }>>((resolve) => {
      void api.subscribeRows({ topic: 'collection', collection: 'events', filter: { openOnly: true } }, (rows) => resolve([...rows.values()]));
    });
    await api.submitCommand({ commandId: 'e2e-after-expiry-1', type: 'event.comment', payload: { eventId: event!.id, text: '登录过期期间写下的批注' } });
    await expect(page.getByTestId('sign-in-pending').textContent()).resolves.toContain('有 1 条指令等待发送');
    await page.screenshot({ path: join(SHOTS, 'sign-in-expired.png') });
    expect(await backend.store.findCommand('e2e-after-expiry-1')).toBeNull();

    await signIn(page, 'dispatcher', PASSWORDS.dispatcher);
    await online(page);
    await page.locator('[data-testid="pending-commands"]', { hasText: '待发送指令 0 条' }).waitFor({ timeout: 15_000 });
    expect((await backend.store.findCommand('e2e-after-expiry-1'))?.outcome.status).toBe('applied');
    api.close();
  }, 120_000);

  it('换班登录 at 交接班: the incoming officer signs in at the same seat, acknowledges; the record names both; 退出登录', async ({ backend, dataDir, newPage, startHost }) => {
    for (const [user, password] of Object.entries(PASSWORDS)) await backend.store.setPassword(user, await hashPassword(password));
    const host = await consoleWithoutLogin(startHost, dataDir, 'b', backend.url);
    const page = await newPage();
    await page.goto(`${host.url}#/dispatch`);
    await page.getByTestId('sign-in').waitFor({ timeout: 30_000 });
    await signIn(page, 'duty', PASSWORDS.duty);
    await online(page);
    await expect(page.getByTestId('backend-user').textContent()).resolves.toContain('值班员 李强');

    await page.getByTestId('open-handover').click();
    await page.getByTestId('handover-notes').fill('白班平稳；滨河路积水点需持续关注。');
    await page.getByTestId('handover-submit').click();
    await page.getByTestId('handover-pending').waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('handover-pending').textContent()).resolves.toContain('等待接班人确认');

    const signOuts = (): number => (backend.store as SqliteStore).auditLog(500).filter((e) => e.kind === 'sign-out' && e.userId === 'duty').length;
    const outBefore = signOuts();
    // The hand-over sent and acknowledged by the backend first: a seat never switches over the outgoing officer's queued commands.
    await page.locator('[data-testid="pending-commands"]', { hasText: '待发送指令 0 条' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('seat-switch').click();
    const form = page.getByTestId('handover-panel').getByTestId('sign-in');
    await signIn(page, 'duty-2', PASSWORDS['duty-2'], form);
    await page.getByTestId('seat-switched').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('seat-switched').textContent()).resolves.toContain('值班员 陈静');
    await expect(page.getByTestId('backend-user').textContent()).resolves.toContain('值班员 陈静');
    expect(signOuts()).toBe(outBefore + 1);
    await page.screenshot({ path: join(SHOTS, 'sign-in-seat-switch.png') });
    await page.getByTestId('handover-ack').click();
    await page.getByTestId('handover-done').first().waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('handover-done').first().textContent()).resolves.toContain('值班员 李强 → 值班员 陈静');
    await page.keyboard.press('Escape');

    // 退出登录 asks first; then the overlay asks for the next sign-in.
    await page.getByTestId('sign-out').click();
    await page.getByTestId('sign-out-yes').click();
    await page.locator('[data-testid="sign-in"] form[data-state="required"]').waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('connection-reason').textContent()).resolves.toContain('已退出登录');
  }, 120_000);

  it('换班登录 on the two consoles of one desk: each seat switches on its own; the other keeps the outgoing officer until it switches too', async ({ backend, dataDir, newPage, startHost }) => {
    for (const [user, password] of Object.entries(PASSWORDS)) await backend.store.setPassword(user, await hashPassword(password));
    const pages: Page[] = [];
    for (const name of ['c', 'd']) {
      const host = await consoleWithoutLogin(startHost, dataDir, name, backend.url);
      const page = await newPage();
      await page.goto(`${host.url}#/dispatch`);
      await page.getByTestId('sign-in').waitFor({ timeout: 30_000 });
      await signIn(page, 'duty', PASSWORDS.duty);
      await online(page);
      pages.push(page);
    }
    const [a, b] = pages as [Page, Page];
    const signOuts = (): number => (backend.store as SqliteStore).auditLog(500).filter((e) => e.kind === 'sign-out' && e.userId === 'duty').length;
    const outBefore = signOuts();

    await a.getByTestId('open-handover').click();
    await a.getByTestId('handover-notes').fill('两台席位同时交班：夜间重点关注滨河路。');
    await a.getByTestId('handover-submit').click();
    await a.getByTestId('handover-pending').waitFor({ timeout: 15_000 });

    // The first console's seat switches: only its session ends; the desk's other console stays 李强's, online.
    await a.locator('[data-testid="pending-commands"]', { hasText: '待发送指令 0 条' }).waitFor({ timeout: 15_000 });
    await a.getByTestId('seat-switch').click();
    await signIn(a, 'duty-2', PASSWORDS['duty-2'], a.getByTestId('handover-panel').getByTestId('sign-in'));
    await a.getByTestId('seat-switched').waitFor({ timeout: 30_000 });
    await expect(a.getByTestId('backend-user').textContent()).resolves.toContain('值班员 陈静');
    await online(a);
    expect(signOuts()).toBe(outBefore + 1);
    await b.getByTestId('open-handover').click();
    await b.getByTestId('handover-pending').waitFor({ timeout: 15_000 });
    await expect(b.getByTestId('backend-user').textContent()).resolves.toContain('值班员 李强');
    await expect(b.locator('[data-testid="connection-status"][data-status="online"]').count()).resolves.toBe(1);
    await expect(b.getByTestId('sign-in').count()).resolves.toBe(0);

    // Then the second; the incoming officer acknowledges there, and both consoles show the record naming both.
    await b.getByTestId('seat-switch').click();
    await signIn(b, 'duty-2', PASSWORDS['duty-2'], b.getByTestId('handover-panel').getByTestId('sign-in'));
    await b.getByTestId('seat-switched').waitFor({ timeout: 30_000 });
    await expect(b.getByTestId('backend-user').textContent()).resolves.toContain('值班员 陈静');
    await online(b);
    expect(signOuts()).toBe(outBefore + 2);
    const done = await b.getByTestId('handover-done').count();
    await b.getByTestId('handover-ack').click();
    for (const page of [a, b]) {
      await expect.poll(() => page.getByTestId('handover-done').count(), { timeout: 15_000 }).toBe(done + 1);
      await expect(page.getByTestId('handover-pending').count()).resolves.toBe(0);
      await expect(page.getByTestId('handover-done').first().textContent()).resolves.toContain('值班员 李强 → 值班员 陈静');
    }
    await b.screenshot({ path: join(SHOTS, 'sign-in-seat-switch-two-consoles.png') });
  }, 120_000);
});
