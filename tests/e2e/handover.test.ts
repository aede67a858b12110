/** 交接班 between two duty officers on two consoles, against one standalone backend. */
import { SHOTS, sharedBrowser } from '../../harness/e2e';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { PROJECT_ROOT, startHostProcess, type HostProcess } from '../../harness/browser';
import { makeTempDir } from '../../harness/temp';
import { startJsonChild } from '../../bench/support/procs';

const browser = sharedBrowser();

async function consoleFor(dir: string, name: string, url: string, token: string): Promise<HostProcess> {
  const data = join(dir, name);
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'settings.json'), JSON.stringify({ locale: 'zh-CN', theme: 'night', backendUrl: url }));
  writeFileSync(join(data, 'credentials.json'), JSON.stringify({ token }), { mode: 0o600 });
  return startHostProcess(data);
}

async function openPanel(host: HostProcess): Promise<Page> {
  const page = await (await browser().newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
  await page.goto(`${host.url}#/dispatch`);
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
  await page.getByTestId('open-handover').click();
  await page.getByTestId('handover-panel').waitFor();
  return page;
}

describe('shift hand-over (交接班)', () => {
  it('the outgoing officer hands over notes and open items; the incoming one acknowledges on another console', async () => {
    const dir = makeTempDir();
    const backend = await startJsonChild<{ url: string; tokensFile: string }>(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'backend/cli.ts'), '--port', '0', '--db', join(dir.dir, 'b', 'backend.sqlite'), '--json', '--no-sim', '--history-days', '2']);
    const tokens = JSON.parse(readFileSync(backend.ready.tokensFile, 'utf8')) as Record<string, string>;
    const outgoing = await consoleFor(dir.dir, 'a', backend.ready.url, tokens.duty!);
    const incoming = await consoleFor(dir.dir, 'b', backend.ready.url, tokens['duty-2']!);
    try {
      const a = await openPanel(outgoing);
      await a.getByTestId('handover-notes').fill('夜班总体平稳；滨河区积水点需持续关注。');
      await a.getByTestId('handover-item').first().check();
      await a.getByTestId('handover-submit').click();
      await a.getByTestId('handover-pending').waitFor({ timeout: 15_000 });
      await expect(a.getByTestId('handover-pending').textContent()).resolves.toContain('等待接班人确认');

      const b = await openPanel(incoming);
      const pending = b.getByTestId('handover-pending');
      await pending.waitFor({ timeout: 15_000 });
      await expect(pending.textContent()).resolves.toContain('滨河区积水点需持续关注');
      await expect(pending.locator('li').count()).resolves.toBe(1);
      await b.screenshot({ path: join(SHOTS, 'handover-night.png') });
      await b.getByTestId('handover-ack').click();
      for (const page of [a, b]) {
        await page.getByTestId('handover-done').first().waitFor({ timeout: 15_000 });
        await expect(page.getByTestId('handover-done').first().textContent()).resolves.toContain('值班员 李强 → 值班员 陈静');
      }
      await expect(b.getByTestId('handover-pending').count()).resolves.toBe(0);
    } finally {
      await outgoing.stop();
      await incoming.stop();
      await backend.stop();
      dir.cleanup();
    }
  }, 120_000);
});
