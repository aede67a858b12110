/**
 * The simulator on whatever city the store holds: the generated demo (its streets, its lattice) while the stored
 * grids are the generated ones, and an imported city (`import grids`) otherwise — events at points inside the
 * stored grid polygons, staff patrolling inside their own grid's polygon, addresses from the stored admin units,
 * event categories from the stored 权责清单 where the simulator's catalogue has none of them.
 */
import type { EventSource, Grid, LonLat, ResponsibilityRule } from '../../protocol';
import { boxOf, pointInRing, type CityState } from '../../domain';
import type { Rng } from '../city-generator/random';
import { CATEGORIES, pickCategory, type EventCategory, type EventPlace } from '../city-generator/catalog';
import type { SimCity } from './engine';

const sameGrids = (stored: readonly Grid[], generated: readonly Grid[]): boolean => {
  if (stored.length !== generated.length) return false;
  const byId = new Map(stored.map((g) => [g.id, g]));
  return generated.every((g) => byId.get(g.id)?.code === g.code);
};

/**
 * The city the engine runs on, followed as the store changes: `grids` is a new array whenever the stored grids
 * change (an import while running), `roads` is null on an imported city.
 */
export function storedSimCity(state: CityState, generated: SimCity): SimCity {
  let builtAt = -1;
  let grids: readonly Grid[] = generated.grids;
  let isGenerated = true;
  const refresh = (): void => {
    if (state.versions.grids === builtAt) return;
    builtAt = state.versions.grids;
    const stored = [...state.all('grids')];
    isGenerated = sameGrids(stored, generated.grids);
    grids = isGenerated ? generated.grids : stored;
  };
  const name = (id: string): string => state.get('adminUnits', id)?.name ?? '';
  return {
    get grids() {
      refresh();
      return grids;
    },
    get roads() {
      refresh();
      return isGenerated ? generated.roads : null;
    },
    placeOfGrid(gridIndex: number): EventPlace {
      refresh();
      if (isGenerated) return generated.placeOfGrid(gridIndex);
      const grid = grids[gridIndex];
      return { districtName: name(grid?.districtId ?? ''), streetName: name(grid?.streetId ?? ''), communityName: name(grid?.communityId ?? ''), roadName: '' };
    },
  };
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** A random point inside a polygon (rejection sampling in its bounding box); its centre when none is found. */
export function randomPointIn(rng: Rng, polygon: readonly LonLat[], fallback: LonLat): LonLat {
  const box = boxOf(polygon);
  if (!box) return fallback;
  for (let i = 0; i < 40; i++) {
    const p: LonLat = [round6(rng.float(box.west, box.east)), round6(rng.float(box.south, box.north))];
    if (pointInRing(p, polygon)) return p;
  }
  return fallback;
}

/** Whether the straight walk from a to b stays inside the polygon (checked at 16 points along it). */
export function segmentInside(a: LonLat, b: LonLat, polygon: readonly LonLat[]): boolean {
  for (let k = 1; k <= 16; k++) {
    const t = k / 16;
    if (!pointInRing([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t], polygon)) return false;
  }
  return true;
}

/** The next patrol waypoint inside the grid, reachable in a straight line from `from` without leaving it. */
export function nextWaypoint(rng: Rng, from: LonLat, grid: Grid): LonLat {
  for (let i = 0; i < 12; i++) {
    const to = randomPointIn(rng, grid.polygon, grid.center);
    if (segmentInside(from, to, grid.polygon)) return to;
  }
  return pointInRing(grid.center, grid.polygon) && segmentInside(from, grid.center, grid.polygon) ? grid.center : from;
}

const SEVERITY: ReadonlyArray<readonly [number, number]> = [
  [1, 0.6],
  [2, 0.3],
  [3, 0.08],
  [4, 0.02],
];

/** A category the stored 权责清单 does not share with the catalogue: generic wording from its name. */
function categoryOfRule(rule: ResponsibilityRule): EventCategory {
  const all: Record<EventSource, number> = { 'grid-app': 1, hotline: 1, 'video-ai': 1, sensor: 1, 'citizen-app': 1, leader: 1 };
  return {
    id: rule.category,
    name: rule.categoryName,
    departmentId: rule.departmentId,
    limits: rule.limits,
    handlingLevel: rule.handlingLevel,
    weight: 1,
    sources: all,
    severity: [SEVERITY[0]![1], SEVERITY[1]![1], SEVERITY[2]![1], SEVERITY[3]![1]],
    titles: [`{community}反映${rule.categoryName}问题`, `{street}{community}${rule.categoryName}`],
    descriptions: [`{time}{community}{num}号附近有${rule.categoryName}问题，请相关部门核实处置。`, `群众反映{community}一带${rule.categoryName}情况，涉及约{count}户，请尽快处理。`],
  };
}

/**
 * The category of a new report: the catalogue's draw as always while every catalogue category has its rule
 * stored (the demo); otherwise a draw among the stored rules — the catalogue's wording for the categories it
 * knows, generic wording for the others. Null when no rules are stored.
 */
export function chooseCategory(rng: Rng, state: CityState, source?: EventSource): EventCategory | null {
  if (CATEGORIES.every((c) => state.get('rules', c.id))) return pickCategory(rng, source);
  const rules = [...state.all('rules')];
  if (rules.length === 0) return null;
  const known = rules.map((r) => CATEGORIES.find((c) => c.id === r.category)).filter((c): c is EventCategory => !!c);
  const weighted = known.map((c) => [c, source ? c.weight * c.sources[source] : c.weight] as const).filter(([, w]) => w > 0);
  if (weighted.length > 0 && rng.chance(known.length / rules.length)) return rng.weighted(weighted);
  return categoryOfRule(rng.pick(rules));
}

/** The catalogue's category when its rule is stored; else another one the stored rules have (null: none). */
export function storedCategory(rng: Rng, state: CityState, id: string, source: EventSource): EventCategory | null {
  const catalogued = CATEGORIES.find((c) => c.id === id);
  if (catalogued && state.get('rules', id)) return catalogued;
  return chooseCategory(rng, state, source);
}
