/**
 * The map's data rules, without Cesium: which grid holds a point, where a drill-down goes next, how a live
 * metric colours the grids (choropleth classes and legend), how events cluster when zoomed out, and search.
 * Pure functions, unit-tested; the layers in ./layers turn their results into Cesium objects.
 */
import type { AdminUnit, GovEvent, Grid, LonLat, Place, Staff } from '../../../protocol';

// Geometry has one home for the hub, the backend and the map: domain/geometry.ts.
export { GridLocator, boxOf, pointInRing, type Box } from '../../../domain';

// ── drill-down: city → district → street → community → grid ───────────────────────────────────────────

/** Where the map is: the chain of admin units from the city down (empty: the whole city), and a selected grid. */
export interface DrillPath {
  units: string[];
  gridId: string | null;
}

/** The unit ids a grid belongs to, from the top: district, street, community. */
export function unitsOfGrid(grid: Grid): string[] {
  return [grid.districtId, grid.streetId, grid.communityId];
}

/**
 * A click on a grid goes one level further down the path towards it: at the city level into its district,
 * then its street, its community, and at the community level it selects the grid itself. A grid outside the
 * current unit jumps straight to its own district.
 */
export function drillTowards(path: DrillPath, grid: Grid): DrillPath {
  const chain = unitsOfGrid(grid);
  const depth = path.units.length;
  const onPath = path.units.every((id, i) => chain[i] === id);
  if (!onPath) return { units: [chain[0]!], gridId: null };
  if (depth >= chain.length) return { units: path.units, gridId: grid.id };
  return { units: chain.slice(0, depth + 1), gridId: null };
}

/** The grids inside the unit at the end of the path (all of them at the city level). */
export function gridsInPath(grids: Iterable<Grid>, path: DrillPath): Grid[] {
  const out: Grid[] = [];
  for (const grid of grids) {
    const chain = unitsOfGrid(grid);
    if (path.units.every((id, i) => chain[i] === id)) out.push(grid);
  }
  return out;
}

export function breadcrumb(path: DrillPath, units: ReadonlyMap<string, AdminUnit>, grids: ReadonlyMap<string, Grid>): Array<{ id: string | null; name: string; depth: number }> {
  const crumbs = path.units.map((id, depth) => ({ id, name: units.get(id)?.name ?? id, depth: depth + 1 }));
  if (path.gridId) crumbs.push({ id: path.gridId, name: grids.get(path.gridId)?.name ?? path.gridId, depth: crumbs.length + 1 });
  return crumbs;
}

// ── choropleth ─────────────────────────────────────────────────────────────────────────────────────────

export type ChoroplethMetric = 'none' | 'openEvents' | 'overdue' | 'staffOnline';

export interface GridMetricInput {
  events: Iterable<Pick<GovEvent, 'gridId' | 'status' | 'stepDeadline'>>;
  staff: Iterable<Pick<Staff, 'gridId' | 'status'>>;
  nowMs: number;
}

const OPEN = new Set(['new', 'accepted', 'dispatched', 'handling', 'handled', 'followed-up']);

/** The chosen metric per grid id (grids with nothing get 0, or no entry for staffOnline without staff). */
export function gridMetric(metric: ChoroplethMetric, input: GridMetricInput): Map<string, number> {
  const out = new Map<string, number>();
  if (metric === 'openEvents' || metric === 'overdue') {
    for (const e of input.events) {
      if (!OPEN.has(e.status)) continue;
      if (metric === 'overdue' && !(e.stepDeadline !== null && Date.parse(e.stepDeadline) < input.nowMs)) continue;
      out.set(e.gridId, (out.get(e.gridId) ?? 0) + 1);
    }
  } else if (metric === 'staffOnline') {
    const total = new Map<string, number>();
    for (const s of input.staff) {
      total.set(s.gridId, (total.get(s.gridId) ?? 0) + 1);
      if (s.status !== 'offline') out.set(s.gridId, (out.get(s.gridId) ?? 0) + 1);
    }
    for (const [gridId, n] of total) out.set(gridId, (out.get(gridId) ?? 0) / n);
  }
  return out;
}

export interface LegendClass {
  /** Inclusive lower bound. */
  from: number;
  /** Exclusive upper bound (Infinity for the last). */
  to: number;
  color: string;
}

/** Five colours from calm to alarming; for "staff online" the scale runs the other way (low is bad). */
const SCALE = ['#1b3a5c', '#2f6f9f', '#e0b040', '#f07a2a', '#e23a3a'];

