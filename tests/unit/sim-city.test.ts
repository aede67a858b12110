import { beforeAll, describe, expect, it } from 'vitest';
import { AdminUnit, Camera, Department, Grid, Resource, ResponsibilityRule, Staff, type LonLat } from '../../protocol/model';
import { buildingCorners } from '../../backend/city-generator/buildings';
import { generateCity, type City } from '../../backend/city-generator/city';
import { Rng } from '../../backend/city-generator/random';

type Pt = readonly [number, number];

/** Crossing-number point-in-polygon, written here independently of the generator's own. */
function inside(x: number, y: number, ring: readonly Pt[]): boolean {
  let c = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

function areaM2(city: City, ring: readonly LonLat[]): number {
  const pts = ring.map(([lon, lat]) => city.projection.toLocal(lon, lat));
  let s = 0;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) s += pts[j]![0] * pts[i]![1] - pts[i]![0] * pts[j]![1];
  return s / 2;
}

/** Everything but functions, Maps and typed arrays, as comparable JSON. */
function plain(city: City): string {
  const { projection: _p, roads, buildings: _b, staffNode: _s, gridIndexById: _g, gridIndexOf: _gi, placeOfGrid: _pg, ...rest } = city;
  const { neighbours: _n, edgeBetween: _e, nodesOfGrid: _ng, linesAtNode: _l, ...roadData } = roads;
  return JSON.stringify({ ...rest, roads: roadData, places: city.grids.map((_, g) => city.placeOfGrid(g)) });
}

