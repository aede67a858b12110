/**
 * The city's street lattice: (cols+1)×(rows+1) jittered vertices shared by neighbouring quadrilateral cells,
 * so the cells (the grids) tile the city with no gaps and no overlaps and their boundaries run along streets.
 * Node (i, j) has index j*(cols+1)+i; i grows eastwards and j northwards before the lattice is rotated.
 * Cell (i, j) has index j*cols+i and corners, counter-clockwise: (i,j) (i+1,j) (i+1,j+1) (i,j+1).
 */
import type { LonLat } from '../../protocol/model';
import { roundDeg, type Projection } from './geometry';
import type { Rng } from './random';

/** Each vertex moves by at most this share of a cell per axis: the cells stay convex (see jitterNodes). */
export const JITTER = 0.18;

export interface Lattice {
  readonly cols: number;
  readonly rows: number;
  /** Edge length of an unjittered cell, metres. */
  readonly cellSize: number;
  /** Rotation of the whole lattice, degrees counter-clockwise. */
  readonly rotation: number;
  readonly nodeCount: number;
  /** Node coordinates in degrees (rounded to 1e-7): exactly what the polygons carry. */
  readonly lon: Float64Array;
  readonly lat: Float64Array;
  /** The same nodes in local metres (projected from the rounded degrees, so both agree). */
  readonly x: Float64Array;
  readonly y: Float64Array;
}

export function nodeIndex(l: Pick<Lattice, 'cols'>, i: number, j: number): number {
  return j * (l.cols + 1) + i;
}

export function cellCorners(l: Pick<Lattice, 'cols'>, cell: number): [number, number, number, number] {
  const i = cell % l.cols;
  const j = (cell - i) / l.cols;
  const n = l.cols + 1;
  return [j * n + i, j * n + i + 1, (j + 1) * n + i + 1, (j + 1) * n + i];
}

/**
 * Jittered, rotated lattice. Convexity: a corner of a unit square is √2/2 from the diagonal of its neighbours;
 * moving every vertex by at most JITTER·√2 ≈ 0.25 per vertex cannot close that gap (0.25 + 0.25 < 0.707).
 */
export function makeLattice(rng: Rng, cols: number, rows: number, cellSize: number, rotation: number, projection: Projection): Lattice {
  const nodeCount = (cols + 1) * (rows + 1);
  const lon = new Float64Array(nodeCount);
  const lat = new Float64Array(nodeCount);
  const x = new Float64Array(nodeCount);
  const y = new Float64Array(nodeCount);
  const cos = Math.cos((rotation * Math.PI) / 180);
  const sin = Math.sin((rotation * Math.PI) / 180);
  for (let j = 0; j <= rows; j++) {
    for (let i = 0; i <= cols; i++) {
      const v = j * (cols + 1) + i;
      const lx = (i - cols / 2 + rng.float(-JITTER, JITTER)) * cellSize;
      const ly = (j - rows / 2 + rng.float(-JITTER, JITTER)) * cellSize;
      const [lo, la] = projection.toLonLat(lx * cos - ly * sin, lx * sin + ly * cos);
      lon[v] = roundDeg(lo);
      lat[v] = roundDeg(la);
      const [px, py] = projection.toLocal(lon[v], lat[v]);
      x[v] = px;
      y[v] = py;
    }
  }
  return { cols, rows, cellSize, rotation, nodeCount, lon, lat, x, y };
}

export function nodeLonLat(l: Lattice, v: number): LonLat {
  return [l.lon[v] as number, l.lat[v] as number];
}

/** Crossing-number test against cell `cell` in degrees (the same rule as domain/geometry.ts pointInRing). */
function inCell(l: Lattice, cell: number, lon: number, lat: number): boolean {
  const corners = cellCorners(l, cell);
  let inside = false;
  for (let k = 0, m = 3; k < 4; m = k++) {
    const a = corners[k] as number;
    const b = corners[m] as number;
    const xi = l.lon[a] as number;
    const yi = l.lat[a] as number;
    const xj = l.lon[b] as number;
    const yj = l.lat[b] as number;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The centre cell first, then its neighbours: jitter moves a boundary by less than a cell, so one of these holds the point. */
const SEARCH_ORDER: ReadonlyArray<readonly [number, number]> = [
  [0, 0], [-1, 0], [1, 0], [0, -1], [0, 1], [-1, -1], [1, -1], [-1, 1], [1, 1],
];

/** The cell containing (lon, lat), or -1: un-rotate into lattice space, then test the nearby cells. */
export function makeCellLocator(l: Lattice, projection: Projection): (lon: number, lat: number) => number {
  const cos = Math.cos((l.rotation * Math.PI) / 180);
  const sin = Math.sin((l.rotation * Math.PI) / 180);
  return (lon, lat) => {
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) return -1;
    const [x, y] = projection.toLocal(lon, lat);
    const fi = (x * cos + y * sin) / l.cellSize + l.cols / 2;
    const fj = (-x * sin + y * cos) / l.cellSize + l.rows / 2;
    const i0 = Math.floor(fi);
    const j0 = Math.floor(fj);
    if (i0 < -1 || i0 > l.cols || j0 < -1 || j0 > l.rows) return -1;
    for (const [di, dj] of SEARCH_ORDER) {
      const i = i0 + di;
      const j = j0 + dj;
      if (i < 0 || j < 0 || i >= l.cols || j >= l.rows) continue;
      const cell = j * l.cols + i;
      if (inCell(l, cell, lon, lat)) return cell;
    }
    return -1;
  };
}
