/**
 * 三维态势 in Chromium (llvmpipe WebGL) against the real host, hub and embedded backend: the map renders (pixel
 * check), makes no request outside the console's own origin, a click on a grid drills down to it, search flies
 * to a grid and selects it, layer toggles work, and a lost WebGL context rebuilds the map.
 */
import { SHOTS, hubBridge, syncedRows } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Grid } from '../../protocol';
import { it } from '../../harness/fixtures';

let grid: Grid;
let grids: Grid[] = [];

interface Probe {
  toScreen(lon: number, lat: number): { x: number; y: number } | null;
  camera(): { lon: number; lat: number; height: number } | null;
  staffCount(): number;
  gridsReady(): boolean;
  selected(): { layer: string; id: string } | null;
  path(): { units: string[]; gridId: string | null };
  layerVisible(id: string): boolean;
  sample(): Promise<{ lit: number; samples: number; colors: number }>;
  loseContext(): void;
}
const probe = <R>(page: Page, fn: (p: Probe) => R | Promise<R>): Promise<R> =>
  page.evaluate(`(${fn.toString()})(window.zongzhiMap)`) as Promise<R>;

// The file's host (one for both tests) starts here, with the hook's time to sync its city.
it.beforeAll(async ({ host }) => {
  const api = await hubBridge(host);
  grids = await syncedRows(api, 'grids');
  grid = grids[0]!;
  api.close();
}, 90_000);