function typedArraysEqual(a: City, b: City): boolean {
  const keys = ['lon', 'lat', 'width', 'depth', 'rotation', 'height', 'gridIndex'] as const;
  if (a.buildings.count !== b.buildings.count) return false;
  for (const k of keys) {
    const x = a.buildings[k];
    const y = b.buildings[k];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  return a.staffNode.length === b.staffNode.length && a.staffNode.every((v, i) => v === b.staffNode[i]);
}

describe('generateCity at scale 1', () => {
  let city: City;
  beforeAll(() => {
    city = generateCity({ seed: 7 });
  });

  it('every record satisfies the wire model', () => {
    for (const u of city.adminUnits) AdminUnit.parse(u);
    for (const g of city.grids) Grid.parse(g);
    for (const s of city.staff) Staff.parse(s);
    for (const c of city.cameras) Camera.parse(c);
    for (const r of city.resources) Resource.parse(r);
    for (const d of city.departments) Department.parse(d);
    for (const r of city.rules) ResponsibilityRule.parse(r);
    expect(city.departments.length).toBeGreaterThanOrEqual(12);
    expect(city.rules.length).toBeGreaterThanOrEqual(18);
    const deptIds = new Set(city.departments.map((d) => d.id));
    for (const r of city.rules) expect(deptIds.has(r.departmentId)).toBe(true);
  });

  it('has the seed-document proportions', () => {
    expect(city.grids.length).toBeGreaterThanOrEqual(650);
    expect(city.grids.length).toBeLessThanOrEqual(760);
    expect(city.staff.filter((s) => s.role !== 'cadre').length / city.grids.length).toBeCloseTo(3, 5);
    // 下沉干部: one per three grids, standing by (offline) until a level calls them.
    const cadres = city.staff.filter((s) => s.role === 'cadre');
    expect(cadres.length).toBe(Math.ceil(city.grids.length / 3));
    expect(cadres.every((s) => s.status === 'offline' && s.position !== null)).toBe(true);
    expect(city.cameras.length).toBeGreaterThanOrEqual(1100);
    expect(city.cameras.length).toBeLessThanOrEqual(1500);
    expect(city.buildings.count).toBeGreaterThanOrEqual(20_000);
    const byLevel = (level: string) => city.adminUnits.filter((u) => u.level === level);
    expect(byLevel('city')).toHaveLength(1);
    expect(byLevel('district')).toHaveLength(5);
    const streets = byLevel('street').length;
    const communities = byLevel('community').length;
    expect(city.grids.length / streets).toBeGreaterThan(10); // ~4×4 grids a street
    expect(city.grids.length / streets).toBeLessThan(24);
    expect(city.grids.length / communities).toBeGreaterThan(2.5); // ~2×2 grids a community
    expect(city.grids.length / communities).toBeLessThan(6);
    const stations = city.resources.filter((r) => r.kind === 'police-station').length;
    expect(stations).toBe(streets);
    const intercoms = city.resources.filter((r) => r.kind === 'intercom').length / city.grids.length;
    const sensors = city.resources.filter((r) => r.kind === 'sensor').length / city.grids.length;
    expect(intercoms).toBeGreaterThan(0.4);
    expect(intercoms).toBeLessThan(0.6);
    expect(sensors).toBeGreaterThan(0.7);
    expect(sensors).toBeLessThan(0.9);
    for (const g of city.grids) {
      expect(g.households).toBeGreaterThanOrEqual(300);
      expect(g.households).toBeLessThanOrEqual(500);
      expect(g.population).toBeGreaterThanOrEqual(1000);
      expect(g.population).toBeLessThanOrEqual(2000);
      expect(g.population / g.households).toBeGreaterThanOrEqual(2.59);
      expect(g.population / g.households).toBeLessThanOrEqual(3.21);
    }
    // A grid is 300–500 households: a few hundred metres across.
    const areas = city.grids.map((g) => areaM2(city, g.polygon));
    const meanSide = Math.sqrt(areas.reduce((a, b) => a + b, 0) / areas.length);
    expect(meanSide).toBeGreaterThan(350);
    expect(meanSide).toBeLessThan(450);
  });

  it('codes and ids are unique and nest: city 4 + district 2 + street 3 + community 3 + grid 3', () => {
    const codes = [...city.adminUnits.map((u) => u.code), ...city.grids.map((g) => g.code)];
    expect(new Set(codes).size).toBe(codes.length);
    const ids = [...city.adminUnits, ...city.grids, ...city.staff, ...city.cameras, ...city.resources].map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    const unit = new Map(city.adminUnits.map((u) => [u.id, u]));
    const lengths = { city: 4, district: 6, street: 9, community: 12 } as const;
    for (const u of city.adminUnits) {
      expect(u.code).toHaveLength(lengths[u.level]);
      if (u.parentId === null) continue;
      const parent = unit.get(u.parentId)!;
      expect(u.code.startsWith(parent.code)).toBe(true);
      expect(u.id.startsWith(parent.id === 'city' ? 'd' : `${parent.id}-`)).toBe(true);
    }
    for (const g of city.grids) {
      const community = unit.get(g.communityId)!;
      const street = unit.get(g.streetId)!;
      const district = unit.get(g.districtId)!;
      expect([community.level, street.level, district.level]).toEqual(['community', 'street', 'district']);
      expect(community.parentId).toBe(street.id);
      expect(street.parentId).toBe(district.id);
      expect(district.parentId).toBe('city');
      expect(g.code.startsWith(district.code)).toBe(true);
      expect(g.code.startsWith(community.code)).toBe(true);
      expect(g.id).toBe(`g${g.code}`);
      expect(g.name.startsWith(community.name)).toBe(true);
    }
  });

  it('names are unique within their parent', () => {
    const byParent = new Map<string, string[]>();
    for (const u of city.adminUnits) byParent.set(u.parentId ?? '', [...(byParent.get(u.parentId ?? '') ?? []), u.name]);
    for (const g of city.grids) byParent.set(`grid:${g.communityId}`, [...(byParent.get(`grid:${g.communityId}`) ?? []), g.name]);
    for (const names of byParent.values()) expect(new Set(names).size).toBe(names.length);
    expect(new Set(city.roads.lines.map((l) => l.name)).size).toBe(city.roads.lines.length);
    expect(new Set(city.cameras.map((c) => c.name)).size).toBe(city.cameras.length);
    expect(new Set(city.staff.map((s) => s.phone)).size).toBe(city.staff.length);
    for (const s of city.staff) expect(s.phone).toMatch(/^1[3-9]\d{9}$/);
  });

  it('grids tile the city: the areas add up, and every unit is the union of its grids', () => {
    const cityArea = areaM2(city, city.adminUnits[0]!.polygon);
    const gridAreas = city.grids.map((g) => areaM2(city, g.polygon));
    for (const a of gridAreas) expect(a).toBeGreaterThan(0); // counter-clockwise and not degenerate
    const sum = gridAreas.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - cityArea) / cityArea).toBeLessThan(0.001);
    for (const u of city.adminUnits.filter((x) => x.level !== 'city')) {
      const mine = city.grids.filter((g) => g.communityId === u.id || g.streetId === u.id || g.districtId === u.id);
      const total = mine.reduce((a, g) => a + areaM2(city, g.polygon), 0);
      expect(Math.abs(total - areaM2(city, u.polygon)) / total).toBeLessThan(1e-6);
    }
  });

  it('gridIndexOf finds every point of the city in exactly one grid, and nothing outside', () => {
    const outline = city.adminUnits[0]!.polygon;
    const lons = outline.map((p) => p[0]);
    const lats = outline.map((p) => p[1]);
    const [minLon, maxLon, minLat, maxLat] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
    const rng = new Rng('points');
    let tested = 0;
    let outside = 0;
    while (tested < 2000) {
      const lon = rng.float(minLon - 0.01, maxLon + 0.01);
      const lat = rng.float(minLat - 0.01, maxLat + 0.01);
      if (!inside(lon, lat, outline)) {
        if (outside++ < 300) expect(city.gridIndexOf(lon, lat)).toBeNull();
        continue;
      }
      const hits = city.grids.flatMap((g, i) => (inside(lon, lat, g.polygon) ? [i] : []));
      expect(hits).toHaveLength(1);
      expect(city.gridIndexOf(lon, lat)).toBe(hits[0]);
      tested++;
    }
    expect(outside).toBeGreaterThan(50);
    city.grids.forEach((g, i) => expect(city.gridIndexOf(g.center[0], g.center[1])).toBe(i));
    expect(city.gridIndexOf(Number.NaN, 36)).toBeNull();
    expect(city.gridIndexById.get(city.grids[17]!.id)).toBe(17);
  });

  it('places staff, cameras and resources in their own grids', () => {
    const index = city.gridIndexById;
    city.staff.forEach((s, k) => {
      const g = index.get(s.gridId)!;
      const corners = city.roads.nodesOfGrid(g);
      expect(corners).toContain(city.staffNode[k]);
      expect(s.position).toEqual(city.roads.nodes[city.staffNode[k]!]);
      expect(s.districtId).toBe(city.grids[g]!.districtId);
      expect(s.sipUser).toBe(s.id);
      expect(s.updatedAt).toBe('2026-01-01T00:00:00.000Z');
    });
    for (const g of city.grids) {
      const mine = city.staff.filter((s) => s.gridId === g.id);
      expect(mine.filter((s) => s.role === 'grid-leader')).toHaveLength(1);
    }
    for (const c of [...city.cameras, ...city.resources]) {
      expect(city.gridIndexOf(c.position[0], c.position[1])).toBe(index.get(c.gridId));
      expect(c.districtId).toBe(city.grids[index.get(c.gridId)!]!.districtId);
    }
    const central = new Set(['d02', 'd03', 'd04']);
    for (const c of city.cameras) expect(c.kind).toBe(central.has(c.districtId) ? 'tianwang' : 'xueliang');
    const online = city.cameras.filter((c) => c.online).length / city.cameras.length;
    expect(online).toBeGreaterThan(0.94);
    expect(online).toBeLessThan(0.995);
    for (const r of city.resources.filter((x) => x.kind === 'sensor')) expect(city.sensorKinds[r.id]).toBeDefined();
  });

  it('every building lies inside its grid, and heights fall off outwards', () => {
    const b = city.buildings;
    const rng = new Rng('buildings');
    for (let n = 0; n < 2000; n++) {
      const k = rng.int(0, b.count - 1);
      const grid = city.grids[b.gridIndex[k]!]!;
      const ring = grid.polygon.map(([lon, lat]) => city.projection.toLocal(lon, lat));
      // Corners computed here from the stored fields: width along `rotation` (CCW from east), depth across it.
      const [cx, cy] = city.projection.toLocal(b.lon[k]!, b.lat[k]!);
      const r = (b.rotation[k]! * Math.PI) / 180;
      const [ux, uy, vx, vy] = [Math.cos(r), Math.sin(r), -Math.sin(r), Math.cos(r)];
      for (const [s, t] of [[-1, -1], [1, -1], [1, 1], [-1, 1]] as const) {
        const x = cx + (s * b.width[k]! * ux) / 2 + (t * b.depth[k]! * vx) / 2;
        const y = cy + (s * b.width[k]! * uy) / 2 + (t * b.depth[k]! * vy) / 2;
        expect(inside(x, y, ring)).toBe(true);
      }
      const exported = buildingCorners(b, k, city.projection).map(([lon, lat]) => city.projection.toLocal(lon, lat));
      const back = exported[2]!;
      expect(Math.hypot(back[0] - (cx + (b.width[k]! * ux + b.depth[k]! * vx) / 2), back[1] - (cy + (b.width[k]! * uy + b.depth[k]! * vy) / 2))).toBeLessThan(1e-6);
      expect(b.width[k]).toBeGreaterThan(3);
      expect(b.depth[k]).toBeGreaterThan(3);
      expect(b.height[k]).toBeGreaterThanOrEqual(6);
      expect(b.height[k]).toBeLessThanOrEqual(120);
    }
    const meanHeight = (district: string): number => {
      let sum = 0;
      let n = 0;
      for (let k = 0; k < b.count; k++) {
        if (city.grids[b.gridIndex[k]!]!.districtId === district) {
          sum += b.height[k]!;
          n++;
        }
      }
      return sum / n;
    };
    expect(meanHeight('d03')).toBeGreaterThan(2 * meanHeight('d01'));
    expect(meanHeight('d03')).toBeGreaterThan(2 * meanHeight('d05'));
  });

  it('the road network is the lattice: shared corners, symmetric adjacency, major roads every 4th line', () => {
    const { roads, cols, rows } = city;
    expect(roads.nodes).toHaveLength((cols + 1) * (rows + 1));
    expect(roads.edges).toHaveLength(cols * (rows + 1) + rows * (cols + 1));
    for (const key of ['major', 'edgeLine', 'names', 'lengths'] as const) expect(roads[key]).toHaveLength(roads.edges.length);
    roads.edges.forEach(([a, b], e) => {
      expect(roads.neighbours(a)).toContain(b);
      expect(roads.neighbours(b)).toContain(a);
      expect(roads.edgeBetween(b, a)).toBe(e);
      expect(roads.lengths[e]).toBeGreaterThan(150);
      expect(roads.lengths[e]).toBeLessThan(700);
    });
    for (let v = 0; v < roads.nodes.length; v++) expect(roads.neighbours(v).length).toBeGreaterThanOrEqual(2);
    city.grids.forEach((g, i) => expect(roads.nodesOfGrid(i).map((v) => roads.nodes[v])).toEqual(g.polygon));
    const majors = roads.lines.filter((l) => l.major).length;
    expect(majors).toBeGreaterThanOrEqual(Math.floor((cols + rows) / 4));
    expect(majors).toBeLessThan((cols + rows) / 2);
    for (const l of roads.lines) expect(l.name).toMatch(l.major ? /(大道|路)$/ : /(路|街|巷)$/);
    const place = city.placeOfGrid(0);
    expect(place.roadNames).toContain(place.roadName);
    expect(place.gridName).toBe(city.grids[0]!.name);
    expect(() => city.placeOfGrid(city.grids.length)).toThrow();
  });

  it('is deterministic: the same seed gives the same city, another seed another', () => {
    const again = generateCity({ seed: 7 });
    expect(plain(again)).toBe(plain(city));
    expect(typedArraysEqual(again, city)).toBe(true);
    const other = generateCity({ seed: 8 });
    expect(plain(other)).not.toBe(plain(city));
    expect(other.grids[0]!.polygon).not.toEqual(city.grids[0]!.polygon);
    expect(typedArraysEqual(other, city)).toBe(false);
  });
});

