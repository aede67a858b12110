/**
 * From the features read to the city's records: every feature checked (its 网格编码, geometry, place in the
 * hierarchy), grids compared with each other (overlaps are errors, gaps warnings), and the admin units above the
 * grids made from the codes the way the generator makes them (backend/city-generator/hierarchy.ts): city = the
 * first 4 digits, district 6, street 9, community 12, grid 15. A unit's boundary is the union of its grids.
 */
import { area, centroid, length, booleanPointInPolygon, featureCollection, intersect, kinks, pointOnFeature, polygon as turfPolygon, union } from '@turf/turf';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import type { AdminUnit, Grid, LonLat } from '../../protocol/model';
import { toWgs84, type Crs } from './crs';
import type { RawFeature, ReadResult } from './read';
import type { ImportIssue, ImportReport } from './report';

export interface BuildOptions {
  crs: Crs;
  /** Whether --crs was given (else WGS84 is assumed and the report says so). */
  crsGiven?: boolean;
  /** The property holding the 15-digit grid code (default: the first of CODE_PROPERTIES present). */
  codeProperty?: string;
  /**
   * An overlap between two grids, or a gap enclosed by grids, counts when it is larger than this (m²) and wider
   * on average than `toleranceWidthM`: shared edges drawn with different vertices (and shifted by centimetres in
   * a GCJ-02 conversion) leave slivers a few centimetres wide that are no one's mistake.
   */
  toleranceM2?: number;
  toleranceWidthM?: number;
}

export interface ImportedCity {
  /** City, districts, streets, communities (the order the generator uses). */
  adminUnits: AdminUnit[];
  grids: Grid[];
}

export const CODE_PROPERTIES = ['网格编码', 'WGBM', 'GRID_CODE', 'grid_code', 'gridCode', 'code', 'CODE'];
const NAME = ['网格名称', 'WGMC', 'GRID_NAME', 'grid_name', 'gridName', 'name', 'NAME'];
const CITY_NAME = ['城市名称', '城市', 'CSMC', 'city', 'cityName', 'CITY'];
const DISTRICT_NAME = ['区县名称', '区县', 'QXMC', 'district', 'districtName', 'DISTRICT'];
const STREET_NAME = ['街道名称', '街道', '乡镇街道', 'JDMC', 'street', 'streetName', 'STREET'];
const COMMUNITY_NAME = ['社区名称', '社区', '村社区', 'SQMC', 'community', 'communityName', 'COMMUNITY'];
const PARENT_CODES: Array<{ level: 'district' | 'street' | 'community'; length: number; keys: string[]; zh: string }> = [
  { level: 'district', length: 6, keys: ['区县编码', 'QXBM', 'districtCode', 'DISTRICT_CODE'], zh: '区县' },
  { level: 'street', length: 9, keys: ['街道编码', 'JDBM', 'streetCode', 'STREET_CODE'], zh: '街道' },
  { level: 'community', length: 12, keys: ['社区编码', 'SQBM', 'communityCode', 'COMMUNITY_CODE'], zh: '社区' },
];
const HOUSEHOLDS = ['户数', 'HS', 'households'];
const POPULATION = ['人口', '人口数', 'RKS', 'RK', 'population'];
const MAX_POINTS = 10_000;

export const pick = (p: Record<string, unknown>, keys: readonly string[]): unknown => {
  for (const k of keys) if (p[k] !== undefined && p[k] !== null && p[k] !== '') return p[k];
  return undefined;
};
export const text = (v: unknown): string | undefined => (typeof v === 'string' ? v.trim() || undefined : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
const count = (v: unknown): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
};
const round = (v: number): number => Math.round(v * 1e7) / 1e7;
const fmtPoint = (p: readonly number[]): string => `${(p[0] as number).toFixed(6)}, ${(p[1] as number).toFixed(6)}`;

interface Checked {
  raw: RawFeature;
  code: string;
  ring: LonLat[];
  feature: Feature<Polygon>;
  bbox: [number, number, number, number];
}

