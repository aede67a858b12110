/**
 * Map bench (issue 5). Builds bench/map-scene (the console's own map layers on a CesiumWidget set up as the
 * console sets it up), serves it on 127.0.0.1 and drives it in Debian's Chromium (WebGL on the CPU: llvmpipe).
 * Rendering speed here is software, so it prints CPU-side figures and ratios, not fps:
 *  1. the renderer main thread's cost per second of 10,000 staff moving at 1 Hz, the console's point layer
 *     vs one Entity per staff member (Chromium's own task/script counters over BENCH_SECONDS);
 *  2. CPU time per frame (scene update to end of render, main thread) at 6,000 grids + 50,000 buildings while
 *     the camera turns, and how long the layers take to build.
 * Run: npm run bench -- map   (BENCH_SECONDS, BENCH_STAFF, BENCH_BUILDINGS)
 */
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { build } from 'vite';
import { buildingsLayer } from '../backend/city-layers';
import { generateCity } from '../backend/city-generator/city';
import type { BuildingsLayer, Grid } from '../protocol';
import { cesiumStatic } from '../scripts/cesium-static';
import { launchChromium } from '../harness/browser';
import { percentile } from '../harness/procs';

const seconds = Number(process.env.BENCH_SECONDS ?? 30);
const staffCount = Number(process.env.BENCH_STAFF ?? 10_000);
const buildingCount = Number(process.env.BENCH_BUILDINGS ?? 50_000);
const root = join(import.meta.dirname, '..');

interface MapBench {
  staffPoints(count: number): void;
  staffEntities(count: number): Promise<void>;
  stopStaff(): void;
  loadCity(grids: Grid[], buildings: BuildingsLayer): Promise<number>;
  frameTimes(frames: number, height: number): Promise<number[]>;
  tilesLoaded(): boolean;
}
declare const mapBench: MapBench;

const outDir = mkdtempSync(join(tmpdir(), 'zongzhi-map-bench-'));
await build({ configFile: false, root: join(root, 'bench/map-scene'), base: './', logLevel: 'error', plugins: [cesiumStatic()], build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 8192 } });

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg', '.xml': 'application/xml' };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  const file = join(outDir, path === '/' ? 'index.html' : path);
  if (!file.startsWith(outDir) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const address = server.address();
const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });

async function openScene(): Promise<{ page: Page; cdp: CDPSession; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => typeof mapBench === 'object' && mapBench.tilesLoaded(), undefined, { timeout: 60_000 });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  return { page, cdp, errors };
}

async function counters(cdp: CDPSession): Promise<{ task: number; script: number }> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name: string): number => metrics.find((m) => m.name === name)?.value ?? 0;
  return { task: get('TaskDuration'), script: get('ScriptDuration') };
}

/** Main-thread milliseconds per second while the staff layer runs (after 5 s to settle). */
async function staffCost(mode: 'points' | 'entities'): Promise<{ task: number; script: number }> {
  const { page, cdp, errors } = await openScene();
  await page.evaluate(([m, n]) => (m === 'points' ? mapBench.staffPoints(n) : mapBench.staffEntities(n)), [mode, staffCount] as const);
  await page.waitForTimeout(5_000);
  const before = await counters(cdp);
  await page.waitForTimeout(seconds * 1000);
  const after = await counters(cdp);
  await page.evaluate(() => mapBench.stopStaff());
  if (errors.length) console.log(`  (${mode}: page errors: ${errors.join(' | ')})`);
  await page.close();
  return { task: ((after.task - before.task) / seconds) * 1000, script: ((after.script - before.script) / seconds) * 1000 };
}

console.log(`map bench: Chromium ${browser.version()}, WebGL on the CPU (llvmpipe), 1920x1080`);
console.log(`\n1. ${staffCount.toLocaleString('en')} staff moving at 1 Hz, main-thread cost per second over ${seconds} s`);
const points = await staffCost('points');
console.log(`  point layer (console): ${points.task.toFixed(0)} ms/s busy, ${points.script.toFixed(0)} ms/s in JS`);
const entities = await staffCost('entities');
console.log(`  one Entity per staff:  ${entities.task.toFixed(0)} ms/s busy, ${entities.script.toFixed(0)} ms/s in JS`);
console.log(`  ratio (Entities / point layer): ${(entities.task / points.task).toFixed(1)}x busy, ${(entities.script / points.script).toFixed(1)}x JS`);

const city = generateCity({ seed: 1, scale: 8.5 });
const grids = city.grids;
const all = buildingsLayer(city.buildings);
const n = Math.min(buildingCount, all.count);
const buildings: BuildingsLayer = { count: n, lon: all.lon.slice(0, n), lat: all.lat.slice(0, n), width: all.width.slice(0, n), depth: all.depth.slice(0, n), height: all.height.slice(0, n), rotation: all.rotation.slice(0, n) };
console.log(`\n2. ${grids.length.toLocaleString('en')} grids + ${n.toLocaleString('en')} buildings, CPU per frame while the camera turns`);
{
  const { page, errors } = await openScene();
  const loadMs = await page.evaluate(([g, b]) => mapBench.loadCity(g, b), [grids, buildings] as const);
  console.log(`  layers built (batched, web workers) in ${(loadMs / 1000).toFixed(1)} s`);
  for (const height of [60_000, 8_000]) {
    await page.evaluate((h) => mapBench.frameTimes(20, h), height); // warm-up: tiles and shaders for this view
    const times = (await page.evaluate((h) => mapBench.frameTimes(120, h), height)).sort((a, b) => a - b);
    console.log(`  camera at ${height / 1000} km: median ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms per frame (${times.length} frames)`);
  }
  if (errors.length) console.log(`  (page errors: ${errors.join(' | ')})`);
  await page.close();
}

await browser.close();
server.close();
rmSync(outDir, { recursive: true, force: true });
process.exit(0);
