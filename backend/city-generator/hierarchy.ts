/**
 * The administrative hierarchy over the lattice, by rectangles in cell-index space: 5 districts as column bands,
 * streets of ~4×4 cells, communities of ~2×2 cells, and one grid per cell. A unit's polygon is the chain of
 * lattice vertices around its rectangle, so parents and children share boundaries exactly.
 */
import type { AdminUnit, Grid, LonLat } from '../../protocol/model';
import { centroid, roundDeg, type Projection, type Xy } from './geometry';
import { nodeIndex, type Lattice } from './lattice';
import { NameScope, cityName, communityName, districtNames, streetName } from './names';
import type { Rng } from './random';

export const CITY_CODE = '3799';
export const DISTRICT_COUNT = 5;

/** Cells [i0, i1) × [j0, j1). */
interface Rect {
  i0: number;
  j0: number;
  i1: number;
  j1: number;
}

export interface GridNames {
  districtName: string;
  streetName: string;
  communityName: string;
  gridName: string;
}

export interface StreetInfo {
  unit: AdminUnit;
  /** Indices into grids. */
  gridIndices: number[];
}

export interface Hierarchy {
  /** City, then districts, streets, communities. */
  adminUnits: AdminUnit[];
  grids: Grid[];
  /** Per grid: its cell index in the lattice; and per cell: its grid index. */
  gridCell: Uint32Array;
  cellGrid: Uint32Array;
  /** Per grid: district ordinal 0..4 (west to east). */
  gridDistrict: Uint8Array;
  names: GridNames[];
  streets: StreetInfo[];
}

/** Boundaries splitting [0, n) into `parts` near-equal runs. */
export function splitEven(n: number, parts: number): number[] {
  return Array.from({ length: parts + 1 }, (_, k) => Math.round((k * n) / parts));
}

/** Sub-rectangles of ~`size`×`size` cells, north-west first, row by row. */
function tile(r: Rect, size: number): Rect[] {
  const xs = splitEven(r.i1 - r.i0, Math.max(1, Math.round((r.i1 - r.i0) / size)));
  const ys = splitEven(r.j1 - r.j0, Math.max(1, Math.round((r.j1 - r.j0) / size)));
  const out: Rect[] = [];
  for (let b = ys.length - 2; b >= 0; b--) {
    for (let a = 0; a + 1 < xs.length; a++) {
      out.push({ i0: r.i0 + (xs[a] as number), i1: r.i0 + (xs[a + 1] as number), j0: r.j0 + (ys[b] as number), j1: r.j0 + (ys[b + 1] as number) });
    }
  }
  return out;
}

/** Lattice vertices around a rectangle of cells, counter-clockwise from its south-west corner. */
export function rectRing(l: Lattice, r: Rect): number[] {
  const ring: number[] = [];
  for (let i = r.i0; i <= r.i1; i++) ring.push(nodeIndex(l, i, r.j0));
  for (let j = r.j0 + 1; j <= r.j1; j++) ring.push(nodeIndex(l, r.i1, j));
  for (let i = r.i1 - 1; i >= r.i0; i--) ring.push(nodeIndex(l, i, r.j1));
  for (let j = r.j1 - 1; j > r.j0; j--) ring.push(nodeIndex(l, r.i0, j));
  return ring;
}

