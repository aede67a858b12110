/**
 * `npm run backend -- import grids` on a real SQLite file and a real PostgreSQL: a sample city made here, sent as
 * GeoJSON in GCJ-02 and as a Shapefile, lands in the store as one change batch (another instance on PostgreSQL
 * is told of it like of any commit); bad files are refused with their report and write nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCity } from '../../backend/city-generator/city';
import { openStore, type RunningStore } from '../../backend/store/open';
import { seedCity } from '../../backend/city-setup';
import { featureCollection, geoJsonText, metres, sampleCity, wgs84ToGcj02Formula, writeShapefile } from '../../harness/grid-files';
import { startBackend } from '../../backend/index';
import { WireClient } from '../../harness/wire-client';
import { backendImport, forEachStore, type ImportRun } from '../../harness/import-cli';

const dir = mkdtempSync(join(tmpdir(), 'grid-import-it-'));

const importGrids = (args: string[]): Promise<ImportRun> => backendImport(['grids', ...args]);

/** A database as the backend leaves it after its first start: the generated city (small) and its meta. */
async function seeded(db: string): Promise<void> {
  const store = await openStore(db);
  const city = generateCity({ seed: 1, scale: 0.05, staffPerGrid: 0, epoch: new Date().toISOString() });
  await seedCity(store, city, new Date().toISOString());
  await store.setMeta('city', JSON.stringify({ seed: 1, scale: 0.05, staffPerGrid: 0 }));
  await store.close();
}

const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

async function expectSampleCity(store: RunningStore): Promise<void> {
  const { state } = await store.load();
  const expected = sampleCity();
  expect([...state.grids.keys()].sort()).toEqual(expected.map((g) => `g${g.code}`).sort());
  expect(state.adminUnits.size).toBe(1 + 2 + 4 + 8);
  for (const source of expected) {
    const grid = state.grids.get(`g${source.code}`)!;
    expect(grid.code).toBe(source.code);
    expect(state.adminUnits.get(grid.communityId)!.code).toBe(source.code.slice(0, 12));
    expect(state.adminUnits.get(grid.streetId)!.code).toBe(source.code.slice(0, 9));
    expect(state.adminUnits.get(grid.districtId)!.code).toBe(source.code.slice(0, 6));
    // the same vertices, within 1 m (a Shapefile's rings run clockwise: the order may differ)
    expect(grid.polygon).toHaveLength(source.ring.length);
    for (const p of grid.polygon) expect(Math.min(...source.ring.map((q) => metres(p, q)))).toBeLessThan(1);
  }
}