function isPosition(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length >= 2 && typeof v[0] === 'number' && typeof v[1] === 'number' && Number.isFinite(v[0]) && Number.isFinite(v[1]);
}

/** The outer ring of a Polygon or one-part MultiPolygon, converted and opened; or the reason it cannot be one. */
export function outerRing(
  geometry: unknown,
  convert: (p: readonly [number, number]) => [number, number],
): { ring: LonLat[]; holes: number } | { kind: ImportIssue['kind']; zh: string; en: string } {
  const g = geometry as { type?: unknown; coordinates?: unknown } | null;
  if (!g || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) {
    const type = g && typeof g.type === 'string' ? g.type : 'null';
    return { kind: 'bad-geometry', zh: `几何类型为 ${type}，需要 Polygon 或 MultiPolygon`, en: `geometry is ${type}, expected Polygon or MultiPolygon` };
  }
  let rings = g.coordinates;
  if (g.type === 'MultiPolygon') {
    if (!Array.isArray(rings) || rings.length !== 1) {
      const parts = Array.isArray(rings) ? rings.length : 0;
      return { kind: 'multi-part', zh: `MultiPolygon 有 ${parts} 个部分，网格须为一个连续面`, en: `MultiPolygon of ${parts} parts: a grid must be one piece` };
    }
    rings = rings[0];
  }
  if (!Array.isArray(rings) || rings.length === 0 || !Array.isArray(rings[0]) || !(rings[0] as unknown[]).every(isPosition)) {
    return { kind: 'bad-geometry', zh: '坐标不是 [经度, 纬度] 数组', en: 'coordinates are not arrays of [lon, lat]' };
  }
  const outer = rings[0] as Array<[number, number]>;
  const bad = outer.find((p) => Math.abs(p[0]) > 180 || Math.abs(p[1]) > 90);
  if (bad) return { kind: 'out-of-range', zh: `坐标 ${fmtPoint(bad)} 不是经纬度（投影坐标？请以度为单位导出）`, en: `coordinate ${fmtPoint(bad)} is not longitude/latitude (projected? export in degrees)` };
  const ring: LonLat[] = [];
  for (const p of outer) {
    const [lon, lat] = convert(p);
    const q: LonLat = [round(lon), round(lat)];
    const last = ring.at(-1);
    if (!last || last[0] !== q[0] || last[1] !== q[1]) ring.push(q);
  }
  if (ring.length > 1 && ring[0]![0] === ring.at(-1)![0] && ring[0]![1] === ring.at(-1)![1]) ring.pop();
  if (ring.length < 3) return { kind: 'bad-geometry', zh: `外环只有 ${ring.length} 个不同的点`, en: `the outer ring has only ${ring.length} distinct points` };
  if (ring.length > MAX_POINTS) return { kind: 'too-many-points', zh: `外环有 ${ring.length} 个点，上限 ${MAX_POINTS}`, en: `the outer ring has ${ring.length} points, over the ${MAX_POINTS} limit` };
  return { ring, holes: rings.length - 1 };
}

export const closed = (ring: LonLat[]): number[][] => [...ring, ring[0]!];

/** Area (m²) and mean width (m: twice the area over the perimeter, a sliver's width) of a polygon. */
function measure(f: Feature<Polygon | MultiPolygon>): { area: number; width: number } {
  const a = area(f);
  const perimeter = length(f, { units: 'meters' });
  return { area: a, width: perimeter > 0 ? (2 * a) / perimeter : 0 };
}

function bboxOf(ring: LonLat[]): [number, number, number, number] {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of ring) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return [x0, y0, x1, y1];
}

export function centerOf(f: Feature<Polygon>): LonLat {
  const c = centroid(f);
  const p = booleanPointInPolygon(c, f) ? c : pointOnFeature(f);
  const [lon, lat] = p.geometry.coordinates as [number, number];
  return [round(lon), round(lat)];
}