function shape(l: Lattice, projection: Projection, r: Rect): { polygon: LonLat[]; center: LonLat } {
  const ring = rectRing(l, r);
  const polygon = ring.map((v): LonLat => [l.lon[v] as number, l.lat[v] as number]);
  const [cx, cy] = centroid(ring.map((v): Xy => [l.x[v] as number, l.y[v] as number]));
  const [lon, lat] = projection.toLonLat(cx, cy);
  return { polygon, center: [roundDeg(lon), roundDeg(lat)] };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** 300–500 households of 2.6–3.2 people, drawn so that the population stays within 1,000–2,000. */
function householdsAndPopulation(rng: Rng): { households: number; population: number } {
  const perHousehold = rng.float(2.6, 3.2);
  const households = rng.int(Math.max(300, Math.ceil(1000 / perHousehold)), Math.min(500, Math.floor(2000 / perHousehold)));
  return { households, population: Math.round(households * perHousehold) };
}

export function buildHierarchy(rng: Rng, l: Lattice, projection: Projection): Hierarchy {
  const nameRng = rng.fork('names');
  const popRng = rng.fork('population');
  const all: Rect = { i0: 0, j0: 0, i1: l.cols, j1: l.rows };
  const city: AdminUnit = { id: 'city', level: 'city', code: CITY_CODE, name: cityName(nameRng), parentId: null, ...shape(l, projection, all) };
  const districts: AdminUnit[] = [];
  const streetUnits: AdminUnit[] = [];
  const communities: AdminUnit[] = [];
  const grids: Grid[] = [];
  const gridCell: number[] = [];
  const gridDistrict: number[] = [];
  const names: GridNames[] = [];
  const streets: StreetInfo[] = [];
  const streetNames = new NameScope();
  const communityNames = new NameScope();
  const bands = splitEven(l.cols, DISTRICT_COUNT);
  const dNames = districtNames(nameRng, DISTRICT_COUNT);

  for (let d = 0; d < DISTRICT_COUNT; d++) {
    const rural = d === 0 || d === DISTRICT_COUNT - 1; // the outer bands are towns and villages
    const dRect: Rect = { i0: bands[d] as number, i1: bands[d + 1] as number, j0: 0, j1: l.rows };
    const dCode = CITY_CODE + pad(d + 1, 2);
    const district: AdminUnit = { id: `d${pad(d + 1, 2)}`, level: 'district', code: dCode, name: dNames[d] as string, parentId: city.id, ...shape(l, projection, dRect) };
    districts.push(district);
    tile(dRect, 4).forEach((sRect, s) => {
      const sCode = dCode + pad(s + 1, 3);
      const street: AdminUnit = {
        id: `${district.id}-s${pad(s + 1, 3)}`,
        level: 'street',
        code: sCode,
        name: streetNames.unique(() => streetName(nameRng, rural)),
        parentId: district.id,
        ...shape(l, projection, sRect),
      };
      streetUnits.push(street);
      const info: StreetInfo = { unit: street, gridIndices: [] };
      streets.push(info);
      const inStreet = new NameScope(communityNames); // unique within the street for sure, city-wide when possible
      tile(sRect, 2).forEach((cRect, c) => {
        const cCode = sCode + pad(c + 1, 3);
        const community: AdminUnit = {
          id: `${street.id}-c${pad(c + 1, 3)}`,
          level: 'community',
          code: cCode,
          name: inStreet.unique(() => communityName(nameRng, rural)),
          parentId: street.id,
          ...shape(l, projection, cRect),
        };
        communities.push(community);
        tile(cRect, 1).forEach((gRect, k) => {
          const code = cCode + pad(k + 1, 3);
          const gridName = `${community.name}第${k + 1}网格`;
          info.gridIndices.push(grids.length);
          gridCell.push(gRect.j0 * l.cols + gRect.i0);
          gridDistrict.push(d);
          names.push({ districtName: district.name, streetName: street.name, communityName: community.name, gridName });
          grids.push({
            id: `g${code}`,
            code,
            name: gridName,
            communityId: community.id,
            streetId: street.id,
            districtId: district.id,
            ...shape(l, projection, gRect),
            ...householdsAndPopulation(popRng),
          });
        });
      });
    });
  }

  const cellGrid = new Uint32Array(l.cols * l.rows);
  gridCell.forEach((cell, g) => (cellGrid[cell] = g));
  return {
    adminUnits: [city, ...districts, ...streetUnits, ...communities],
    grids,
    gridCell: Uint32Array.from(gridCell),
    cellGrid,
    gridDistrict: Uint8Array.from(gridDistrict),
    names,
    streets,
  };
}
