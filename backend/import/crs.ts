/**
 * The coordinate systems a GIS team exports grids in, and the conversion to WGS84 (what the console stores and
 * draws). WGS84 and CGCS2000 differ by centimetres: taken as they are. GCJ-02 (Gaode, Tencent) and BD-09 (Baidu)
 * are offset by hundreds of metres: converted with gcoord.
 */
import gcoord from 'gcoord';

export const CRS_NAMES = ['wgs84', 'cgcs2000', 'gcj02', 'bd09'] as const;
export type Crs = (typeof CRS_NAMES)[number];

export const CRS_LABEL: Record<Crs, { zh: string; en: string }> = {
  wgs84: { zh: 'WGS84（原样采用）', en: 'WGS84 (taken as is)' },
  cgcs2000: { zh: 'CGCS2000（与 WGS84 相差厘米级，原样采用）', en: 'CGCS2000 (within centimetres of WGS84, taken as is)' },
  gcj02: { zh: 'GCJ-02（高德/腾讯），已用 gcoord 转换为 WGS84', en: 'GCJ-02 (Gaode/Tencent), converted to WGS84 with gcoord' },
  bd09: { zh: 'BD-09（百度），已用 gcoord 转换为 WGS84', en: 'BD-09 (Baidu), converted to WGS84 with gcoord' },
};

export function isCrs(value: string): value is Crs {
  return (CRS_NAMES as readonly string[]).includes(value);
}

/** The function taking a [lon, lat] in `crs` to WGS84. */
export function toWgs84(crs: Crs): (p: readonly [number, number]) => [number, number] {
  if (crs === 'wgs84' || crs === 'cgcs2000') return (p) => [p[0], p[1]];
  const from = crs === 'gcj02' ? gcoord.GCJ02 : gcoord.BD09;
  return (p) => {
    const [lon, lat] = gcoord.transform([p[0], p[1]], from, gcoord.WGS84) as [number, number];
    return [lon, lat];
  };
}

/** The other way (tests, and writing sample files): WGS84 to `crs`. */
export function fromWgs84(crs: Crs): (p: readonly [number, number]) => [number, number] {
  if (crs === 'wgs84' || crs === 'cgcs2000') return (p) => [p[0], p[1]];
  const to = crs === 'gcj02' ? gcoord.GCJ02 : gcoord.BD09;
  return (p) => gcoord.transform([p[0], p[1]], gcoord.WGS84, to) as [number, number];
}