/** The union's outer boundary: the largest part's outer ring (and how many parts there were). */
function boundary(features: Array<Feature<Polygon>>): { ring: LonLat[]; parts: number; holes: number[][][] } {
  const merged = features.length === 1 ? features[0]! : (union(featureCollection(features)) as Feature<Polygon | MultiPolygon> | null);
  if (!merged) return { ring: [], parts: 0, holes: [] };
  const polys = merged.geometry.type === 'Polygon' ? [merged.geometry.coordinates] : merged.geometry.coordinates;
  let best = polys[0]!;
  let bestArea = -1;
  const holes: number[][][] = [];
  for (const p of polys) {
    holes.push(...p.slice(1));
    const a = area(turfPolygon([p[0]!]));
    if (a > bestArea) {
      bestArea = a;
      best = p;
    }
  }
  const ring = (best[0] as number[][]).slice(0, -1).map((q): LonLat => [round(q[0]!), round(q[1]!)]);
  return { ring, parts: polys.length, holes };
}

export function buildCity(read: ReadResult, file: string, options: BuildOptions): { report: ImportReport; city: ImportedCity | null } {
  const issues: ImportIssue[] = [...read.issues];
  const report: ImportReport = {
    file,
    format: read.format,
    crs: options.crs,
    ...(read.encoding ? { encoding: read.encoding } : {}),
    features: read.features.length,
    counts: { districts: 0, streets: 0, communities: 0, grids: 0 },
    issues,
  };
  if (read.declaredCrs !== undefined) {
    issues.push({ severity: read.projected ? 'error' : 'note', kind: read.projected ? 'projected-crs' : 'crs-prj', zh: `文件声明的坐标系：${read.declaredCrs}${read.projected ? '（投影坐标，请以经纬度导出）' : ''}`, en: `the file declares: ${read.declaredCrs}${read.projected ? ' (projected: export in longitude/latitude)' : ''}` });
  }
  if (!options.crsGiven) issues.push({ severity: 'warning', kind: 'crs-default', zh: '未指定 --crs，按 WGS84 原样采用（高德/腾讯坐标请用 --crs gcj02，百度 --crs bd09）', en: 'no --crs given: taken as WGS84 (use --crs gcj02 for Gaode/Tencent, --crs bd09 for Baidu)' });
  if (issues.some((i) => i.severity === 'error')) return { report, city: null };
  if (read.features.length === 0) {
    issues.push({ severity: 'error', kind: 'no-features', zh: '文件中没有要素', en: 'the file has no features' });
    return { report, city: null };
  }

  const convert = toWgs84(options.crs);
  const codeKeys = options.codeProperty ? [options.codeProperty] : CODE_PROPERTIES;
  const checked: Checked[] = [];
  const byCode = new Map<string, RawFeature>();
  const at = (raw: RawFeature, code?: string): Pick<ImportIssue, 'feature' | 'line' | 'code'> => ({ feature: raw.index, ...(raw.line !== undefined ? { line: raw.line } : {}), ...(code !== undefined ? { code } : {}) });
  const error = (raw: RawFeature, code: string | undefined, kind: ImportIssue['kind'], zh: string, en: string): void => void issues.push({ severity: 'error', kind, ...at(raw, code), zh, en });

  for (const raw of read.features) {
    const code = text(pick(raw.properties, codeKeys));
    if (code === undefined) {
      error(raw, undefined, 'missing-code', `缺少网格编码（属性 ${codeKeys.join(' / ')}）`, `no grid code (property ${codeKeys.join(' / ')})`);
      continue;
    }
    let ok = true;
    if (!/^\d{15}$/.test(code)) {
      error(raw, code, 'bad-code', '网格编码须为 15 位数字（市4 + 区县2 + 街道3 + 社区3 + 网格3）', 'a grid code is 15 digits (city 4 + district 2 + street 3 + community 3 + grid 3)');
      ok = false;
    } else {
      const first = byCode.get(code);
      if (first) {
        error(raw, code, 'duplicate-code', `网格编码重复，与第${first.index + 1}个要素相同`, `duplicate grid code, also feature #${first.index}`);
        ok = false;
      } else byCode.set(code, raw);
      for (const parent of PARENT_CODES) {
        const declared = text(pick(raw.properties, parent.keys));
        if (declared !== undefined && declared !== code.slice(0, parent.length)) {
          error(raw, code, 'parent-mismatch', `网格编码不以所属${parent.zh}编码 ${declared} 开头（不在其上级之内）`, `the grid code does not start with its ${parent.level}'s code ${declared} (not inside its parent)`);
          ok = false;
        }
      }
    }
    const shape = outerRing(raw.geometry, convert);
    if ('kind' in shape) {
      error(raw, code, shape.kind, shape.zh, shape.en);
      continue;
    }
    if (shape.holes > 0) issues.push({ severity: 'warning', kind: 'hole-dropped', ...at(raw, code), zh: `忽略了 ${shape.holes} 个内环（网格边界只取外环）`, en: `${shape.holes} inner ring(s) dropped (a grid's boundary is its outer ring)` });
    const feature = turfPolygon([closed(shape.ring)]);
    const crossings = kinks(feature).features;
    if (crossings.length > 0) {
      const p = crossings[0]!.geometry.coordinates;
      error(raw, code, 'self-intersection', `边界自相交（${crossings.length} 处，首处 ${fmtPoint(p)}），未修复`, `the boundary crosses itself (${crossings.length} place(s), first at ${fmtPoint(p)}); not repaired`);
      continue;
    }
    if (area(feature) <= 0) {
      error(raw, code, 'bad-geometry', '面积为零', 'zero area');
      continue;
    }
    if (ok) checked.push({ raw, code, ring: shape.ring, feature, bbox: bboxOf(shape.ring) });
  }

  const cities = new Set(checked.map((c) => c.code.slice(0, 4)));
  if (cities.size > 1) issues.push({ severity: 'error', kind: 'parent-mismatch', zh: `网格属于多个城市（编码前4位：${[...cities].join('、')}），一次只能导入一个城市`, en: `grids of several cities (first 4 digits: ${[...cities].join(', ')}); import one city at a time` });

  // Overlaps: a sweep over bounding boxes, then the intersection's area for the pairs that may touch.
  const minArea = options.toleranceM2 ?? 1;
  const minWidth = options.toleranceWidthM ?? 0.5;
  const sorted = [...checked].sort((a, b) => a.bbox[0] - b.bbox[0]);
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < sorted.length && sorted[j]!.bbox[0] <= a.bbox[2]; j++) {
      const b = sorted[j]!;
      if (b.bbox[1] > a.bbox[3] || b.bbox[3] < a.bbox[1]) continue;
      const common = intersect(featureCollection([a.feature, b.feature]));
      const overlap = common ? measure(common) : { area: 0, width: 0 };
      if (overlap.area > minArea && overlap.width > minWidth) {
        const [first, second] = a.raw.index < b.raw.index ? [a, b] : [b, a];
        const size = `${overlap.area.toFixed(1)}`;
        error(second.raw, second.code, 'overlap', `与网格 ${first.code}（第${first.raw.index + 1}个要素）重叠 ${size} 平方米（平均宽 ${overlap.width.toFixed(1)} 米）`, `overlaps grid ${first.code} (feature #${first.raw.index}) by ${size} m² (${overlap.width.toFixed(1)} m wide on average)`);
      }
    }
  }
  if (issues.some((i) => i.severity === 'error')) return { report, city: null };

  // The hierarchy from the codes, names from the properties where given.
  const order = [...checked].sort((a, b) => (a.code < b.code ? -1 : 1));
  const names = new Map<string, string>();
  const nameOf = (code: string, value: string | undefined, raw: RawFeature, fallback: string): void => {
    const known = names.get(code);
    if (known === undefined) names.set(code, value ?? fallback);
    else if (value !== undefined && value !== known) issues.push({ severity: 'warning', kind: 'parent-name-differs', ...at(raw), zh: `上级 ${code} 的名称“${value}”与之前的“${known}”不同，采用“${known}”`, en: `unit ${code} is named "${value}" here but "${known}" before; "${known}" kept` });
  };
  const children = new Map<string, Array<Feature<Polygon>>>();
  const add = (code: string, f: Feature<Polygon>): void => void (children.get(code) ?? children.set(code, []).get(code)!).push(f);
  const idOf = { city: () => 'city', district: (c: string) => `d${c}`, street: (c: string) => `s${c}`, community: (c: string) => `c${c}` };
  const grids: Grid[] = [];
  for (const c of order) {
    const p = c.raw.properties;
    const [city, d, s, m] = [c.code.slice(0, 4), c.code.slice(0, 6), c.code.slice(0, 9), c.code.slice(0, 12)];
    nameOf(city, text(pick(p, CITY_NAME)), c.raw, `城市 ${city}`);
    nameOf(d, text(pick(p, DISTRICT_NAME)), c.raw, `区县 ${d}`);
    nameOf(s, text(pick(p, STREET_NAME)), c.raw, `街道 ${s}`);
    nameOf(m, text(pick(p, COMMUNITY_NAME)), c.raw, `社区 ${m}`);
    for (const unit of [city, d, s, m]) add(unit, c.feature);
    grids.push({
      id: `g${c.code}`,
      code: c.code,
      name: text(pick(p, NAME)) ?? `${names.get(m)}网格 ${c.code.slice(12)}`,
      communityId: idOf.community(m),
      streetId: idOf.street(s),
      districtId: idOf.district(d),
      polygon: c.ring,
      center: centerOf(c.feature),
      households: count(pick(p, HOUSEHOLDS)),
      population: count(pick(p, POPULATION)),
    });
  }

  const unit = (level: AdminUnit['level'], code: string, parentId: string | null): AdminUnit => {
    const { ring, parts, holes } = boundary(children.get(code)!);
    if (parts > 1) issues.push({ severity: 'warning', kind: 'parent-in-parts', code, zh: `${names.get(code)}（${code}）的网格不相连，分为 ${parts} 块；边界取最大一块`, en: `the grids of ${code} are not contiguous (${parts} pieces); its boundary is the largest piece` });
    if (level === 'city') {
      for (const hole of holes) {
        const gap = turfPolygon([hole]);
        const m = measure(gap);
        const near = fmtPoint(centroid(gap).geometry.coordinates);
        if (m.area > minArea && m.width > minWidth) issues.push({ severity: 'warning', kind: 'gap', zh: `网格之间有 ${m.area.toFixed(1)} 平方米的空隙（约在 ${near}）`, en: `a gap of ${m.area.toFixed(1)} m² between grids (near ${near})` });
      }
    }
    const id = level === 'city' ? 'city' : idOf[level](code);
    return { id, level, code, name: names.get(code)!, parentId, polygon: ring, center: centerOf(turfPolygon([closed(ring)])) };
  };
  const codesOf = (length: number): string[] => [...new Set(order.map((c) => c.code.slice(0, length)))];
  const cityCode = order[0]!.code.slice(0, 4);
  const adminUnits: AdminUnit[] = [unit('city', cityCode, null)];
  const districts = codesOf(6).map((c) => unit('district', c, 'city'));
  const streets = codesOf(9).map((c) => unit('street', c, idOf.district(c.slice(0, 6))));
  const communities = codesOf(12).map((c) => unit('community', c, idOf.street(c.slice(0, 9))));
  adminUnits.push(...districts, ...streets, ...communities);
  report.counts = { districts: districts.length, streets: streets.length, communities: communities.length, grids: grids.length };
  return { report, city: { adminUnits, grids } };
}
