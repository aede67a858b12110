/** The KPI wall (指标看板) against the real host, hub and embedded backend, in Chromium at 1920x1080. */
import { SHOTS, hubBridge, syncedRows } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import type { HostProcess } from '../../harness/browser';
import { it } from '../../harness/fixtures';
import { districtKpi, kpiLegend } from '../../renderer/src/map/kpi-choropleth';
import { classify } from '../../renderer/src/map/model';

interface MapProbe {
  gridsReady(): boolean;
  path(): { units: string[]; gridId: string | null };
  gridColor(id: string): string | null;
}
/** '#e23a3a' and 'rgba(226,58,58,0.5)' as the same red, green and blue. */
const rgb = (css: string): string => (css.startsWith('#') ? [1, 3, 5].map((i) => parseInt(css.slice(i, i + 2), 16)).join(',') : (/rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(css) ?? []).slice(1, 4).join(','));

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

  it('a district of the ranking colours the map wall by its KPI and flies there; a tile colours the city; the legend turns it off; the trend marks today', async ({ host, newPage }) => {
    const errors: string[] = [];
    const wall = await newPage({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1 });
    const board = await wall.context().newPage();
    for (const page of [wall, board]) page.on('pageerror', (e) => errors.push(e.message));
    const api = await hubBridge(host);
    const grids = await syncedRows(api, 'grids');
    await wall.goto(`${host.url.replace('role=combined', 'role=map')}#/map`);
    await wall.locator('[data-testid="workspace-map"][data-phase="ready"]').waitFor({ timeout: 90_000 });
    await wall.waitForFunction(() => (window as unknown as { zongzhiMap?: MapProbe }).zongzhiMap?.gridsReady() === true, undefined, { timeout: 90_000 });
    await board.goto(`${host.url.replace('role=combined', 'role=kpi')}#/kpi`);
    await board.getByTestId('kpi-closureRate').waitFor({ timeout: 30_000 });
    await board.waitForFunction(() => document.querySelectorAll('.echart canvas').length >= 4);

    // The trend's running day is named as such on its axis, not drawn as a fall.
    const asOf = /数据时间 (\d{2}:\d{2})/.exec((await board.getByTestId('kpi-asof').textContent()) ?? '')![1]!;
    // …until the time the wall says its figures are from (the window's clock).
    await board.waitForFunction((hm) => [...document.querySelectorAll('.echart')].some((e) => (e.getAttribute('aria-label') ?? '').includes(`今日（截至 ${hm}）`)), asOf, { timeout: 15_000 });
    await board.screenshot({ path: join(SHOTS, 'kpi-trend-partial.png') });

    // 上图 on a district with 超期 chosen: the wall colours every grid by its district's overdue count and flies there.
    const row = board.locator('[data-testid="district-ranking"] tbody tr').first();
    const districtId = (await row.getAttribute('data-district'))!;
    await board.getByTestId('kpi-map-key').selectOption('overdue');
    await row.getByTestId('district-to-map').click();
    await board.getByTestId('kpi-map-note').waitFor({ timeout: 10_000 });
    expect(new URL(board.url()).hash).toBe('#/kpi'); // the KPI wall stays where it is
    await wall.locator('[data-testid="map-kpi-legend"][data-kpi="overdue"][data-period="7d"]').waitFor({ timeout: 15_000 });
    await wall.waitForFunction((id) => (window as unknown as { zongzhiMap: MapProbe }).zongzhiMap.path().units.join('/') === id, districtId, { timeout: 30_000 });
    const snapshot = (await syncedRows(api, 'kpis')).find((k) => k.id === '7d')!;
    const overdue = districtKpi(snapshot, 'overdue');
    const inDistrict = grids.find((g) => g.districtId === districtId)!;
    const expected = classify(overdue.get(districtId)!, kpiLegend('overdue'))!.color;
    await wall.waitForFunction(([id, colour]) => {
      const css = (window as unknown as { zongzhiMap: MapProbe }).zongzhiMap.gridColor(id!) ?? '';
      return css.replace(/\s/g, '').startsWith(`rgba(${colour},`);
    }, [inDistrict.id, rgb(expected)] as const, { timeout: 15_000 });
    await wall.screenshot({ path: join(SHOTS, 'map-kpi-overdue-district.png') });

    // A tile (办结率): the whole city coloured by it, every district by its own class.
    await board.getByTestId('kpi-closureRate').click();
    await wall.locator('[data-testid="map-kpi-legend"][data-kpi="closureRate"]').waitFor({ timeout: 15_000 });
    await wall.waitForFunction(() => (window as unknown as { zongzhiMap: MapProbe }).zongzhiMap.path().units.length === 0, undefined, { timeout: 30_000 });
    const sample = [...new Map(grids.map((g) => [g.districtId, g])).values()];
    // Every district in its class, against the KPI rows as they are now (the city lives on: a refresh may move one).
    const misplaced = async (): Promise<string[]> => {
      const closure = districtKpi((await syncedRows(api, 'kpis')).find((k) => k.id === '7d')!, 'closureRate');
      const wrong: string[] = [];
      for (const g of sample) {
        const value = closure.get(g.districtId);
        if (value === null || value === undefined) continue; // no data: the base fill
        const css = await wall.evaluate((id) => (window as unknown as { zongzhiMap: MapProbe }).zongzhiMap.gridColor(id), g.id);
        if (rgb(css!) !== rgb(classify(value, kpiLegend('closureRate'))!.color)) wrong.push(`${g.districtId} ${value}: ${css}`);
      }
      return wrong;
    };
    await expect.poll(misplaced, { timeout: 15_000 }).toEqual([]);
    await wall.screenshot({ path: join(SHOTS, 'map-kpi-closure-city.png') });

    // The legend's ✕ turns it off: the grids go back to the live metric.
    await wall.getByTestId('map-kpi-off').click();
    await wall.getByTestId('map-kpi-legend').waitFor({ state: 'detached' });
    api.close();
    expect(errors).toEqual([]);
  }, 240_000);
});
