/**
 * Plane geometry for the synthetic city. A city is ~20–60 km across, so a local equirectangular projection
 * around the city centre (metres east/north of it) is accurate to well under a metre per kilometre.
 */
import type { LonLat } from '../../protocol/model';

export type Xy = readonly [number, number];

export interface Projection {
  readonly origin: LonLat;
  readonly metresPerDegLon: number;
  readonly metresPerDegLat: number;
  toLonLat(x: number, y: number): LonLat;
  toLocal(lon: number, lat: number): [number, number];
}

export function makeProjection(origin: LonLat): Projection {
  const [lon0, lat0] = origin;
  const phi = (lat0 * Math.PI) / 180;
  // Length of a degree on the WGS84 ellipsoid at this latitude (series expansion).
  const metresPerDegLat = 111132.92 - 559.82 * Math.cos(2 * phi) + 1.175 * Math.cos(4 * phi);
  const metresPerDegLon = 111412.84 * Math.cos(phi) - 93.5 * Math.cos(3 * phi);
  return {
    origin,
    metresPerDegLon,
    metresPerDegLat,
    toLonLat: (x, y) => [lon0 + x / metresPerDegLon, lat0 + y / metresPerDegLat],
    toLocal: (lon, lat) => [(lon - lon0) * metresPerDegLon, (lat - lat0) * metresPerDegLat],
  };
}

/** Rounds a coordinate to 1e-7 degree (~1 cm): enough for a map, and keeps snapshots small. */
export function roundDeg(v: number): number {
  return Math.round(v * 1e7) / 1e7;
}

/** Signed shoelace area (positive when counter-clockwise). */
export function signedArea(ring: readonly Xy[]): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as Xy;
    const [xj, yj] = ring[j] as Xy;
    sum += xj * yi - xi * yj;
  }
  return sum / 2;
}

/** Area-weighted centroid of a simple polygon (falls back to the vertex mean for a degenerate ring). */
export function centroid(ring: readonly Xy[]): [number, number] {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as Xy;
    const [xj, yj] = ring[j] as Xy;
    const cross = xj * yi - xi * yj;
    a += cross;
    cx += (xj + xi) * cross;
    cy += (yj + yi) * cross;
  }
  if (Math.abs(a) < 1e-12) {
    let sx = 0;
    let sy = 0;
    for (const [x, y] of ring) {
      sx += x;
      sy += y;
    }
    return [sx / ring.length, sy / ring.length];
  }
  return [cx / (3 * a), cy / (3 * a)];
}

/** Distance from (px, py) to the segment a–b. */
export function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Bearing in degrees clockwise from north of the vector (dx east, dy north), in [0, 360). */
export function bearing(dx: number, dy: number): number {
  const deg = (Math.atan2(dx, dy) * 180) / Math.PI;
  const b = (deg + 360) % 360;
  return b >= 360 ? 0 : b;
}
