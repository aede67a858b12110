/**
 * The console shell as a user sees it: the built renderer served by the real browser host (child process),
 * in Debian Chromium at 1920x1080, in Chinese. Screenshots go to test-results/e2e/.
 */
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { HostProcess } from '../../harness/browser';
import { SHOTS } from '../../harness/e2e';
import { test } from '../../harness/fixtures';
import { createHubClient, type GovEvent } from '../../protocol';
import { connectWsTransport } from '../../renderer/src/transports/ws-transport';

/** Each shell test gets a host of its own (one test stops it); the shell tests need no backend, the embedded one has its own test below. */
const it = test.extend('offlineHost', async ({ startHost }) => startHost({ args: ['--no-backend'] }));

/** Every page records console errors, page errors and requests leaving the host, and each test asserts none. */
interface WatchedPage {
  page: Page;
  context: BrowserContext;
  problems: string[];
  foreignRequests: string[];
}

async function openConsole(browser: Browser, host: HostProcess, url: string, allowErrors = false): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const problems: string[] = [];
  const foreignRequests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !allowErrors) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(host.origin) && !r.url().startsWith('ws://127.0.0.1')) foreignRequests.push(r.url());
  });
  await page.goto(url);
  return { page, context, problems, foreignRequests };
}

describe('console shell (browser host, Chromium, 1920x1080)', () => {
  it('shows the Chinese shell with an honest status bar, no console errors and no outbound requests', async ({ browser, offlineHost: host }) => {
    const w = await openConsole(browser, host, host.url);
    const { page } = w;
    await page.getByTestId('workspace-map').waitFor();
    await expect(page.locator('h1').textContent()).resolves.toBe('综治指挥调度台');
    for (const name of ['三维态势', '指标看板', '视频墙', '调度台']) await expect(page.locator('nav').getByText(name).count()).resolves.toBe(1);
    await expect(page.getByTestId('command-level').textContent()).resolves.toContain('等级未知');
    const status = page.getByTestId('connection-status');
    await expect(status.getAttribute('data-status')).resolves.toBe('offline');
    await expect(status.textContent()).resolves.toMatch(/离线（自 \d{2}:\d{2}:\d{2} 起）/);
    await expect(page.getByTestId('connection-reason').textContent()).resolves.toBe('（未配置后台）');
    await expect(page.getByTestId('pending-commands').textContent()).resolves.toContain('待发送指令 0 条');
    await expect(page.getByTestId('bridge').textContent()).resolves.toBe('本地中枢 · 浏览器');
    await expect(page.getByTestId('clock').textContent()).resolves.toMatch(/\d{2}:\d{2}:\d{2}/);
    // CJK glyphs come from a real CJK font (no tofu): the font must be installed and used.
    expect(await page.evaluate(() => document.fonts.check('16px "Noto Sans CJK SC"', '综治'))).toBe(true);
    // The token left the address bar once read.
    expect(page.url()).not.toContain('token=');
    await page.screenshot({ path: join(SHOTS, 'shell-zh-1920x1080.png') });
    expect(w.problems).toEqual([]);
    expect(w.foreignRequests).toEqual([]);
    await w.context.close();
  });

  it('reaches all four workspaces by click and by Alt+1..4; F1 shows the shortcuts', async ({ browser, offlineHost: host }) => {
    const w = await openConsole(browser, host, host.url);
    const { page } = w;
    await page.getByTestId('workspace-map').waitFor();
    const order = [
      ['kpi', '指标看板', '2'],
      ['video', '视频墙', '3'],
      ['dispatch', '调度台', '4'],
      ['map', '三维态势', '1'],
    ] as const;
    for (const [id, name] of order) {
      await page.locator(`nav [data-workspace="${id}"]`).click();
      await page.getByTestId(`workspace-${id}`).waitFor();
      // Each workspace shows its own working parts.
      if (id === 'dispatch') await page.getByTestId('event-queue').waitFor();
      else if (id === 'map') await page.getByTestId('map-layers').waitFor();
      else if (id === 'kpi') await page.getByTestId('workspace-kpi').getByText('后台尚未提供指标数据').waitFor();
      else await page.getByTestId('video-grid').waitFor();
      await expect(page.locator(`nav [data-workspace="${id}"]`).textContent()).resolves.toContain(name);
      expect(new URL(page.url()).hash).toBe(`#/${id}`);
    }
    for (const [id, , key] of order) {
      await page.keyboard.press(`Alt+${key}`);
      await page.getByTestId(`workspace-${id}`).waitFor();
    }
    await page.keyboard.press('F1');
    await page.getByTestId('shortcut-help').waitFor();
    await expect(page.getByTestId('shortcut-help').textContent()).resolves.toContain('切换到「视频墙」');
    await page.screenshot({ path: join(SHOTS, 'shortcuts-zh.png') });
    await page.keyboard.press('Escape');
    await page.getByTestId('shortcut-help').waitFor({ state: 'detached' });
    expect(w.problems).toEqual([]);
    await w.context.close();
  });

  it('switches to English, keeps it across a reload (stored by the hub), and back', async ({ browser, offlineHost: host }) => {
    const w = await openConsole(browser, host, host.url);
    const { page } = w;
    await page.getByTestId('toggle-locale').click();
    await page.getByText('Command & Dispatch Console').waitFor();
    await page.reload();
    await page.getByText('Command & Dispatch Console').waitFor();
    // Settings arrive a moment before the connection state; the workspace shows once both are known.
    await page.getByTestId('workspace-map').waitFor();
    await expect(page.getByTestId('connection-status').textContent()).resolves.toMatch(/Offline since/);
    await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('en');
    await page.getByTestId('toggle-locale').click();
    await page.getByText('综治指挥调度台').first().waitFor();
    expect(w.problems).toEqual([]);
    await w.context.close();
  });

  it('a display role in the URL opens that role’s workspace', async ({ browser, offlineHost: host }) => {
    const w = await openConsole(browser, host, host.url.replace('role=combined', 'role=video'));
    await w.page.getByTestId('workspace-video').waitFor();
    expect(w.problems).toEqual([]);
    await w.context.close();
  });

  it('a wrong token gets a clear Chinese message with the technical detail one click away', async ({ browser, offlineHost: host }) => {
    const w = await openConsole(browser, host, `${host.origin}/?token=wrong`, true);
    const { page } = w;
    const notice = page.getByTestId('error-notice');
    await notice.waitFor();
    await expect(notice.getAttribute('data-code')).resolves.toBe('unauthorized');
    await expect(notice.textContent()).resolves.toContain('无法连接本地中枢：访问令牌无效');
    await expect(page.getByTestId('connection-status').textContent()).resolves.toContain('未连接本地中枢');
    await page.getByText('技术详情').click();
    await expect(page.getByTestId('error-detail').textContent()).resolves.toMatch(/WebSocket closed/);
    await page.screenshot({ path: join(SHOTS, 'error-bad-token.png') });
    expect(w.problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
    await w.context.close();
  });

  it('when the host goes away the page says the link is lost instead of showing stale truth', async ({ browser, offlineHost: host }) => {
    const w = await openConsole(browser, host, host.url, true);
    const { page } = w;
    await page.getByTestId('workspace-map').waitFor();
    await host.stop();
    const notice = page.getByTestId('error-notice');
    await notice.waitFor();
    await expect(notice.getAttribute('data-code')).resolves.toBe('linkLost');
    await expect(notice.textContent()).resolves.toContain('与本地中枢的连接已断开');
    expect(w.problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
    await w.context.close();
  });
});

describe('embedded backend and the hub link (npm start with no backend configured)', () => {
  it('links to the embedded backend, shows refused commands with reasons, survives the backend dying, leaves no orphan', async ({ page, startHost }) => {
    const withBackend = await startHost();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(withBackend.url);
    const status = page.getByTestId('connection-status');
    await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('connection-label').textContent()).resolves.toMatch(/在线（自 \d{2}:\d{2}:\d{2} 起）/);
    // The embedded demo's user, signed in automatically, and said so (no sign-in asked, no 退出登录).
    await expect(page.getByTestId('backend-user').textContent()).resolves.toContain('演示：已自动以 调度员 张敏 登录');
    await expect(page.getByTestId('sign-in').count()).resolves.toBe(0);
    await expect(page.getByTestId('sign-out').count()).resolves.toBe(0);

    // Another window of the same hub (over the Hub API) sends a command the backend will refuse.
    const token = new URL(withBackend.url).searchParams.get('token')!;
    const api = createHubClient(await connectWsTransport({ origin: withBackend.origin, token }), 'websocket');
    let closed: GovEvent | undefined;
    const stop = await api.subscribeRows({ topic: 'collection', collection: 'events', filter: { statuses: ['closed'] } }, (rows) => {
      closed ??= rows.values().next().value;
    });
    expect(closed).toBeDefined();
    await api.submitCommand({ commandId: 'e2e-refused-0001', type: 'event.accept', payload: { eventId: closed!.id } });
    await page.getByTestId('rejected-commands').waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('rejected-commands').textContent()).resolves.toBe('被拒绝 1 条');
    await page.getByTestId('pending-commands').click();
    await page.getByTestId('outbox-panel').waitFor();
    await expect(page.getByTestId('outbox-row').first().textContent()).resolves.toContain('受理');
    await expect(page.getByTestId('outbox-reason').first().textContent()).resolves.toMatch(/与当前状态冲突：事件 .* 当前为「已结案」，不能受理（需要「待受理」）/);
    await page.screenshot({ path: join(SHOTS, 'outbox-rejected.png') });
    await page.getByTestId('outbox-discard').first().click();
    await page.getByTestId('outbox-empty').waitFor();
    await page.keyboard.press('Escape');
    await stop();
    api.close();

    // The backend dies: the truth is "offline since T", with the reason and the age of the data shown.
    const firstPid = Number([...withBackend.stderr.join('\n').matchAll(/embedded backend ready.*?"pid":(\d+)/g)].at(-1)![1]);
    process.kill(firstPid, 'SIGKILL');
    await page.locator('[data-testid="connection-status"][data-status="offline"]').waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('connection-label').textContent()).resolves.toMatch(/离线（自 \d{2}:\d{2}:\d{2} 起）/);
    // Why, in the embedded backend's own words (it replaces the generic 后台不可达), and what the console does.
    await page.locator('[data-testid="embedded-backend"][data-code="exited"]').waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('embedded-reason').textContent()).resolves.toBe('内置后台意外退出');
    await expect(page.getByTestId('cache-age').textContent()).resolves.toMatch(/数据截至/);
    await page.screenshot({ path: join(SHOTS, 'offline-since.png') });
    // The console restarts its embedded backend and links again by itself.
    await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
    expect(problems).toEqual([]);
    await expect(status.getAttribute('data-status')).resolves.toBe('online');

    const pid = Number([...withBackend.stderr.join('\n').matchAll(/embedded backend ready.*?"pid":(\d+)/g)].at(-1)![1]);
    expect(pid).not.toBe(firstPid);
    await withBackend.stop();
    await new Promise((r) => setTimeout(r, 500));
    expect(() => process.kill(pid, 0)).toThrow(); // no orphan
  });
});
