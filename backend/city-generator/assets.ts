/**
 * What sits on the map besides grids and buildings: grid staff (网格员), cameras (天网/雪亮) and other resources
 * (派出所, 对讲, 传感器). Every item lies strictly inside its grid so a point lookup gives the same grid back.
 */
import type { Camera, Grid, LonLat, Resource, Staff } from '../../protocol/model';
import { bearing, roundDeg, type Projection } from './geometry';
import type { Hierarchy } from './hierarchy';
import { cellCorners, type Lattice } from './lattice';
import { mobilePhone, personName, stripAdminSuffix } from './names';
import type { Rng } from './random';
import type { RoadNetwork } from './roads';

export type SensorKind = 'water-level' | 'smoke' | 'manhole';

/** Everything the generators below read. */
export interface AssetContext {
  lattice: Lattice;
  projection: Projection;
  hierarchy: Hierarchy;
  roads: RoadNetwork;
  /** Per grid: the names of the roads along its four edges (south, east, north, west). */
  edgeRoads: string[][];
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function corners(ctx: AssetContext, g: number): [number, number, number, number] {
  return cellCorners(ctx.lattice, ctx.hierarchy.gridCell[g] as number);
}

/** Local metres of a point at (u, v) in the unit square mapped bilinearly onto the grid's quad (convex: stays inside). */
function pointInGrid(ctx: AssetContext, g: number, u: number, v: number): [number, number] {
  const [a, b, c, d] = corners(ctx, g);
  const { x, y } = ctx.lattice;
  const w = [(1 - u) * (1 - v), u * (1 - v), u * v, (1 - u) * v] as const;
  return [
    w[0] * (x[a] as number) + w[1] * (x[b] as number) + w[2] * (x[c] as number) + w[3] * (x[d] as number),
    w[0] * (y[a] as number) + w[1] * (y[b] as number) + w[2] * (y[c] as number) + w[3] * (y[d] as number),
  ];
}

function toLonLat(ctx: AssetContext, x: number, y: number): LonLat {
  const [lon, lat] = ctx.projection.toLonLat(x, y);
  return [roundDeg(lon), roundDeg(lat)];
}

/** A random spot well inside the grid. */
function spotInGrid(ctx: AssetContext, rng: Rng, g: number, margin: number): LonLat {
  const [x, y] = pointInGrid(ctx, g, rng.float(margin, 1 - margin), rng.float(margin, 1 - margin));
  return toLonLat(ctx, x, y);
}

/** How many of something a grid gets for a mean `rate`: floor(rate), plus one more with the leftover probability. */
function countFor(rng: Rng, rate: number): number {
  const whole = Math.floor(rate);
  return whole + (rng.chance(rate - whole) ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Staff

/** Staff per grid by error diffusion: a fractional rate such as 1.7 gives 1s and 2s adding up to round(n·rate). */
export function staffCounts(gridCount: number, perGrid: number): number[] {
  return Array.from({ length: gridCount }, (_, g) => Math.floor((g + 1) * perGrid + 0.5) - Math.floor(g * perGrid + 0.5));
}

/** A fresh array: the simulator moves staff by replacing or editing positions, never the road nodes. */
function nodeCopy(ctx: AssetContext, node: number): LonLat {
  return [ctx.lattice.lon[node] as number, ctx.lattice.lat[node] as number];
}

export function generateStaff(rng: Rng, ctx: AssetContext, perGrid: number, epoch: string): { staff: Staff[]; staffNode: Uint32Array } {
  const staff: Staff[] = [];
  const nodes: number[] = [];
  const phones = new Set<string>();
  const uniquePhone = (): string => {
    let p = mobilePhone(rng);
    while (phones.has(p)) p = mobilePhone(rng);
    phones.add(p);
    return p;
  };
  const counts = staffCounts(ctx.hierarchy.grids.length, perGrid);
  ctx.hierarchy.grids.forEach((grid, g) => {
    const gridCorners = corners(ctx, g);
    for (let k = 0; k < (counts[g] as number); k++) {
      const id = `s${pad(staff.length + 1, 5)}`;
      const node = rng.pick(gridCorners);
      nodes.push(node);
      staff.push({
        id,
        name: personName(rng),
        phone: uniquePhone(),
        role: k === 0 ? 'grid-leader' : rng.chance(0.55) ? 'full-time' : 'part-time',
        gridId: grid.id,
        districtId: grid.districtId,
        status: 'idle',
        position: nodeCopy(ctx, node),
        sipUser: id,
        openTasks: 0,
        updatedAt: epoch,
      });
    }
  });
  // 下沉干部: one per three grids, pre-assigned to a grid, off duty (standby) until a level calls them. Drawn from a
  // stream of their own after everyone else, so the rest of the city is the same with or without them.
  const cadreRng = rng.fork('cadres');
  ctx.hierarchy.grids.forEach((grid, g) => {
    if (g % 3 !== 0 || perGrid === 0) return;
    const id = `s${pad(staff.length + 1, 5)}`;
    const node = cadreRng.pick(corners(ctx, g));
    nodes.push(node);
    let phone = mobilePhone(cadreRng);
    while (phones.has(phone)) phone = mobilePhone(cadreRng);
    phones.add(phone);
    staff.push({ id, name: personName(cadreRng), phone, role: 'cadre', gridId: grid.id, districtId: grid.districtId, status: 'offline', position: nodeCopy(ctx, node), sipUser: id, openTasks: 0, updatedAt: epoch });
  });
  return { staff, staffNode: Uint32Array.from(nodes) };
}

// ---------------------------------------------------------------------------------------------------------------
// Cameras

/** Which corner of the intersection a camera stands at, by the corner's place in the cell (see lattice.ts). */
const CORNER_SIDE = ['东北角', '西北角', '西南角', '东南角'] as const;
/** Edge k of a cell runs from corner k to corner k+1: south, east, north, west. */
const EDGE_SIDE = ['南', '东', '北', '西'] as const;

/** Keeps camera names unique by numbering repeats. */
function uniqueNamer(): (name: string) => string {
  const seen = new Map<string, number>();
  return (name) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}${n}号`;
  };
}

function cameraAtCorner(ctx: AssetContext, rng: Rng, g: number, k: number): { position: LonLat; heading: number; name: string } {
  const [cx, cy] = pointInGrid(ctx, g, 0.5, 0.5);
  const node = corners(ctx, g)[k] as number;
  const nx = ctx.lattice.x[node] as number;
  const ny = ctx.lattice.y[node] as number;
  // On a pole a few metres into the block, looking across the intersection.
  const px = nx + 0.03 * (cx - nx);
  const py = ny + 0.03 * (cy - ny);
  const [ns, ew] = ctx.roads.linesAtNode(node);
  const name = `${ctx.roads.lines[ns]?.name}与${ctx.roads.lines[ew]?.name}交叉口${CORNER_SIDE[k]}`;
  return { position: toLonLat(ctx, px, py), heading: normaliseHeading(bearing(nx - px, ny - py) + rng.float(-35, 35)), name };
}

function cameraOnEdge(ctx: AssetContext, rng: Rng, g: number, k: number): { position: LonLat; heading: number; name: string } {
  const c = corners(ctx, g);
  const a = c[k] as number;
  const b = c[(k + 1) % 4] as number;
  const { x, y } = ctx.lattice;
  const t = rng.float(0.25, 0.75);
  const ex = (x[a] as number) + t * ((x[b] as number) - (x[a] as number));
  const ey = (y[a] as number) + t * ((y[b] as number) - (y[a] as number));
  const [cx, cy] = pointInGrid(ctx, g, 0.5, 0.5);
  const px = ex + 0.04 * (cx - ex);
  const py = ey + 0.04 * (cy - ey);
  // Either along the road (one way or the other) or across it at a gate.
  const along = bearing((x[b] as number) - (x[a] as number), (y[b] as number) - (y[a] as number));
  const heading = normaliseHeading(rng.pick([along, along + 180, bearing(ex - px, ey - py)]) + rng.float(-15, 15));
  const road = ctx.edgeRoads[g]?.[k] ?? '';
  const name = rng.chance(0.5) ? `${ctx.hierarchy.names[g]?.communityName}${EDGE_SIDE[k]}门` : `${road}${rng.int(1, 300)}号`;
  return { position: toLonLat(ctx, px, py), heading, name };
}

function normaliseHeading(deg: number): number {
  const h = Math.round((((deg % 360) + 360) % 360) * 10) / 10;
  return h >= 360 ? 0 : h;
}

export function generateCameras(rng: Rng, ctx: AssetContext, perGrid: number): Camera[] {
  const cameras: Camera[] = [];
  const uniqueName = uniqueNamer();
  ctx.hierarchy.grids.forEach((grid, g) => {
    const district = ctx.hierarchy.gridDistrict[g] as number;
    const kind = district === 0 || district === 4 ? 'xueliang' : 'tianwang'; // 雪亮 in the outer (rural) districts
    const slots = rng.shuffle([0, 1, 2, 3]); // at most one camera per corner and per edge of a grid
    const n = Math.min(4, countFor(rng, perGrid));
    for (let s = 0; s < n; s++) {
      const k = slots[s] as number;
      const placed = rng.chance(0.65) ? cameraAtCorner(ctx, rng, g, k) : cameraOnEdge(ctx, rng, g, k);
      const id = `cam${pad(cameras.length + 1, 4)}`;
      cameras.push({
        id,
        name: uniqueName(placed.name),
        kind,
        position: placed.position,
        heading: placed.heading,
        fov: rng.int(50, 90),
        gridId: grid.id,
        districtId: grid.districtId,
        online: rng.chance(0.97),
        // Served live by the backend (relative to its URL). A few old cameras only speak H.265, which many
        // PCs cannot decode: the wall must say so rather than show black.
        streams: (['mpegts', 'hls'] as const).map((protocol) => ({ protocol, url: protocol === 'hls' ? `/video/${id}/index.m3u8` : `/video/${id}`, codec: cameras.length % 97 === 41 ? 'h265' : 'h264' })),
      });
    }
  });
  return cameras;
}

// ---------------------------------------------------------------------------------------------------------------
// Resources

function policeStations(rng: Rng, ctx: AssetContext): Resource[] {
  return ctx.hierarchy.streets.map((street, s) => {
    const g = rng.pick(street.gridIndices);
    const grid = ctx.hierarchy.grids[g] as Grid;
    return {
      id: `ps${pad(s + 1, 4)}`,
      kind: 'police-station',
      name: `${stripAdminSuffix(street.unit.name)}派出所`,
      position: spotInGrid(ctx, rng, g, 0.3),
      gridId: grid.id,
      districtId: grid.districtId,
      online: true,
    };
  });
}

function intercoms(rng: Rng, ctx: AssetContext): Resource[] {
  const out: Resource[] = [];
  const perCommunity = new Map<string, number>();
  ctx.hierarchy.grids.forEach((grid, g) => {
    const n = rng.weighted([[0, 0.55], [1, 0.4], [2, 0.05]] as const); // mean 0.5 per grid
    for (let k = 0; k < n; k++) {
      const seq = (perCommunity.get(grid.communityId) ?? 0) + 1;
      perCommunity.set(grid.communityId, seq);
      out.push({
        id: `ic${pad(out.length + 1, 4)}`,
        kind: 'intercom',
        name: `${ctx.hierarchy.names[g]?.communityName}${seq}号对讲终端`,
        position: spotInGrid(ctx, rng, g, 0.15),
        gridId: grid.id,
        districtId: grid.districtId,
        online: rng.chance(0.95),
      });
    }
  });
  return out;
}

function sensors(rng: Rng, ctx: AssetContext, kinds: Record<string, SensorKind>): Resource[] {
  const out: Resource[] = [];
  const uniqueName = uniqueNamer();
  ctx.hierarchy.grids.forEach((grid, g) => {
    const n = rng.weighted([[0, 0.35], [1, 0.5], [2, 0.15]] as const); // mean 0.8 per grid
    for (let k = 0; k < n; k++) {
      const kind = rng.weighted([['smoke', 0.45], ['manhole', 0.35], ['water-level', 0.2]] as const);
      const road = rng.pick(ctx.edgeRoads[g] ?? ['']);
      const community = ctx.hierarchy.names[g]?.communityName ?? '';
      const name =
        kind === 'smoke' ? `${community}${rng.int(1, 32)}号楼烟感` : kind === 'manhole' ? `${road}${rng.int(1, 300)}号井盖监测` : `${road}积水监测点`;
      const id = `sn${pad(out.length + 1, 4)}`;
      kinds[id] = kind;
      out.push({
        id,
        kind: 'sensor',
        name: uniqueName(name),
        position: spotInGrid(ctx, rng, g, 0.1),
        gridId: grid.id,
        districtId: grid.districtId,
        online: rng.chance(0.96),
      });
    }
  });
  return out;
}

export function generateResources(rng: Rng, ctx: AssetContext): { resources: Resource[]; sensorKinds: Record<string, SensorKind> } {
  const sensorKinds: Record<string, SensorKind> = {};
  const resources = [
    ...policeStations(rng.fork('police'), ctx),
    ...intercoms(rng.fork('intercoms'), ctx),
    ...sensors(rng.fork('sensors'), ctx, sensorKinds),
  ];
  return { resources, sensorKinds };
}
