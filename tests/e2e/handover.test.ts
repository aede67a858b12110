/** 交接班 between two duty officers on two consoles, against one standalone backend. */
import { SHOTS } from '../../harness/e2e';
import { backendArgs } from '../../harness/backend-process';
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { HostProcess } from '../../harness/browser';
import { it } from '../../harness/fixtures';

async function openPanel(page: Page, host: HostProcess): Promise<Page> {
  await page.goto(`${host.url}#/dispatch`);
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
  await page.getByTestId('open-handover').click();
  await page.getByTestId('handover-panel').waitFor();
  return page;
}

describe('shift hand-over (交接班)', () => {
  it('the outgoing officer hands over notes and open items; the incoming one acknowledges on another console', async ({ dataDir, newPage, startChild, startHost }) => {
    // A standalone backend (a child process, two days of history) of this test's own.
    const backend = await startChild<{ url: string; tokensFile: string }>(process.execPath, backendArgs(join(dataDir, 'b', 'backend.sqlite'), ['--no-sim', '--history-days', '2']));
    const tokens = JSON.parse(readFileSync(backend.ready.tokensFile, 'utf8')) as Record<string, string>;
    const outgoing = await startHost({ name: 'a', backend: { url: backend.ready.url, token: tokens.duty! } });
    const incoming = await startHost({ name: 'b', backend: { url: backend.ready.url, token: tokens['duty-2']! } });
    const a = await openPanel(await newPage(), outgoing);
    await a.getByTestId('handover-notes').fill('夜班总体平稳；滨河区积水点需持续关注。');
    await a.getByTestId('handover-item').first().check();
    // The backend's alarms ringing over the two days of history: the hand-over is written only once each is ticked.
    const alarms = a.getByTestId('handover-alarm');
    await alarms.first().waitFor({ timeout: 15_000 });
    await expect(a.getByTestId('handover-submit').isDisabled()).resolves.toBe(true);
    for (const box of await alarms.all()) await box.check();
    await a.getByTestId('handover-submit').click();
    await a.getByTestId('handover-pending').waitFor({ timeout: 15_000 });
    await expect(a.getByTestId('handover-pending').textContent()).resolves.toContain('等待接班人确认');

    const b = await openPanel(await newPage(), incoming);
    const pending = b.getByTestId('handover-pending');
    await pending.waitFor({ timeout: 15_000 });
    await expect(pending.textContent()).resolves.toContain('滨河区积水点需持续关注');
    await expect(b.getByTestId('handover-alarms').textContent()).resolves.toMatch(/移交未确认告警 \d+ 条/);
    await expect(pending.locator('li').count()).resolves.toBe(1);
    await b.screenshot({ path: join(SHOTS, 'handover-night.png') });
    await b.getByTestId('handover-ack').click();
    for (const page of [a, b]) {
      await page.getByTestId('handover-done').first().waitFor({ timeout: 15_000 });
      await expect(page.getByTestId('handover-done').first().textContent()).resolves.toContain('值班员 李强 → 值班员 陈静');
    }
    await expect(b.getByTestId('handover-pending').count()).resolves.toBe(0);
  }, 120_000);
});
