/**
 * `import grids <grids> --parents <boundaries>`: the districts', streets' and communities' own boundary polygons
 * (a GeoJSON or Shapefile in the same --crs, each feature's code the 6/9/12-digit prefix of its grids' 15-digit
 * code). Each grid must lie inside its parents' boundaries — up to 1% of its area or a sliver under 2 m wide
 * outside (a boundary drawn by another team, converted from GCJ-02) — else an error naming the grid, the parent
 * and how much lies outside. The admin units then take their polygons from this file instead of their grids' union.
 */
import { area, difference, featureCollection, length, polygon as turfPolygon } from '@turf/turf';
import type { Feature, Polygon } from 'geojson';
import type { AdminUnit } from '../../protocol/model';
import { toWgs84, type Crs } from './crs';
import { centerOf, closed, outerRing, pick, text, type ImportedCity } from './build';
import type { ReadResult } from './read';
import type { ImportIssue } from './report';

export const PARENT_CODE_PROPERTIES = ['编码', '区划代码', '行政区划代码', 'XZQDM', 'QHDM', 'code', 'CODE', 'adcode'];
const LEVEL = { 6: { level: 'district', zh: '区县', en: 'district' }, 9: { level: 'street', zh: '街道', en: 'street' }, 12: { level: 'community', zh: '社区', en: 'community' } } as const;
/** Outside its parent by more than this share of its area and this mean width: an error. */
const MAX_OUTSIDE_SHARE = 0.01;
const MAX_OUTSIDE_WIDTH_M = 2;

/**
 * Checks the imported grids against the boundary file and gives the city with the file's boundaries as its admin
 * units' polygons, and the issues found (errors refuse the import).
 */
export function applyParents(read: ReadResult, file: string, options: { crs: Crs; codeProperty?: string }, city: ImportedCity): { city: ImportedCity; issues: ImportIssue[] } {
  const issues: ImportIssue[] = read.issues.map((i) => ({ ...i, zh: `${file}：${i.zh}`, en: `${file}: ${i.en}` }));
  if (read.projected) issues.push({ severity: 'error', kind: 'projected-crs', zh: `${file}：投影坐标（请以经纬度导出）`, en: `${file}: projected coordinates (export in longitude/latitude)` });
  if (issues.some((i) => i.severity === 'error')) return { city, issues };
  const convert = toWgs84(options.crs);
  const keys = options.codeProperty ? [options.codeProperty] : PARENT_CODE_PROPERTIES;
  const bounds = new Map<string, { ring: AdminUnit['polygon']; feature: Feature<Polygon> }>();
  for (const raw of read.features) {
    const at = { feature: raw.index, ...(raw.line !== undefined ? { line: raw.line } : {}) };
    const code = text(pick(raw.properties, keys));
    if (code === undefined || !/^(\d{6}|\d{9}|\d{12})$/.test(code)) {
      issues.push({ severity: 'error', kind: 'bad-code', ...at, zh: `${file}：边界编码须为 6 位（区县）、9 位（街道）或 12 位（社区）数字（属性 ${keys.join(' / ')}），此处为“${code ?? ''}”`, en: `${file}: a boundary's code is 6 (district), 9 (street) or 12 (community) digits (property ${keys.join(' / ')}), here "${code ?? ''}"` });
      continue;
    }
    const shape = outerRing(raw.geometry, convert);
    if ('kind' in shape) {
      issues.push({ severity: 'error', kind: shape.kind, ...at, code, zh: `${file}：${shape.zh}`, en: `${file}: ${shape.en}` });
      continue;
    }
    if (bounds.has(code)) issues.push({ severity: 'error', kind: 'duplicate-code', ...at, code, zh: `${file}：边界编码 ${code} 重复`, en: `${file}: boundary code ${code} appears twice` });
    else bounds.set(code, { ring: shape.ring, feature: turfPolygon([closed(shape.ring)]) });
  }
  if (issues.some((i) => i.severity === 'error')) return { city, issues };

  for (const grid of city.grids) {
    const feature = turfPolygon([closed(grid.polygon)]);
    const gridArea = area(feature);
    for (const n of [6, 9, 12] as const) {
      const parentCode = grid.code.slice(0, n);
      const parent = bounds.get(parentCode);
      if (!parent) continue;
      let outside: ReturnType<typeof difference>;
      try {
        outside = difference(featureCollection([feature, parent.feature]));
      } catch (e) {
        // A self-intersecting or degenerate ring the geometry library cannot subtract: said, never a crash.
        issues.push({ severity: 'error', kind: 'outside-parent', code: grid.code, zh: `无法核对网格 ${grid.code} 与上级边界 ${parentCode} 的包含关系（几何无效：${(e as Error).message.slice(0, 120)}）`, en: `grid ${grid.code} cannot be checked against boundary ${parentCode} (invalid geometry: ${(e as Error).message.slice(0, 120)})` });
        continue;
      }
      if (!outside) continue;
      const outArea = area(outside);
      const perimeter = length(outside, { units: 'meters' });
      const width = perimeter > 0 ? (2 * outArea) / perimeter : 0;
      if (outArea > MAX_OUTSIDE_SHARE * gridArea && width > MAX_OUTSIDE_WIDTH_M) {
        const share = ((100 * outArea) / gridArea).toFixed(1);
        const name = city.adminUnits.find((u) => u.code === parentCode)?.name ?? '';
        issues.push({ severity: 'error', kind: 'outside-parent', code: grid.code, zh: `网格 ${grid.code}（${grid.name}）有 ${outArea.toFixed(1)} 平方米（${share}%）在所属${LEVEL[n].zh} ${parentCode}（${name}）的边界之外`, en: `grid ${grid.code} (${grid.name}) lies ${outArea.toFixed(1)} m² (${share}%) outside its ${LEVEL[n].en} ${parentCode} (${name})'s boundary` });
      }
    }
  }
  const adminUnits = city.adminUnits.map((u) => {
    const b = u.level === 'city' ? undefined : bounds.get(u.code);
    return b ? { ...u, polygon: b.ring, center: centerOf(b.feature) } : u;
  });
  const missing = city.adminUnits.filter((u) => u.level !== 'city' && !bounds.has(u.code)).map((u) => u.code);
  if (missing.length > 0) issues.push({ severity: 'warning', kind: 'parent-in-parts', zh: `${file} 中没有 ${missing.length} 个上级的边界（${missing.slice(0, 5).join('、')}${missing.length > 5 ? '等' : ''}），其边界取其网格的并集`, en: `${file} has no boundary for ${missing.length} unit(s) (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}): their boundary is their grids' union` });
  return { city: { adminUnits, grids: city.grids }, issues };
}