const badFiles = (): Array<[string, string, RegExp]> => {
  const dup = sampleCity();
  dup[4]!.properties.WGBM = dup[3]!.code;
  dup[4]!.properties.SQBM = dup[3]!.code.slice(0, 12);
  const outside = sampleCity();
  outside[2]!.properties.SQBM = '379902001001';
  const overlap = sampleCity();
  overlap[1]!.ring = overlap[1]!.ring.map(([x, y]) => [x, y - 0.001]);
  const bowTie = sampleCity();
  const [a, b, c, d, e] = bowTie[6]!.ring;
  bowTie[6]!.ring = [a!, b!, c!, e!, d!];
  return [
    ['invalid.geojson', '{"type":"FeatureCollection","features":[\n{"type":"Feature",]}', /第2行.*不是有效的 JSON.*not valid JSON/],
    ['duplicate.geojson', geoJsonText(featureCollection(dup)), /第6行.*网格编码重复.*duplicate grid code, also feature #3/],
    ['outside.geojson', geoJsonText(featureCollection(outside)), /不以所属社区编码 379902001001 开头.*does not start with its community's code/],
    ['overlap.geojson', geoJsonText(featureCollection(overlap)), /重叠.*overlaps grid 379901001001001/],
    ['bowtie.geojson', geoJsonText(featureCollection(bowTie)), /边界自相交.*crosses itself/],
  ];
};

function suite(kind: string, database: () => Promise<string>): void {
  describe(kind, () => {
    let db: string;
    beforeAll(async () => {
      db = await database();
      await seeded(db);
    }, 60_000);

    it('refuses bad files, each with its report, and writes nothing', async () => {
      const before = await openStore(db);
      const { seq } = await before.load();
      await before.close();
      for (const [name, text, reason] of badFiles()) {
        const run = await importGrids([write(name, text), '--crs', 'wgs84', '--db', db]);
        expect(run.code, `${name}: ${run.stdout}${run.stderr}`).toBe(4);
        expect(run.stdout).toMatch(reason);
        expect(run.stdout).toMatch(/未写入任何数据 \/ \d+ error\(s\).*nothing written/);
      }
      const big = await importGrids([write('big.geojson', geoJsonText(featureCollection(sampleCity()))), '--max-mb', '0.001', '--db', db]);
      expect(big.code).toBe(4);
      expect(big.stdout).toMatch(/超过上限.*over the 0\.0 MB limit/);
      const after = await openStore(db);
      expect((await after.load()).seq).toBe(seq);
      await after.close();
    }, 120_000);

    it('imports a GeoJSON in GCJ-02 as one change batch, replacing the generated grids', async () => {
      const store = await openStore(db);
      const { seq } = await store.load();
      const told: Array<number | undefined> = [];
      const watch = store.watchCommits((s) => told.push(s), () => {});
      const dry = await importGrids([write('city.geojson', geoJsonText(featureCollection(sampleCity(), wgs84ToGcj02Formula))), '--crs', 'gcj02', '--db', db, '--dry-run']);
      expect(dry.code).toBe(0);
      expect((await store.load()).seq).toBe(seq);
      const run = await importGrids([join(dir, 'city.geojson'), '--crs', 'gcj02', '--db', db]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('GCJ-02');
      expect(run.stdout).toMatch(/已导入.*imported.*seq \d+.*2 区县 districts, 4 街道 streets, 8 社区 communities, 16 网格 grids/);
      const batches = await store.changesSince(seq, 10);
      expect(batches).toHaveLength(1);
      expect(batches![0]!.changes.filter((c) => c.op === 'remove').length).toBeGreaterThan(0);
      await expectSampleCity(store);
      if (kind === 'postgresql') await expect.poll(() => told.includes(seq + 1)).toBe(true);
      await watch.close();
      await store.close();
    }, 60_000);

    it('imports the same city from a Shapefile: nothing removed, grids as before', async () => {
      writeShapefile(join(dir, 'city'), sampleCity());
      const run = await importGrids([join(dir, 'city.shp'), '--crs', 'cgcs2000', '--db', db]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('China Geodetic Coordinate System 2000');
      const store = await openStore(db);
      const { seq } = await store.load();
      const [batch] = (await store.changesSince(seq - 1, 10))!;
      expect(batch!.changes.every((c) => c.op === 'upsert')).toBe(true);
      await expectSampleCity(store);
      await store.close();
    }, 60_000);

    it('places an event reported at a point in the imported grid that holds it, with the imported names', async () => {
      const backend = await startBackend({
        ...(kind === 'postgresql' ? { databaseUrl: db, dbFile: join(dir, 'pg-backend', 'backend.sqlite') } : { dbFile: db }),
        tokens: { dispatcher: 'tok-import-dispatcher' },
        tokensFile: null,
        simulate: false,
        historyDays: 0,
        kpiIntervalMs: 600_000,
      });
      try {
        const client = new WireClient({ url: backend.url, token: 'tok-import-dispatcher' });
        await client.waitSynced();
        const target = sampleCity()[5]!;
        const ring = target.ring;
        const inside: [number, number] = [ring.reduce((n, p) => n + p[0], 0) / ring.length, ring.reduce((n, p) => n + p[1], 0) / ring.length];
        const ack = await client.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '导入网格内的事件', description: '', location: inside });
        const event = backend.state.get('events', String(ack.result.eventId))!;
        const grid = backend.state.get('grids', `g${target.code}`)!;
        expect(event.gridId).toBe(grid.id);
        expect(event.districtId).toBe(grid.districtId);
        expect(event.address).toBe(['districtId', 'streetId', 'communityId'].map((k) => backend.state.get('adminUnits', grid[k as 'districtId'])!.name).join(''));
        client.close();
      } finally {
        await backend.close();
      }
    }, 60_000);
  });
}

describe('import grids: usage', () => {
  it('exits 2 on bad usage', async () => {
    expect((await importGrids([])).code).toBe(2);
    expect((await importGrids([join(dir, 'x.geojson'), '--crs', 'utm'])).code).toBe(2);
  });
});

forEachStore(dir, suite);
