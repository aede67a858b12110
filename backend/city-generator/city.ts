/**
 * A deterministic synthetic city for the simulator and the demo: a jittered street lattice whose cells are the
 * grids (网格), the administrative hierarchy over it, roads, grid staff, cameras, resources and buildings.
 * Pure: the same options give the same city; no clock, no Math.random, no I/O.
 */
import { IsoTime, type AdminUnit, type Camera, type Department, type Grid, type LonLat, type Resource, type ResponsibilityRule, type Staff } from '../../protocol/model';
import { generateCameras, generateResources, generateStaff, type AssetContext, type SensorKind } from './assets';
import { generateBuildings, type BuildingSite, type Buildings } from './buildings';
import { DEPARTMENTS, rulesFromCatalog, type EventPlace } from './catalog';
import { makeProjection, type Projection } from './geometry';
import { buildHierarchy, DISTRICT_COUNT, type Hierarchy } from './hierarchy';
import { cellCorners, makeCellLocator, makeLattice, type Lattice } from './lattice';
import { Rng } from './random';
import { makeRoads, type RoadNetwork } from './roads';

export type { Buildings } from './buildings';
export type { RoadLine, RoadNetwork } from './roads';
export type { SensorKind } from './assets';

export interface CityOptions {
  seed: number | string;
  /** 1 gives ~708 grids (the seed documents' city); 8.5 gives ~6,000. In (0, 20]. */
  scale?: number;
  /** Mean grid staff per grid (default 3); fractions are spread deterministically over the grids. */
  staffPerGrid?: number;
  /** City centre [lon, lat]; default [117.02, 36.66]. */
  center?: [number, number];
  /** The time stamped on generated records (`updatedAt`); default 2026-01-01T00:00:00.000Z. */
  epoch?: string;
}

/** The names eventContent needs for an event in a grid, plus the grid's own name and its four roads. */
export interface GridPlace extends EventPlace {
  gridName: string;
  /** Roads along the grid's edges (south, east, north, west); roadName is one of them. */
  roadNames: string[];
}

export interface City {
  seed: number | string;
  scale: number;
  staffPerGrid: number;
  epoch: string;
  name: string;
  /** Lattice size in cells: grids = cols × rows. */
  cols: number;
  rows: number;
  /** Unjittered cell edge, metres. */
  cellSize: number;
  projection: Projection;
  adminUnits: AdminUnit[];
  grids: Grid[];
  departments: Department[];
  rules: ResponsibilityRule[];
  staff: Staff[];
  /** Per staff member (same order): the road node they stand at. */
  staffNode: Uint32Array;
  cameras: Camera[];
  resources: Resource[];
  /** Per sensor resource id: what it measures. */
  sensorKinds: Record<string, SensorKind>;
  roads: RoadNetwork;
  buildings: Buildings;
  gridIndexById: ReadonlyMap<string, number>;
  /** Index into grids of the grid containing the point, or null outside the city. */
  gridIndexOf(lon: number, lat: number): number | null;
  placeOfGrid(gridIndex: number): GridPlace;
}

export const DEFAULT_CENTER: [number, number] = [117.02, 36.66];
export const DEFAULT_EPOCH = '2026-01-01T00:00:00.000Z';
const GRIDS_AT_SCALE_1 = 708;
const ASPECT = 1.25; // cols / rows
const MAX_SCALE = 20;
const CAMERAS_PER_GRID = 1.8;

interface Settings {
  seed: number | string;
  scale: number;
  staffPerGrid: number;
  center: [number, number];
  epoch: string;
}

function fail(option: string, expected: string, got: unknown): never {
  throw new Error(`generateCity: option "${option}" must be ${expected}, got ${typeof got === 'string' ? JSON.stringify(got) : String(got)}`);
}

function validate(options: CityOptions): Settings {
  const { seed, scale = 1, staffPerGrid = 3, center = DEFAULT_CENTER, epoch = DEFAULT_EPOCH } = options;
  if (!(typeof seed === 'string' || (typeof seed === 'number' && Number.isFinite(seed)))) fail('seed', 'a finite number or a string', seed);
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0 || scale > MAX_SCALE) fail('scale', `a number in (0, ${MAX_SCALE}]`, scale);
  if (typeof staffPerGrid !== 'number' || !Number.isFinite(staffPerGrid) || staffPerGrid < 0 || staffPerGrid > 50) {
    fail('staffPerGrid', 'a number in [0, 50]', staffPerGrid);
  }
  const [lon, lat] = center;
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 179 || Math.abs(lat) > 80) fail('center', '[lon, lat] with |lon| <= 179 and |lat| <= 80', center);
  if (!IsoTime.safeParse(epoch).success) fail('epoch', 'an ISO 8601 date-time with offset', epoch);
  return { seed, scale, staffPerGrid, center: [lon, lat], epoch };
}

