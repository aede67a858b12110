import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import gcoord from 'gcoord';
import { fromWgs84, toWgs84 } from '../../backend/import/crs';
import { featureOffsets, readGridFile } from '../../backend/import/read';
import { buildCity, type BuildOptions } from '../../backend/import/build';
import { errorsOf, formatReport, warningsOf } from '../../backend/import/report';
import { featureCollection, geoJsonText, metres, sampleCity, wgs84ToGcj02Formula, writeShapefile } from '../../harness/grid-files';

const dir = mkdtempSync(join(tmpdir(), 'grid-import-'));
let n = 0;
const file = (text: string, ext = '.geojson'): string => {
  const path = join(dir, `f${n++}${ext}`);
  writeFileSync(path, text);
  return path;
};
async function check(path: string, options: BuildOptions = { crs: 'wgs84', crsGiven: true }, maxBytes?: number) {
  const read = await readGridFile(path, maxBytes ? { maxBytes } : {});
  return buildCity(read, path, options);
}

describe('coordinates', () => {
  // WGS84 points across China; the expected GCJ-02 comes from the published formula, written in the test harness.
  const points: Array<[number, number]> = [
    [116.397428, 39.90923], // Beijing, Tiananmen
    [121.499718, 31.239703], // Shanghai, the Bund
    [113.264385, 23.129112], // Guangzhou
    [104.065735, 30.659462], // Chengdu
    [87.617733, 43.792818], // Urumqi
    [126.642464, 45.756967], // Harbin
  ];
  it('GCJ-02 → WGS84 lands within 1 m of the point the published formula started from', () => {
    for (const wgs of points) {
      const gcj = wgs84ToGcj02Formula(wgs);
      expect(metres(wgs, gcj)).toBeGreaterThan(100); // the offset is real
      expect(metres(fromWgs84('gcj02')(wgs), gcj)).toBeLessThan(0.01); // gcoord's forward agrees with the formula
      expect(metres(toWgs84('gcj02')(gcj), wgs)).toBeLessThan(1);
    }
  });
  it('BD-09 → WGS84: round trip WGS84 → BD-09 → WGS84 within 1 m', () => {
    for (const wgs of points) {
      const bd = gcoord.transform(wgs, gcoord.WGS84, gcoord.BD09) as [number, number];
      expect(metres(wgs, bd)).toBeGreaterThan(100);
      expect(metres(toWgs84('bd09')(bd), wgs)).toBeLessThan(1);
    }
  });
  it('WGS84 and CGCS2000 are taken as they are', () => {
    expect(toWgs84('cgcs2000')([116.4, 39.9])).toEqual([116.4, 39.9]);
  });
});

