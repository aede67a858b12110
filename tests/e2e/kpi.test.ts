/** The KPI wall (指标看板) against the real host, hub and embedded backend, in Chromium at 1920x1080. */
import { SHOTS, hubBridge } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import type { HostProcess } from '../../harness/browser';
import { it } from '../../harness/fixtures';

/** The SIP server the console's softphone uses (from the hub, as a window gets it), or null without one. */
async function sipServerUrl(host: HostProcess): Promise<string | null> {
  const api = await hubBridge(host);
  try {
    let url: string | null | undefined;
    await api.subscribe({ topic: 'sip' }, (state) => (url = state.account?.url ?? null));
    for (let i = 0; i < 50 && url === undefined; i++) await new Promise((r) => setTimeout(r, 100));
    return url ?? null;
  } finally {
    api.close();
  }
}

describe('KPI wall', () => {
  it('shows the seed KPIs with their thresholds and definitions, switches period, drills down, and greys out offline', async ({ page, startHost }) => {
    const host = await startHost();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${host.url}#/kpi`);
    const tile = page.getByTestId('kpi-closureRate');
    await tile.waitFor({ timeout: 30_000 });
    await expect(tile.textContent()).resolves.toMatch(/处置办结率\s*\d+\.\d%\s*\d+ \/ \d+/);
    await expect(tile.getAttribute('title')).resolves.toMatch(/已办结的事件数 ÷ 上报事件数[\s\S]*分子 \/ 分母：\d+ \/ \d+/);
    expect(['good', 'warn', 'bad']).toContain(await tile.getAttribute('data-level'));
    // Four charts drawn (non-empty canvases).
    await page.waitForFunction(() => document.querySelectorAll('.echart canvas').length >= 4);
    const inked = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLCanvasElement>('.echart canvas')].filter((c) => {
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4 * 50) if (data[i]! > 0) return true;
        return false;
      }).length,
    );
    expect(inked).toBeGreaterThanOrEqual(4);
    await expect(page.getByTestId('kpi-asof').textContent()).resolves.toMatch(/数据时间 \d{2}:\d{2}:\d{2}/);
    const week = await page.getByTestId('kpi-hotlineVolume').textContent();
    await page.getByTestId('period-30d').click();
    await page.waitForFunction((before) => document.querySelector('[data-testid="kpi-hotlineVolume"]')?.textContent !== before, week);
    await page.screenshot({ path: join(SHOTS, 'kpi-wall.png') });

    // Drill-down: a district of the ranking opens the dispatch queue filtered to it.
    const row = page.locator('[data-testid="district-ranking"] tbody tr').first();
    const districtName = (await row.locator('td.name').textContent())!.trim();
    await row.click();
    await page.getByTestId('event-queue').waitFor();
    expect(new URL(page.url()).hash).toBe('#/dispatch');
    // Every event in the queue now belongs to that district.
    await page.waitForFunction(
      (name) => {
        const metas = [...document.querySelectorAll('[data-testid="queue-row"] .meta')].map((m) => m.textContent ?? '');
        return metas.length > 0 && metas.every((m) => m.endsWith(name));
      },
      districtName,
      { timeout: 15_000 },
    );

    // The link drops: the wall greys out and says its data is not live.
    await page.goto(`${host.url}#/kpi`);
    await page.getByTestId('kpi-closureRate').waitFor();
    // The embedded backend runs the SIP server and restarts it with itself; the softphone of this window
    // keeps trying to reach it meanwhile, and Chromium logs each failed attempt itself. Those, and only
    // those, are expected meanwhile.
    const sipUrl = await sipServerUrl(host);
    const errorsBeforeKill = errors.length;
    const pid = Number([...host.stderr.join('\n').matchAll(/embedded backend ready.*?"pid":(\d+)/g)].at(-1)![1]);
    process.kill(pid, 'SIGKILL'); // the console restarts it after a pause: the wall must look stale meanwhile
    await page.locator('[data-testid="connection-status"][data-status="offline"]').waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('kpi-asof').textContent()).resolves.toMatch(/离线：数据截至 .*非实时/);
    await expect(page.locator('.kpi.stale').count()).resolves.toBe(1);
    await page.screenshot({ path: join(SHOTS, 'kpi-wall-stale.png') });
    // Names arrive after the KPIs on a fresh page: the category chart must have redrawn with them
    // (its aria description lists the data names).
    const described = await page.evaluate(() => [...document.querySelectorAll('.echart')].map((e) => e.getAttribute('aria-label') ?? '').join('\n'));
    expect(described).toContain('环境卫生');
    expect(described).not.toMatch(/\b(sanitation|dispute-neighbour)\b/);
    // …and comes back to life on its own.
    await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
    await expect(page.locator('.kpi.stale').count()).resolves.toBe(0);
    expect(errors.slice(0, errorsBeforeKill)).toEqual([]);
    // Any way Chromium words a failed attempt to the SIP server (refused, reset, closed mid-handshake) is expected.
    const sipDown = sipUrl ? `WebSocket connection to '${sipUrl}/' failed: ` : null;
    expect(errors.slice(errorsBeforeKill).filter((e) => sipDown === null || !e.startsWith(sipDown))).toEqual([]);
  }, 180_000);
});