describe('generateCity options', () => {
  it('scale 8.5 with 1.7 staff per grid gives ~6,000 grids and ~10,000 staff quickly', () => {
    const t0 = performance.now();
    const city = generateCity({ seed: 'bench', scale: 8.5, staffPerGrid: 1.7 });
    const ms = performance.now() - t0;
    console.log(
      `scale 8.5: ${city.grids.length} grids, ${city.staff.length} staff, ${city.cameras.length} cameras, ${city.resources.length} resources, ${city.buildings.count} buildings in ${ms.toFixed(0)} ms`,
    );
    expect(city.grids.length).toBeGreaterThan(5700);
    expect(city.grids.length).toBeLessThan(6300);
    const gridStaff = city.staff.filter((s) => s.role !== 'cadre');
    expect(Math.abs(gridStaff.length - Math.round(city.grids.length * 1.7))).toBeLessThanOrEqual(1);
    const perGrid = new Map<string, number>();
    for (const s of gridStaff) perGrid.set(s.gridId, (perGrid.get(s.gridId) ?? 0) + 1);
    expect(perGrid.size).toBe(city.grids.length); // every grid has someone
    expect(new Set(perGrid.values())).toEqual(new Set([1, 2]));
    expect(ms).toBeLessThan(3000);
    for (const g of city.grids) expect(g.code).toMatch(/^\d{15}$/);
  });

  it('honours center and epoch', () => {
    const city = generateCity({ seed: 1, scale: 0.1, center: [113.3, 23.1], epoch: '2027-05-01T08:00:00+08:00' });
    const c = city.adminUnits[0]!.center;
    expect(Math.abs(c[0] - 113.3)).toBeLessThan(0.02);
    expect(Math.abs(c[1] - 23.1)).toBeLessThan(0.02);
    expect(city.staff[0]!.updatedAt).toBe('2027-05-01T08:00:00+08:00');
    expect(city.adminUnits.filter((u) => u.level === 'district')).toHaveLength(5);
  });

  it('rejects bad options with an error naming the option', () => {
    expect(() => generateCity({ seed: 1, scale: 0 })).toThrow(/"scale"/);
    expect(() => generateCity({ seed: 1, scale: -2 })).toThrow(/"scale"/);
    expect(() => generateCity({ seed: 1, scale: Number.NaN })).toThrow(/"scale".*NaN/);
    expect(() => generateCity({ seed: 1, scale: 20.5 })).toThrow(/"scale"/);
    expect(() => generateCity({ seed: 1, staffPerGrid: -1 })).toThrow(/"staffPerGrid"/);
    expect(() => generateCity({ seed: 1, staffPerGrid: Number.NaN })).toThrow(/"staffPerGrid"/);
    expect(() => generateCity({ seed: Number.POSITIVE_INFINITY })).toThrow(/"seed"/);
    expect(() => generateCity({ seed: 1, center: [200, 10] })).toThrow(/"center"/);
    expect(() => generateCity({ seed: 1, epoch: 'yesterday' })).toThrow(/"epoch"/);
  });
});
