/**
 * Reading and checking a city's grids for an import, at a real city's size: the generated city at scale 8.5
 * (~6,000 grids, ~2,000 districts/streets/communities) written as the GeoJSON files a GIS team would send, then
 * read as an administrator's upload is — the old way on the serving thread, the new way in a worker thread
 * (backend/import/read-worker.ts). Printed side by side: the time it takes, and the serving thread's longest
 * stall meanwhile (a 10 ms timer's worst lateness: what consoles and heartbeats wait). Not a test.
 * `npm run bench -- import-grids` (ZONGZHI_BENCH_SCALE to change the size).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCity } from '../backend/city-generator/city';
import { readImport, type ImportFiles } from '../backend/import/prepare';
import { workerReader } from '../backend/import/read-worker';

const scale = Number(process.env.ZONGZHI_BENCH_SCALE ?? 8.5);
const city = generateCity({ seed: 1, scale, staffPerGrid: 0, epoch: new Date().toISOString() });
const dir = mkdtempSync(join(tmpdir(), 'bench-import-'));
const collection = (rows: Array<{ ring: number[][]; properties: Record<string, string> }>): string =>
  JSON.stringify({ type: 'FeatureCollection', features: rows.map((r) => ({ type: 'Feature', properties: r.properties, geometry: { type: 'Polygon', coordinates: [[...r.ring, r.ring[0]]] } })) });
const files: ImportFiles = { file: join(dir, 'grids.geojson'), parents: join(dir, 'boundaries.geojson') };
writeFileSync(files.file, collection(city.grids.map((g) => ({ ring: g.polygon, properties: { WGBM: g.code, WGMC: g.name } }))));
writeFileSync(files.parents!, collection(city.adminUnits.filter((u) => u.level !== 'city').map((u) => ({ ring: u.polygon, properties: { 编码: u.code, 名称: u.name } }))));

/** Runs `work` while a 10 ms timer measures how late the thread lets it fire. */
async function measured(work: () => Promise<unknown>): Promise<{ ms: number; stallMs: number }> {
  let last = performance.now();
  let stall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last - 10);
    last = now;
  }, 10);
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  clearInterval(timer);
  return { ms, stallMs: Math.max(stall, performance.now() - last - 10) };
}

console.log(`city: ${city.grids.length} grids, ${city.adminUnits.length - 1} districts/streets/communities (scale ${scale})`);
const inline = await measured(() => readImport('grids', files, {}));
const inWorker = await measured(() => workerReader(join(import.meta.dirname, '../backend/cli.ts'), ['--import', 'tsx'])('grids', files, {}));
console.log('how                      read+check   longest stall of the serving thread');
console.log(`serving thread (before)  ${(inline.ms / 1000).toFixed(1).padStart(8)} s   ${(inline.stallMs / 1000).toFixed(2).padStart(8)} s`);
console.log(`worker thread  (now)     ${(inWorker.ms / 1000).toFixed(1).padStart(8)} s   ${(inWorker.stallMs / 1000).toFixed(2).padStart(8)} s`);
rmSync(dir, { recursive: true, force: true });