/** Fixed, explainable classes (not quantiles, so colours mean the same on every wall and every day). */
export function legendFor(metric: ChoroplethMetric): LegendClass[] {
  if (metric === 'openEvents') return [0, 1, 2, 4, 7].map((from, i, a) => ({ from, to: a[i + 1] ?? Infinity, color: SCALE[i]! }));
  if (metric === 'overdue') return [0, 1, 2, 3, 5].map((from, i, a) => ({ from, to: a[i + 1] ?? Infinity, color: SCALE[i]! }));
  if (metric === 'staffOnline') return [0, 0.25, 0.5, 0.75, 1].map((from, i, a) => ({ from, to: a[i + 1] ?? Infinity, color: SCALE[SCALE.length - 1 - i]! }));
  return [];
}

export function classify(value: number, legend: readonly LegendClass[]): LegendClass | null {
  return legend.find((c) => value >= c.from && value < c.to) ?? null;
}

// ── clustering ─────────────────────────────────────────────────────────────────────────────────────────

export interface Cluster {
  key: string;
  position: LonLat;
  count: number;
  maxSeverity: number;
  ids: string[];
}

/**
 * Zoomed out, events gather per street (the unit a leader reads at city scale): one marker at the mean
 * position with the count and the worst severity. Grids that are unknown still cluster on their own id.
 */
export function clusterByStreet(events: Iterable<Pick<GovEvent, 'id' | 'gridId' | 'location' | 'severity'>>, grids: ReadonlyMap<string, Pick<Grid, 'streetId'>>): Cluster[] {
  const groups = new Map<string, { lon: number; lat: number; count: number; maxSeverity: number; ids: string[] }>();
  for (const e of events) {
    const key = grids.get(e.gridId)?.streetId ?? e.gridId;
    const g = groups.get(key) ?? { lon: 0, lat: 0, count: 0, maxSeverity: 0, ids: [] };
    g.lon += e.location[0];
    g.lat += e.location[1];
    g.count++;
    g.maxSeverity = Math.max(g.maxSeverity, e.severity);
    g.ids.push(e.id);
    groups.set(key, g);
  }
  return [...groups].map(([key, g]) => ({ key, position: [g.lon / g.count, g.lat / g.count], count: g.count, maxSeverity: g.maxSeverity, ids: g.ids }));
}

// ── search ─────────────────────────────────────────────────────────────────────────────────────────────

export interface SearchHit {
  /** unit: a district, street or community (地名); place: a registered place or organisation (场所). */
  kind: 'grid' | 'unit' | 'place' | 'staff' | 'event';
  id: string;
  label: string;
  detail: string;
  position: LonLat;
}

export interface SearchSources {
  grids: Iterable<Grid>;
  staff: Iterable<Pick<Staff, 'id' | 'name' | 'position' | 'gridId'>>;
  events: Iterable<Pick<GovEvent, 'id' | 'title' | 'address' | 'location'>>;
  units: Iterable<AdminUnit>;
  places?: Iterable<Pick<Place, 'id' | 'code' | 'name' | 'address' | 'position'>>;
  gridName: (id: string) => string;
}

/**
 * Grid code (any run of its 15 digits), grid or unit name, place name or code, staff name, event id or title or address.
 * Exact code/id matches first, then the rest in the order above; at most `limit`.
 */
export function search(query: string, sources: SearchSources, limit = 12): SearchHit[] {
  const q = query.trim().toLowerCase();
  if (q.length === 0) return [];
  const exact: SearchHit[] = [];
  const hits: SearchHit[] = [];
  const push = (hit: SearchHit, isExact: boolean): void => void (isExact ? exact : hits).push(hit);
  for (const g of sources.grids) {
    if (g.code.includes(q) || g.name.toLowerCase().includes(q)) push({ kind: 'grid', id: g.id, label: g.name, detail: g.code, position: g.center }, g.code === q);
  }
  for (const u of sources.units) {
    if (u.name.toLowerCase().includes(q)) push({ kind: 'unit', id: u.id, label: u.name, detail: u.code, position: u.center }, u.name === query.trim());
  }
  for (const p of sources.places ?? []) {
    if (p.code.toLowerCase().includes(q) || p.name.toLowerCase().includes(q)) push({ kind: 'place', id: p.id, label: p.name, detail: p.address ? `${p.code} · ${p.address}` : p.code, position: p.position }, p.code.toLowerCase() === q || p.name === query.trim());
  }
  for (const s of sources.staff) {
    if (s.position && s.name.toLowerCase().includes(q)) push({ kind: 'staff', id: s.id, label: s.name, detail: sources.gridName(s.gridId), position: s.position }, s.name === query.trim());
  }
  for (const e of sources.events) {
    if (e.id.toLowerCase().includes(q) || e.title.toLowerCase().includes(q) || e.address.toLowerCase().includes(q)) push({ kind: 'event', id: e.id, label: e.title, detail: `${e.id} · ${e.address}`, position: e.location }, e.id.toLowerCase() === q);
  }
  return [...exact, ...hits].slice(0, limit);
}
