/**
 * Native-resolution walls: the KPI wall and the dispatch desk at 4K (3840x2160) and on a very wide strip
 * (5760x1080), at device scale 1 as wall controllers drive them. Text scales with the wall, nothing spills out
 * of the screen, and every KPI tile stays inside it.
 */
import { SHOTS } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { it } from '../../harness/fixtures';

/** What spills: the page scrolls, or a box ends outside the viewport. */
async function overflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const w = window.innerWidth;
    const h = window.innerHeight;
    if (document.documentElement.scrollWidth > w) out.push(`page scrolls sideways (${document.documentElement.scrollWidth} > ${w})`);
    if (document.documentElement.scrollHeight > h) out.push(`page scrolls down (${document.documentElement.scrollHeight} > ${h})`);
    for (const el of document.querySelectorAll<HTMLElement>('[data-testid^="kpi-"], .panel, header, footer')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > w + 1 || r.bottom > h + 1)) out.push(`${el.dataset.testid ?? el.className} ends at ${Math.round(r.right)}x${Math.round(r.bottom)}`);
    }
    return out;
  });
}

describe('native-resolution walls', () => {
  for (const [width, height, rem] of [
    [3840, 2160, 32],
    [5760, 1080, 16],
  ] as const) {
    it(`KPI wall and dispatch desk at ${width}x${height}: ${rem} px text, nothing spills`, async ({ host, newPage }) => {
      const page = await newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
      await page.goto(`${host.url}#/kpi`);
      await page.getByTestId('kpi-closureRate').waitFor({ timeout: 30_000 });
      await page.waitForFunction(() => document.querySelectorAll('.echart canvas').length >= 4);
      expect(await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize))).toBeCloseTo(rem, 0);
      // Canvases are drawn at the wall's own resolution (not upscaled), so chart text is as sharp as the rest.
      const canvas = await page.evaluate(() => {
        const c = document.querySelector<HTMLCanvasElement>('.echart canvas')!;
        return { backing: c.width, css: c.getBoundingClientRect().width };
      });
      expect(canvas.backing).toBeGreaterThanOrEqual(Math.floor(canvas.css));
      expect(await overflow(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, `kpi-wall-${width}x${height}.png`) });
      await page.goto(`${host.url}#/dispatch`);
      await page.getByTestId('queue-count').waitFor({ timeout: 30_000 });
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="workspace-dispatch"] .row').length > 0, undefined, { timeout: 30_000 });
      expect(await overflow(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, `dispatch-${width}x${height}.png`) });
    }, 120_000);
  }
});