describe('3D map (三维态势)', () => {
  it('renders the city offline, drills down on click, searches, toggles layers, survives a lost context', async ({ host, page }) => {
    const outside: string[] = [];
    const errors: string[] = [];
    const origin = new URL(host.url).origin;
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) outside.push(url);
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${host.url}#/map`);
    await page.locator('[data-testid="workspace-map"][data-phase="ready"]').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => (window as unknown as { zongzhiMap?: Probe }).zongzhiMap?.gridsReady() === true, undefined, { timeout: 90_000 });
    await page.waitForFunction(() => ((window as unknown as { zongzhiMap: Probe }).zongzhiMap.staffCount() ?? 0) > 100, undefined, { timeout: 60_000 });
    // Non-blank: most of the frame is lit and it has many colours (imagery, grids, buildings, icons).
    const frame = await probe(page, (p) => p.sample());
    expect(frame.lit / frame.samples).toBeGreaterThan(0.3);
    expect(frame.colors).toBeGreaterThan(20);
    await page.waitForTimeout(3000); // buildings arrive after the grids
    await page.screenshot({ path: join(SHOTS, 'map-city-1920x1080.png') });

    // Layer toggles: point layers off (their icons would take the click below), remembered for the window.
    for (const id of ['staff', 'events', 'cameras', 'resources', 'places']) await page.getByTestId(`layer-${id}`).uncheck();
    expect(await probe(page, (p) => p.layerVisible('staff'))).toBe(false);
    expect(await probe(page, (p) => p.layerVisible('events'))).toBe(false);

    // A click on a grid's centre drills into its district (city → district): the grid nearest the canvas's middle,
    // well clear of the panels over the map's edges (search, layers).
    const box = (await page.getByTestId('map-canvas').boundingBox())!;
    const onScreen = await page.evaluate((centres) => centres.map(([lon, lat]) => (window as unknown as { zongzhiMap: Probe }).zongzhiMap.toScreen(lon!, lat!)), grids.map((g) => g.center));
    let best = 0;
    const off = (i: number): number => (onScreen[i] ? Math.hypot(onScreen[i]!.x - box.width / 2, onScreen[i]!.y - box.height / 2) : Infinity);
    for (let i = 1; i < grids.length; i++) if (off(i) < off(best)) best = i;
    grid = grids[best]!;
    const at = onScreen[best]!;
    expect(at).not.toBeNull();
    await page.mouse.click(box.x + at.x, box.y + at.y);
    await page.waitForFunction((d) => (window as unknown as { zongzhiMap: Probe }).zongzhiMap.path().units[0] === d, grid.districtId, { timeout: 15_000 });
    await expect(page.getByTestId('map-breadcrumb').textContent()).resolves.toMatch(/全市›.+区/);

    // Search by the 15-digit code flies there and selects the grid.
    await page.keyboard.press('/');
    await page.getByTestId('map-search').fill(grid.code);
    await page.getByTestId('map-hits').waitFor();
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('map-detail-code').textContent()).resolves.toBe(grid.code);
    expect(await probe(page, (p) => p.selected())).toEqual({ layer: 'grids', id: grid.id });
    await page.waitForTimeout(2500); // the flight
    const camera = (await probe(page, (p) => p.camera()))!;
    expect(Math.abs(camera.lon - grid.center[0])).toBeLessThan(0.03);
    expect(Math.abs(camera.lat - grid.center[1])).toBeLessThan(0.05);
    expect(camera.height).toBeLessThan(10_000);
    await page.screenshot({ path: join(SHOTS, 'map-grid-drilldown-1920x1080.png') });

    // ... and back on; the heat map on.
    for (const id of ['events', 'cameras', 'resources', 'places']) await page.getByTestId(`layer-${id}`).check();
    await page.getByTestId('layer-heat').check();
    expect(await probe(page, (p) => p.layerVisible('heat'))).toBe(true);
    await page.getByTestId('layer-staff').check();
    expect(await probe(page, (p) => p.layerVisible('staff'))).toBe(true);
    await page.getByTestId('map-metric').selectOption('staffOnline');
    await expect(page.getByTestId('map-legend').textContent()).resolves.toContain('%');

    // A lost WebGL context: the map says so and rebuilds itself.
    await probe(page, (p) => p.loseContext());
    await page.locator('[data-testid="workspace-map"][data-phase="lost"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="workspace-map"][data-phase="ready"]').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => (window as unknown as { zongzhiMap: Probe }).zongzhiMap.gridsReady() === true, undefined, { timeout: 90_000 });

    expect(outside).toEqual([]);
    // The browser's own notice of the loss is expected; nothing else (no draw or pick on the dead context).
    expect(errors.filter((e) => !/WebGL context was lost|CONTEXT_LOST/i.test(e))).toEqual([]);
  }, 300_000);

  it('"show on map" at the dispatch desk (M) brings the map wall to the event', async ({ host, newPage }) => {
    const errors: string[] = [];
    const wall = await newPage({ viewport: { width: 1600, height: 900 } });
    const desk = await wall.context().newPage();
    for (const page of [wall, desk]) page.on('pageerror', (e) => errors.push(e.message));
    // The map wall is on its KPI page when the request comes: it switches to the map by itself.
    await wall.goto(`${host.url.replace('role=combined', 'role=map')}#/kpi`);
    await wall.getByTestId('workspace-kpi').waitFor({ timeout: 30_000 });
    await desk.goto(`${host.url.replace('role=combined', 'role=dispatch')}#/dispatch`);
    await desk.getByTestId('queue-row').first().click();
    const eventId = (await desk.getByTestId('queue-row').first().getAttribute('data-event-id'))!;
    await desk.keyboard.press('m');
    await desk.getByTestId('shown-on-wall').waitFor({ timeout: 10_000 });
    await wall.locator('[data-testid="workspace-map"][data-phase="ready"]').waitFor({ timeout: 60_000 });
    await wall.waitForFunction((id) => (window as unknown as { zongzhiMap?: Probe }).zongzhiMap?.selected()?.id === id, eventId, { timeout: 90_000 });
    expect(await probe(wall, (p) => p.selected())).toEqual({ layer: 'events', id: eventId });
    // The desk stays where it is.
    expect(desk.url()).toContain('#/dispatch');
    expect(errors).toEqual([]);
  }, 180_000);
});
