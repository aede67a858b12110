/**
 * Grid staff on duty on foot or on e-bikes: along the generated city's roads (the own grid's boundary roads, an
 * occasional block beyond), or on an imported city — no roads known — in straight legs between random points of
 * the own grid's polygon, never leaving it.
 */
import type { LonLat, Staff } from '../../protocol';
import { pointInRing } from '../../domain';
import { Rng } from '../city-generator/random';
import type { SimCity } from './engine';
import { nextWaypoint, randomPointIn } from './stored-city';

export interface Walker {
  gridIndex: number;
  gridId: string;
  from: number;
  to: number;
  /** On an imported city (no roads): the straight leg being walked inside the grid. */
  leg?: { from: LonLat; to: LonLat };
  /** Metres done on the current edge, and its length. */
  done: number;
  length: number;
  speed: number;
  /** Personal place in the duty roster (0..1): on duty when below the hour's on-duty share. */
  roster: number;
}

export function newWalker(rng: Rng, staff: Staff, gridIndex: number, city: SimCity): Walker {
  const roads = city.roads;
  const corners = roads ? roads.nodesOfGrid(gridIndex) : [];
  const from = corners.length > 0 ? (corners[rng.int(0, corners.length - 1)] ?? 0) : 0;
  const r = new Rng(`roster:${staff.id}`);
  const w: Walker = { gridIndex, gridId: staff.gridId, from, to: from, done: 0, length: 0, speed: r.chance(0.3) ? r.float(3.5, 5) : r.float(1.1, 1.5), roster: r.next() };
  const grid = city.grids[gridIndex];
  if (!roads && grid) {
    const start = staff.position && pointInRing(staff.position, grid.polygon) ? staff.position : randomPointIn(rng, grid.polygon, grid.center);
    w.leg = { from: start, to: start };
  }
  return w;
}

/** Starts the walker on its next edge (road) or leg (imported city). */
export function nextLeg(rng: Rng, w: Walker, city: SimCity, nodeXY: ReadonlyArray<readonly [number, number]>, mPerDegLon: number): void {
  const roads = city.roads;
  const grid = city.grids[w.gridIndex];
  if (!roads || w.leg) {
    const from = w.leg?.to ?? grid?.center ?? [0, 0];
    const to = grid ? nextWaypoint(rng, from, grid) : from;
    w.leg = { from, to };
    w.done = 0;
    w.length = Math.hypot((to[0] - from[0]) * mPerDegLon, (to[1] - from[1]) * 110_574) || 1;
    return;
  }
  const home = new Set(roads.nodesOfGrid(w.gridIndex));
  const options = roads.neighbours(w.to);
  // Patrol the own grid's boundary roads, with an occasional step beyond (one block at most).
  const near = options.filter((n) => home.has(n) || roads.neighbours(n).some((m) => home.has(m)));
  const pool = home.has(w.to) ? (rng.chance(0.85) ? options.filter((n) => home.has(n)) : near) : options.filter((n) => home.has(n));
  const next = rng.pick(pool.length > 0 ? pool : options.length > 0 ? options : [w.to]);
  const [ax, ay] = nodeXY[w.to]!;
  const [bx, by] = nodeXY[next]!;
  w.from = w.to;
  w.to = next;
  w.done = 0;
  w.length = Math.hypot(bx - ax, by - ay) || 1;
}