/** Lattice size for a target grid count of 708 × scale, at least 5 columns (one per district) and 2 rows. */
export function latticeSize(scale: number): { cols: number; rows: number } {
  const target = GRIDS_AT_SCALE_1 * scale;
  const cols = Math.max(DISTRICT_COUNT, Math.round(Math.sqrt(target * ASPECT)));
  const rows = Math.max(2, Math.round(target / cols));
  return { cols, rows };
}

/** Per grid: the road names along its four edges, south, east, north, west (see lattice.ts for the corner order). */
function edgeRoadNames(l: Lattice, h: Hierarchy, roads: RoadNetwork): string[][] {
  return Array.from(h.gridCell, (cell) => {
    const c = cellCorners(l, cell);
    return [0, 1, 2, 3].map((k) => {
      const e = roads.edgeBetween(c[k] as number, c[(k + 1) % 4] as number);
      return roads.names[e] ?? '';
    });
  });
}

/** Buildings rise towards the middle: tall in the central district, low-rise in the rural outer ones. */
function buildingSites(l: Lattice, h: Hierarchy): BuildingSite[] {
  const DISTRICT_HEIGHT = [10, 24, 36, 24, 10];
  const maxDistance = Math.hypot(l.cols, l.rows) / 2;
  return Array.from(h.gridCell, (cell, g): BuildingSite => {
    const corners = cellCorners(l, cell).map((v): [number, number] => [l.x[v] as number, l.y[v] as number]);
    const i = cell % l.cols;
    const j = (cell - i) / l.cols;
    const fromCentre = Math.hypot(i + 0.5 - l.cols / 2, j + 0.5 - l.rows / 2) / maxDistance; // 0..1
    const district = h.gridDistrict[g] as number;
    const rural = district === 0 || district === DISTRICT_COUNT - 1;
    return {
      corners,
      heightMedian: (DISTRICT_HEIGHT[district] ?? 10) * (1.35 - 0.7 * fromCentre),
      occupancy: rural ? 0.72 : 0.86,
      footprint: rural ? [0.3, 0.55] : [0.45, 0.78],
    };
  });
}

export function generateCity(options: CityOptions): City {
  const settings = validate(options);
  const rng = new Rng(settings.seed);
  const { cols, rows } = latticeSize(settings.scale);
  const layoutRng = rng.fork('layout');
  const cellSize = layoutRng.float(370, 430);
  const projection = makeProjection(settings.center);
  const lattice = makeLattice(layoutRng, cols, rows, cellSize, layoutRng.float(-12, 12), projection);
  const hierarchy = buildHierarchy(rng.fork('hierarchy'), lattice, projection);
  const roads = makeRoads(rng.fork('roads'), lattice, hierarchy.gridCell);
  const edgeRoads = edgeRoadNames(lattice, hierarchy, roads);
  const ctx: AssetContext = { lattice, projection, hierarchy, roads, edgeRoads };
  const { staff, staffNode } = generateStaff(rng.fork('staff'), ctx, settings.staffPerGrid, settings.epoch);
  const cameras = generateCameras(rng.fork('cameras'), ctx, CAMERAS_PER_GRID);
  const { resources, sensorKinds } = generateResources(rng.fork('resources'), ctx);
  const buildings = generateBuildings(rng.fork('buildings'), buildingSites(lattice, hierarchy), projection);

  const placeRng = rng.fork('places');
  const places: GridPlace[] = hierarchy.names.map((n, g) => {
    const roadNames = [...new Set(edgeRoads[g])];
    return { ...n, roadNames, roadName: placeRng.pick(roadNames) };
  });
  const locate = makeCellLocator(lattice, projection);

  return {
    seed: settings.seed,
    scale: settings.scale,
    staffPerGrid: settings.staffPerGrid,
    epoch: settings.epoch,
    name: hierarchy.adminUnits[0]?.name ?? '',
    cols,
    rows,
    cellSize,
    projection,
    adminUnits: hierarchy.adminUnits,
    grids: hierarchy.grids,
    departments: DEPARTMENTS.map((d) => ({ ...d })),
    rules: rulesFromCatalog(),
    staff,
    staffNode,
    cameras,
    resources,
    sensorKinds,
    roads,
    buildings,
    gridIndexById: new Map(hierarchy.grids.map((g, i) => [g.id, i])),
    gridIndexOf: (lon, lat) => {
      const cell = locate(lon, lat);
      return cell < 0 ? null : (hierarchy.cellGrid[cell] ?? null);
    },
    placeOfGrid: (g) => {
      const place = places[g];
      if (!place) throw new Error(`placeOfGrid: no grid ${g}`);
      return place;
    },
  };
}

/** The city's outline in degrees (the city AdminUnit's polygon). */
export function cityOutline(city: City): LonLat[] {
  return city.adminUnits[0]?.polygon ?? [];
}
