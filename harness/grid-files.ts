/**
 * The sample city (backend/import/sample-city.ts, also behind `npm run backend -- sample-city`) as the tests send
 * it: GeoJSON (in any of the coordinate systems), a Shapefile (.shp/.dbf/.cpg/.prj, written here: the `shapefile`
 * package only reads), and an independent WGS84 → GCJ-02 formula to check the import's conversion against.
 */
import { writeFileSync } from 'node:fs';
import type { Ring } from '../backend/import/sample-city';

export { SAMPLE_CITY_CODE, SAMPLE_ORIGIN, featureCollection, geoJsonText, sampleCity, type Ring, type SampleGrid } from '../backend/import/sample-city';

const signedArea = (ring: Ring): number => ring.reduce((s, [x, y], i) => s + x * ring[(i + 1) % ring.length]![1] - ring[(i + 1) % ring.length]![0] * y, 0) / 2;

export const CGCS2000_PRJ =
  'GEOGCS["China Geodetic Coordinate System 2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]';

/** Writes base.shp/.dbf/.cpg (UTF-8)/.prj: polygons (outer rings clockwise, as the format wants) and text fields. */
export function writeShapefile(base: string, grids: Array<{ ring: Ring; properties: Record<string, string | number> }>, prj = CGCS2000_PRJ): void {
  const rings = grids.map((g) => {
    const r = signedArea(g.ring) > 0 ? [...g.ring].reverse() : [...g.ring];
    return [...r, r[0]!];
  });
  const all = rings.flat();
  const box = [Math.min(...all.map((p) => p[0])), Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[0])), Math.max(...all.map((p) => p[1]))];
  const records = rings.map((r, i) => {
    const content = Buffer.alloc(44 + 4 + 16 * r.length);
    content.writeInt32LE(5, 0);
    const rb = [Math.min(...r.map((p) => p[0])), Math.min(...r.map((p) => p[1])), Math.max(...r.map((p) => p[0])), Math.max(...r.map((p) => p[1]))];
    rb.forEach((v, k) => content.writeDoubleLE(v, 4 + 8 * k));
    content.writeInt32LE(1, 36);
    content.writeInt32LE(r.length, 40);
    content.writeInt32LE(0, 44);
    r.forEach(([x, y], k) => {
      content.writeDoubleLE(x, 48 + 16 * k);
      content.writeDoubleLE(y, 56 + 16 * k);
    });
    const header = Buffer.alloc(8);
    header.writeInt32BE(i + 1, 0);
    header.writeInt32BE(content.length / 2, 4);
    return Buffer.concat([header, content]);
  });
  const body = Buffer.concat(records);
  const head = Buffer.alloc(100);
  head.writeInt32BE(9994, 0);
  head.writeInt32BE((100 + body.length) / 2, 24);
  head.writeInt32LE(1000, 28);
  head.writeInt32LE(5, 32);
  box.forEach((v, k) => head.writeDoubleLE(v!, 36 + 8 * k));
  writeFileSync(`${base}.shp`, Buffer.concat([head, body]));

  const names = Object.keys(grids[0]?.properties ?? {});
  const values = grids.map((g) => names.map((n) => Buffer.from(String(g.properties[n] ?? ''), 'utf8')));
  const widths = names.map((_, k) => Math.max(1, ...values.map((v) => v[k]!.length)));
  const headerLength = 32 + 32 * names.length + 1;
  const recordLength = 1 + widths.reduce((a, b) => a + b, 0);
  const dbfHead = Buffer.alloc(headerLength);
  dbfHead.writeUInt8(3, 0);
  dbfHead.writeUInt8(126, 1);
  dbfHead.writeUInt8(1, 2);
  dbfHead.writeUInt8(1, 3);
  dbfHead.writeInt32LE(grids.length, 4);
  dbfHead.writeInt16LE(headerLength, 8);
  dbfHead.writeInt16LE(recordLength, 10);
  names.forEach((n, k) => {
    const at = 32 + 32 * k;
    dbfHead.write(n.slice(0, 10), at, 'ascii');
    dbfHead.write('C', at + 11, 'ascii');
    dbfHead.writeUInt8(widths[k]!, at + 16);
  });
  dbfHead.writeUInt8(0x0d, headerLength - 1);
  const rows = values.map((row) => Buffer.concat([Buffer.from(' '), ...row.map((v, k) => Buffer.concat([v, Buffer.alloc(widths[k]! - v.length, 0x20)]))]));
  writeFileSync(`${base}.dbf`, Buffer.concat([dbfHead, ...rows, Buffer.from([0x1a])]));
  writeFileSync(`${base}.cpg`, 'UTF-8');
  if (prj) writeFileSync(`${base}.prj`, prj);
}

/**
 * WGS84 → GCJ-02 by the published formula (the Krasovsky-ellipsoid offset of GB 20263's public reimplementations),
 * written here independently of gcoord so the import's conversion is checked against it.
 */
export function wgs84ToGcj02Formula([lon, lat]: [number, number]): [number, number] {
  const a = 6378245.0;
  const ee = 0.006693421622965943; // 0.00669342162296594323 in the published code, to double precision
  const x = lon - 105.0;
  const y = lat - 35.0;
  let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  dLat += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  dLat += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  let dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  dLon += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  dLon += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - ee * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((a * (1 - ee)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180.0) / ((a / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lon + dLon, lat + dLat];
}

/** Metres between two lon/lat points (haversine). */
export function metres(a: readonly number[], b: readonly number[]): number {
  const r = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b[1]! - a[1]!) * rad;
  const dLon = (b[0]! - a[0]!) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1]! * rad) * Math.cos(b[1]! * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(h));
}
