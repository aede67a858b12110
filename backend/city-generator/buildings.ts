/**
 * Building footprints for the 3D map: rectangles on a 7×7 sub-grid inside each cell, turned to follow the cell's
 * orientation, shrunk where needed so that no footprint crosses its cell's edges (the streets).
 * Stored column-wise in typed arrays: tens of thousands of buildings cost a few megabytes and no objects.
 */
import type { LonLat } from '../../protocol/model';
import { distanceToSegment, type Projection } from './geometry';
import type { Rng } from './random';

export interface Buildings {
  count: number;
  /** Footprint centre, degrees. */
  lon: Float64Array;
  lat: Float64Array;
  /** Side along the `rotation` axis, metres. */
  width: Float32Array;
  /** Side perpendicular to it, metres. */
  depth: Float32Array;
  /** Direction of the width side, degrees counter-clockwise from east. */
  rotation: Float32Array;
  /** Metres, 6–120. */
  height: Float32Array;
  /** Index into City.grids. */
  gridIndex: Uint32Array;
}

/** What the generator needs to know about each grid's cell. */
export interface BuildingSite {
  /** The four corners in local metres, counter-clockwise. */
  corners: readonly [number, number][];
  /** Median building height here, metres. */
  heightMedian: number;
  /** Share of sub-cells that get a building. */
  occupancy: number;
  /** Footprint share of a sub-cell, [min, max). */
  footprint: readonly [number, number];
}

const SUB = 7; // sub-cells per side: 49 slots, ~40 buildings at the usual occupancy
const MARGIN = 0.05; // share of the cell kept free along each edge (road and pavement)
const EDGE_CLEARANCE = 2; // metres between a footprint and the cell edge, at least
export const MIN_HEIGHT = 6;
export const MAX_HEIGHT = 120;

function emptyBuildings(capacity: number): Buildings {
  return {
    count: 0,
    lon: new Float64Array(capacity),
    lat: new Float64Array(capacity),
    width: new Float32Array(capacity),
    depth: new Float32Array(capacity),
    rotation: new Float32Array(capacity),
    height: new Float32Array(capacity),
    gridIndex: new Uint32Array(capacity),
  };
}

/** Copies the used part into right-sized arrays so the result holds no slack. */
function trimmed(b: Buildings): Buildings {
  const n = b.count;
  return {
    count: n,
    lon: b.lon.slice(0, n),
    lat: b.lat.slice(0, n),
    width: b.width.slice(0, n),
    depth: b.depth.slice(0, n),
    rotation: b.rotation.slice(0, n),
    height: b.height.slice(0, n),
    gridIndex: b.gridIndex.slice(0, n),
  };
}

function minEdgeDistance(px: number, py: number, c: readonly [number, number][]): number {
  let d = Infinity;
  for (let k = 0; k < 4; k++) {
    const [ax, ay] = c[k] as [number, number];
    const [bx, by] = c[(k + 1) % 4] as [number, number];
    d = Math.min(d, distanceToSegment(px, py, ax, ay, bx, by));
  }
  return d;
}

export function generateBuildings(rng: Rng, sites: readonly BuildingSite[], projection: Projection): Buildings {
  const out = emptyBuildings(sites.length * SUB * SUB);
  const span = 1 - 2 * MARGIN;
  sites.forEach((site, g) => {
    const [p0, p1, p2, p3] = site.corners as [[number, number], [number, number], [number, number], [number, number]];
    for (let a = 0; a < SUB; a++) {
      for (let b = 0; b < SUB; b++) {
        if (!rng.chance(site.occupancy)) continue;
        const u = MARGIN + ((a + 0.5) / SUB) * span;
        const v = MARGIN + ((b + 0.5) / SUB) * span;
        // Bilinear position in the quad and its partial derivatives (the local axes of the cell).
        const px = (1 - u) * (1 - v) * p0[0] + u * (1 - v) * p1[0] + u * v * p2[0] + (1 - u) * v * p3[0];
        const py = (1 - u) * (1 - v) * p0[1] + u * (1 - v) * p1[1] + u * v * p2[1] + (1 - u) * v * p3[1];
        const dux = (1 - v) * (p1[0] - p0[0]) + v * (p2[0] - p3[0]);
        const duy = (1 - v) * (p1[1] - p0[1]) + v * (p2[1] - p3[1]);
        const dvx = (1 - u) * (p3[0] - p0[0]) + u * (p2[0] - p1[0]);
        const dvy = (1 - u) * (p3[1] - p0[1]) + u * (p2[1] - p1[1]);
        const lenU = Math.hypot(dux, duy);
        // Sub-cell pitch along the width axis, and perpendicular to it (the cell may be sheared).
        const pitchU = (lenU * span) / SUB;
        const pitchV = ((Math.abs(dux * dvy - duy * dvx) / lenU) * span) / SUB;
        let width = pitchU * rng.float(site.footprint[0], site.footprint[1]);
        let depth = pitchV * rng.float(site.footprint[0], site.footprint[1]);
        // A disc around the centre that clears every edge holds the whole rectangle, whatever its angle.
        const room = minEdgeDistance(px, py, site.corners) - EDGE_CLEARANCE;
        const halfDiagonal = Math.hypot(width, depth) / 2;
        if (room < 3) continue;
        if (halfDiagonal > room) {
          width *= room / halfDiagonal;
          depth *= room / halfDiagonal;
        }
        const height = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, rng.logNormal(site.heightMedian, 0.45)));
        const k = out.count++;
        const [lon, lat] = projection.toLonLat(px, py);
        out.lon[k] = lon;
        out.lat[k] = lat;
        out.width[k] = width;
        out.depth[k] = depth;
        out.rotation[k] = (Math.atan2(duy, dux) * 180) / Math.PI;
        out.height[k] = height;
        out.gridIndex[k] = g;
      }
    }
  });
  return trimmed(out);
}

/** The four footprint corners of building k, counter-clockwise, in degrees (for drawing and for tests). */
export function buildingCorners(b: Buildings, k: number, projection: Projection): LonLat[] {
  const [cx, cy] = projection.toLocal(b.lon[k] as number, b.lat[k] as number);
  const r = ((b.rotation[k] as number) * Math.PI) / 180;
  const hw = (b.width[k] as number) / 2;
  const hd = (b.depth[k] as number) / 2;
  const ux = Math.cos(r);
  const uy = Math.sin(r);
  return [
    [-hw, -hd],
    [hw, -hd],
    [hw, hd],
    [-hw, hd],
  ].map(([s, t]) => projection.toLonLat(cx + (s as number) * ux - (t as number) * uy, cy + (s as number) * uy + (t as number) * ux));
}
