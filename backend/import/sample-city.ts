/**
 * A small real-shaped city, generated (nothing copied from a real one), and the files a city's teams would send of
 * it: `npm run backend -- sample-city <dir>` writes grids.geojson (GCJ-02, as Gaode-based tools export, 15-digit
 * 网格编码 and names), boundaries.geojson (the districts', streets' and communities' boundaries, for --parents),
 * staff.csv (GBK, as Excel in China saves a CSV), cameras.xlsx (20-digit GB/T 28181 ids, positions in GCJ-02),
 * departments.csv and rules.csv (the 权责清单), and its registers (sample-registers.ts): population.csv, places.csv
 * and persons.csv (an invented 重点人员 register). The tests use the same city (harness/grid-files.ts).
 * 2 districts × 2 streets × 2 communities × 2 grids, each grid a 0.005° cell with a vertex mid-edge.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import ExcelJS from 'exceljs';
import { fromWgs84 } from './crs';
import { parseCli } from '../../node-util/cli';
import { Rng } from '../city-generator/random';
import { mobilePhone, personName } from '../city-generator/names';
import { rulesFromCatalog, DEPARTMENTS } from '../city-generator/catalog';
import { samplePersonRows, samplePlaceRows, samplePopulationRows } from './sample-registers';

export type Ring = Array<[number, number]>;
export interface SampleGrid {
  code: string;
  /** WGS84, open (first vertex not repeated). */
  ring: Ring;
  properties: Record<string, string | number>;
}
export interface SampleUnit {
  level: 'district' | 'street' | 'community';
  code: string;
  name: string;
  /** WGS84, open. */
  ring: Ring;
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
export const SAMPLE_CITY_CODE = '3799';
export const SAMPLE_ORIGIN: [number, number] = [116.38, 39.9];
const STEP = 0.005;
const DISTRICTS = ['东城区', '西城区'];
/** Column x of the lattice: district d, street s, community c. */
const column = (d: number, s: number, c: number): number => d * 4 + s * 2 + c;
const rect = (x0: number, x1: number): Ring => {
  const [w, e] = [SAMPLE_ORIGIN[0] + x0 * STEP, SAMPLE_ORIGIN[0] + x1 * STEP];
  const [s, n] = [SAMPLE_ORIGIN[1], SAMPLE_ORIGIN[1] + 2 * STEP];
  return [[w, s], [e, s], [e, n], [w, n]];
};

export function sampleCity(): SampleGrid[] {
  const grids: SampleGrid[] = [];
  for (let d = 0; d < 2; d++)
    for (let s = 0; s < 2; s++)
      for (let c = 0; c < 2; c++)
        for (let k = 0; k < 2; k++) {
          const x = column(d, s, c);
          const [x0, y0] = [SAMPLE_ORIGIN[0] + x * STEP, SAMPLE_ORIGIN[1] + k * STEP];
          const [x1, y1] = [x0 + STEP, y0 + STEP];
          const communityCode = SAMPLE_CITY_CODE + pad(d + 1, 2) + pad(s + 1, 3) + pad(c + 1, 3);
          const code = communityCode + pad(k + 1, 3);
          const street = `${DISTRICTS[d]}第${s + 1}街道`;
          const community = `${street}${c + 1}社区`;
          grids.push({
            code,
            // counter-clockwise, with a vertex in the middle of the south edge
            ring: [[x0, y0], [(x0 + x1) / 2, y0], [x1, y0], [x1, y1], [x0, y1]],
            properties: { WGBM: code, WGMC: `${community}第${k + 1}网格`, QXMC: DISTRICTS[d]!, JDMC: street, SQMC: community, SQBM: communityCode, HS: 300 + x, RK: 900 + x },
          });
        }
  return grids;
}

/** The districts', streets' and communities' boundaries of the sample city (each exactly its grids' union). */
export function sampleBoundaries(): SampleUnit[] {
  const units: SampleUnit[] = [];
  for (let d = 0; d < 2; d++) {
    const dCode = SAMPLE_CITY_CODE + pad(d + 1, 2);
    units.push({ level: 'district', code: dCode, name: DISTRICTS[d]!, ring: rect(column(d, 0, 0), column(d, 1, 1) + 1) });
    for (let s = 0; s < 2; s++) {
      const sCode = dCode + pad(s + 1, 3);
      const street = `${DISTRICTS[d]}第${s + 1}街道`;
      units.push({ level: 'street', code: sCode, name: street, ring: rect(column(d, s, 0), column(d, s, 1) + 1) });
      for (let c = 0; c < 2; c++) units.push({ level: 'community', code: sCode + pad(c + 1, 3), name: `${street}${c + 1}社区`, ring: rect(column(d, s, c), column(d, s, c) + 1) });
    }
  }
  return units;
}

export function featureCollection(grids: Array<{ ring: Ring; properties: Record<string, string | number> }>, convert: (p: [number, number]) => [number, number] = (p) => p): Record<string, unknown> {
  return {
    type: 'FeatureCollection',
    features: grids.map((g) => ({
      type: 'Feature',
      properties: g.properties,
      geometry: { type: 'Polygon', coordinates: [[...g.ring, g.ring[0]!].map(convert)] },
    })),
  };
}

/** The boundaries as a GIS tool exports them: 编码 (6/9/12 digits), 名称, 级别. */
export function boundaryCollection(units: SampleUnit[], convert?: (p: [number, number]) => [number, number]): Record<string, unknown> {
  const LEVEL = { district: '区县', street: '街道', community: '社区' } as const;
  return featureCollection(units.map((u) => ({ ring: u.ring, properties: { 编码: u.code, 名称: u.name, 级别: LEVEL[u.level] } })), convert);
}

/** One feature per line, as GIS tools print them (so the report's line numbers are easy to check). */
export function geoJsonText(collection: Record<string, unknown>): string {
  const features = collection.features as unknown[];
  return `{"type":"FeatureCollection","features":[\n${features.map((f) => JSON.stringify(f)).join(',\n')}\n]}\n`;
}

const csv = (rows: Array<Array<string | number>>): string => rows.map((r) => r.map((v) => (/[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v))).join(',')).join('\r\n') + '\r\n';

/** Two grid staff per grid (the first grid of each community's its 网格长), as a 花名册 CSV's rows. */
export function sampleStaffRows(): Array<Array<string | number>> {
  const rng = new Rng('sample-city:staff');
  const rows: Array<Array<string | number>> = [['工号', '姓名', '手机号码', '网格编码', '角色']];
  let n = 1;
  for (const g of sampleCity()) {
    const first = g.code.endsWith('001') ? '网格长' : '专职网格员';
    for (const role of [first, '兼职网格员']) rows.push([`WG${pad(n++, 4)}`, personName(rng), mobilePhone(rng), g.code, role]);
  }
  return rows;
}

/** One camera per grid, in the middle of its north half: 20-digit GB/T 28181 ids (区域 8 + 行业 2 + 类型 132 + 序号 7). */
export function sampleCameraRows(): Array<Array<string | number>> {
  const toGcj = fromWgs84('gcj02');
  const rows: Array<Array<string | number>> = [['国标编码', '名称', '经度', '纬度', '方向', '视场角', '在线状态', '视频流地址']];
  sampleCity().forEach((g, i) => {
    const id = `${g.code.slice(0, 6)}00` + '00' + '132' + pad(i + 1, 7);
    const [x0, y0] = g.ring[0]!;
    const [lon, lat] = toGcj([x0 + STEP / 2, y0 + STEP * 0.7]);
    rows.push([id, `${g.properties.WGMC}路口`, Number(lon.toFixed(6)), Number(lat.toFixed(6)), (i * 45) % 360, 60, i % 7 === 6 ? '离线' : '在线', `/video/${id}/index.m3u8`]);
  });
  return rows;
}

/** The generator's departments and 权责清单, as the files a city's 网格中心 would send. */
export function sampleDepartmentRows(): { departments: Array<Array<string | number>>; rules: Array<Array<string | number>> } {
  const code = (id: string): string => DEPARTMENTS.find((d) => d.id === id)?.code ?? id;
  const LEVEL = { grid: '网格', street: '街道', district: '区县', city: '市' } as const;
  return {
    departments: [['部门编码', '部门名称'], ...DEPARTMENTS.map((d) => [d.code ?? d.id, d.name])],
    rules: [
      ['事件类别编码', '事件类别名称', '部门编码', '受理时限', '派遣时限', '处置时限', '回访时限', '结案时限', '处置层级'],
      ...rulesFromCatalog().map((r) => [r.category, r.categoryName, code(r.departmentId), r.limits.report, r.limits.dispatch, r.limits.handle, r.limits.followup, r.limits.close, LEVEL[r.handlingLevel]]),
    ],
  };
}

/** Writes the sample city's files into `dir`; returns their paths. */
export type SampleFile = 'grids' | 'boundaries' | 'staff' | 'cameras' | 'departments' | 'rules' | 'population' | 'places' | 'persons';

export async function writeSampleCity(dir: string): Promise<Record<SampleFile, string>> {
  mkdirSync(dir, { recursive: true });
  const toGcj = fromWgs84('gcj02');
  const paths = {
    grids: join(dir, 'grids.geojson'),
    boundaries: join(dir, 'boundaries.geojson'),
    staff: join(dir, 'staff.csv'),
    cameras: join(dir, 'cameras.xlsx'),
    departments: join(dir, 'departments.csv'),
    rules: join(dir, 'rules.csv'),
    population: join(dir, 'population.csv'),
    places: join(dir, 'places.csv'),
    persons: join(dir, 'persons.csv'),
  };
  writeFileSync(paths.grids, geoJsonText(featureCollection(sampleCity(), toGcj)));
  writeFileSync(paths.boundaries, geoJsonText(boundaryCollection(sampleBoundaries(), toGcj)));
  writeFileSync(paths.staff, iconv.encode(csv(sampleStaffRows()), 'gbk'));
  const { departments, rules } = sampleDepartmentRows();
  writeFileSync(paths.departments, iconv.encode(csv(departments), 'gbk'));
  writeFileSync(paths.rules, iconv.encode(csv(rules), 'gbk'));
  writeFileSync(paths.population, iconv.encode(csv(samplePopulationRows()), 'gbk'));
  // Saved by a newer Excel: UTF-8 with a byte-order mark.
  writeFileSync(paths.places, '\uFEFF' + csv(samplePlaceRows()));
  writeFileSync(paths.persons, iconv.encode(csv(samplePersonRows()), 'gbk'));
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('通道列表');
  for (const row of sampleCameraRows()) sheet.addRow(row);
  await wb.xlsx.writeFile(paths.cameras);
  return paths;
}

export const sampleCityUsage = `usage: backend sample-city <dir>
  writes a generated sample city's files into <dir> (made when missing): grids.geojson (GCJ-02), boundaries.geojson
  (for import grids --parents), staff.csv (GBK), cameras.xlsx, departments.csv, rules.csv, population.csv (GBK),
  places.csv (UTF-8, GCJ-02), persons.csv (GBK, an invented 重点人员 register); then import them
  (README: 试一个样例城市 / try a sample city)`;

export async function sampleCityMain(argv: string[]): Promise<number> {
  const { positionals, fail } = parseCli({}, sampleCityUsage, argv, true);
  if (positionals.length !== 1) fail('sample-city takes one directory');
  const paths = await writeSampleCity(positionals[0]!);
  for (const [what, path] of Object.entries(paths)) process.stdout.write(`${what}\t${path}\n`);
  return 0;
}
