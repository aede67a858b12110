/**
 * `import grids --parents`: the sample city's grids with its districts', streets' and communities' boundaries
 * (both in GCJ-02) import cleanly, the admin units taking the boundary file's polygons; a grid sticking out of
 * its street's boundary is refused with the report line naming the grid, the street and how much lies outside.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../backend/index';
import { fromWgs84 } from '../../backend/import/crs';
import { boundaryCollection, geoJsonText, sampleBoundaries, writeSampleCity } from '../../backend/import/sample-city';
import { openStore } from '../../backend/store/open';
import { backendImport, seqOf } from '../../harness/import-cli';
import { metres } from '../../harness/grid-files';

const dir = mkdtempSync(join(tmpdir(), 'grid-parents-it-'));
const db = join(dir, 'backend.sqlite');
let files: Awaited<ReturnType<typeof writeSampleCity>>;

beforeAll(async () => {
  await (await startBackend({ dbFile: db, simulate: false, historyDays: 0, tokens: { dispatcher: 'tok-parents' }, tokensFile: null, kpiIntervalMs: 600_000 })).close();
  files = await writeSampleCity(join(dir, 'city'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('import grids --parents', () => {
  it('refuses a grid sticking out of its street boundary, naming both and the area outside; nothing written', async () => {
    // Street 379901001's boundary drawn 0.001° (≈ 85 m) short on its east side: its last column of grids sticks out.
    const units = sampleBoundaries().map((u) => (u.code === '379901001' ? { ...u, ring: u.ring.map(([x, y], i): [number, number] => [i === 1 || i === 2 ? x - 0.001 : x, y]) } : u));
    const bad = join(dir, 'bad-boundaries.geojson');
    writeFileSync(bad, geoJsonText(boundaryCollection(units, fromWgs84('gcj02'))));
    const seq = await seqOf(db);
    const run = await backendImport(['grids', files.grids, '--parents', bad, '--crs', 'gcj02', '--db', db]);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(run.stdout).toMatch(/错误 error: \[网格编码 code 379901001002001\] 网格 379901001002001（.*）有 \d+\.\d 平方米（20\.\d%）在所属街道 379901001（东城区第1街道）的边界之外 \/ grid 379901001002001 .* lies \d+\.\d m² \(20\.\d%\) outside its street 379901001 \(东城区第1街道\)'s boundary/);
    expect(run.stdout).toContain('379901001002002');
    expect(run.stdout).not.toContain('379901001001001）有');
    expect(run.stdout).toMatch(/未写入任何数据/);
    expect(await seqOf(db)).toBe(seq);
    const usage = await backendImport(['staff', files.staff, '--parents', files.boundaries, '--db', db]);
    expect(usage.code).toBe(2);
  }, 60_000);

  it('imports a clean pair, the admin units taking the boundary file polygons', async () => {
    const run = await backendImport(['grids', files.grids, '--parents', files.boundaries, '--crs', 'gcj02', '--db', db]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/错误 error/);
    const store = await openStore(db);
    const { state } = await store.load();
    await store.close();
    for (const unit of sampleBoundaries()) {
      const stored = [...state.adminUnits.values()].find((u) => u.code === unit.code)!;
      expect(stored.name).toBe(unit.name);
      // the file's 4-corner rectangle (a unit made from its grids would carry their mid-edge vertices)
      expect(stored.polygon).toHaveLength(4);
      for (const p of stored.polygon) expect(Math.min(...unit.ring.map((q) => metres(p, q)))).toBeLessThan(1);
    }
  }, 60_000);
});