describe('reading and checking a grid file', () => {
  it('finds the line each feature starts on', () => {
    const text = geoJsonText(featureCollection(sampleCity().slice(0, 3)));
    const offsets = featureOffsets(text);
    expect(offsets).toHaveLength(3);
    expect(text.slice(0, offsets[1]).split('\n')).toHaveLength(3);
  });

  it('builds the hierarchy from the codes, GeoJSON in GCJ-02', async () => {
    const grids = sampleCity();
    const { report, city } = await check(file(geoJsonText(featureCollection(grids, wgs84ToGcj02Formula))), { crs: 'gcj02', crsGiven: true });
    expect(errorsOf(report)).toEqual([]);
    expect(warningsOf(report)).toEqual([]);
    expect(report.counts).toEqual({ districts: 2, streets: 4, communities: 8, grids: 16 });
    const units = new Map(city!.adminUnits.map((u) => [u.id, u]));
    expect(units.get('city')!.code).toBe('3799');
    for (const g of city!.grids) {
      const community = units.get(g.communityId)!;
      expect(g.code.startsWith(community.code)).toBe(true);
      expect(units.get(community.parentId!)!.id).toBe(g.streetId);
      expect(units.get(g.streetId)!.parentId).toBe(g.districtId);
      const source = grids.find((s) => s.code === g.code)!;
      expect(g.polygon).toHaveLength(5);
      g.polygon.forEach((p, k) => expect(metres(p, source.ring[k]!)).toBeLessThan(1));
    }
    expect(units.get('d379901')!.name).toBe('东城区');
    // a district's boundary is the union of its grids: 4 columns × 2 rows of cells
    const d = units.get('d379901')!.polygon;
    expect(Math.max(...d.map((p) => p[0])) - Math.min(...d.map((p) => p[0]))).toBeCloseTo(0.02, 4);
  });

  it('reads a Shapefile (.shp/.dbf/.cpg/.prj)', async () => {
    const base = join(dir, 'city');
    writeShapefile(base, sampleCity());
    const { report, city } = await check(`${base}.shp`, { crs: 'cgcs2000', crsGiven: true });
    expect(errorsOf(report)).toEqual([]);
    expect(report.encoding).toBe('utf-8');
    expect(report.issues.some((i) => i.kind === 'crs-prj' && i.zh.includes('China Geodetic'))).toBe(true);
    expect(city!.grids.map((g) => g.name)).toContain('东城区第1街道1社区第1网格');
  });

  const bad = async (path: string, options?: BuildOptions, maxBytes?: number) => {
    const { report, city } = await check(path, options, maxBytes);
    expect(city).toBeNull();
    const lines = formatReport(report, 'refused');
    expect(lines.at(-1)).toMatch(/未写入任何数据 \/ \d+ error\(s\).*nothing written/);
    return { errors: errorsOf(report), lines };
  };

  it('refuses invalid JSON with its line and column', async () => {
    const text = geoJsonText(featureCollection(sampleCity().slice(0, 2))).replace('"Polygon"', '"Polygon",,');
    const { errors, lines } = await bad(file(text));
    expect(errors).toMatchObject([{ kind: 'invalid-json', line: 2 }]);
    expect(lines.join('\n')).toMatch(/不是有效的 JSON.*not valid JSON/);
  });

  it('refuses a file over the size limit before reading it', async () => {
    const { errors } = await bad(file(geoJsonText(featureCollection(sampleCity()))), undefined, 1000);
    expect(errors).toMatchObject([{ kind: 'file-too-large' }]);
  });

  it('refuses duplicate codes, naming both features', async () => {
    const grids = sampleCity();
    grids[5]!.properties.WGBM = grids[2]!.code;
    const { errors } = await bad(file(geoJsonText(featureCollection(grids))));
    expect(errors[0]).toMatchObject({ kind: 'duplicate-code', feature: 5, line: 7, code: grids[2]!.code });
    expect(errors[0]!.en).toContain('feature #2');
  });

  it('refuses a grid whose code is not under its community', async () => {
    const grids = sampleCity();
    grids[3]!.properties.SQBM = '379901002009';
    const { errors } = await bad(file(geoJsonText(featureCollection(grids))));
    expect(errors).toMatchObject([{ kind: 'parent-mismatch', feature: 3 }]);
  });

  it('refuses overlapping grids', async () => {
    const grids = sampleCity();
    grids[1]!.ring = grids[1]!.ring.map(([x, y]) => [x, y - 0.001]); // 0.001° into its southern neighbour
    const { errors } = await bad(file(geoJsonText(featureCollection(grids))));
    expect(errors).toMatchObject([{ kind: 'overlap', feature: 1 }]);
    expect(errors[0]!.zh).toMatch(/重叠 \d+/);
  });

  it('refuses a self-intersecting polygon', async () => {
    const grids = sampleCity();
    const [a, b, c, d, e] = grids[7]!.ring;
    grids[7]!.ring = [a!, b!, c!, e!, d!]; // a bow tie
    const { errors, lines } = await bad(file(geoJsonText(featureCollection(grids))));
    expect(errors).toMatchObject([{ kind: 'self-intersection', feature: 7, line: 9 }]);
    expect(lines.join('\n')).toContain('crosses itself');
  });

  it('reports gaps and an assumed WGS84 as warnings, not errors', async () => {
    const grids = sampleCity().filter((g) => g.code !== '379901002001002');
    const { report, city } = await check(file(geoJsonText(featureCollection(grids))), { crs: 'wgs84' });
    expect(city).not.toBeNull();
    expect(warningsOf(report).map((w) => w.kind).sort()).toEqual(['crs-default']);
    const holed = sampleCity();
    const h = holed[4]!; // bottom row: a notch in its northern edge, closed by the grid above
    const [hx, hy] = h.ring[0]!;
    h.ring = [[hx, hy], [hx + 0.0025, hy], [hx + 0.005, hy], [hx + 0.005, hy + 0.005], [hx + 0.003, hy + 0.005], [hx + 0.0025, hy + 0.004], [hx + 0.002, hy + 0.005], [hx, hy + 0.005]];
    const gap = await check(file(geoJsonText(featureCollection(holed))));
    expect(gap.city).not.toBeNull();
    expect(warningsOf(gap.report).map((w) => w.kind)).toEqual(['gap']);
  });
});
