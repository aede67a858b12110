/**
 * 一表通: the 人、地、事、物、组织 of an area (a grid, community, street or district) at a glance, computed from the
 * replicated rows the map already holds (so it works offline), and a place's own facts with its grid's profile.
 * Pure functions, unit-tested; the card (components/map/ProfileCard.vue) shows them. The 重点人员 register is not
 * here: it is never replicated, the card asks the hub for it each time it opens.
 */
import type { AdminUnit, GovEvent, Grid, Place, PlaceKind, RegisterLevel, Resource, Staff } from '../../../protocol';

type StaffRole = Staff['role'];

export type ProfileLevel = RegisterLevel;
export type ProfileTarget = { level: ProfileLevel; id: string } | { level: 'place'; id: string };

/** 组织: the place kinds that are organisations rather than sites. */
export const ORGANISATION_KINDS: readonly PlaceKind[] = ['enterprise', 'organisation', 'government'];
const CLOSED = new Set(['closed', 'merged']);

export interface ProfileRows {
  grids: ReadonlyMap<string, Grid>;
  units: ReadonlyMap<string, AdminUnit>;
  staff: Iterable<Pick<Staff, 'gridId' | 'role' | 'status'>>;
  cameras: Iterable<{ gridId: string; online: boolean }>;
  resources: Iterable<Pick<Resource, 'gridId' | 'kind' | 'online'>>;
  places: ReadonlyMap<string, Place>;
  events: Iterable<Pick<GovEvent, 'gridId' | 'status' | 'severity' | 'stepDeadline'>>;
}

export interface Count {
  total: number;
  /** 在岗 for staff (status not offline), 在线 for cameras and resources. */
  on: number;
}

export interface AreaProfile {
  level: ProfileLevel;
  id: string;
  name: string;
  /** 网格编码 for a grid, the unit's code otherwise. */
  code: string;
  people: { population: number; households: number; staff: Count; staffByRole: Record<StaffRole, Count> };
  land: { grids: number; places: number; placesByKind: Partial<Record<PlaceKind, number>> };
  events: { open: number; overdue: number; bySeverity: Record<1 | 2 | 3 | 4, number> };
  things: { cameras: Count; resources: Count; resourcesByKind: Partial<Record<Resource['kind'], number>> };
  organisations: { total: number; byKind: Partial<Record<PlaceKind, number>>; names: string[] };
}

export interface PlaceProfile {
  place: Place;
  /** Its grid's profile; null when the grid is no longer in the replica. */
  grid: AreaProfile | null;
}

/** Whether a grid lies in the area (the grid itself, or the unit holding it). */
function inArea(grid: Pick<Grid, 'id' | 'communityId' | 'streetId' | 'districtId'>, level: ProfileLevel, id: string): boolean {
  if (level === 'grid') return grid.id === id;
  if (level === 'community') return grid.communityId === id;
  if (level === 'street') return grid.streetId === id;
  return grid.districtId === id;
}

const count = (): Count => ({ total: 0, on: 0 });
const bump = <K extends string>(record: Partial<Record<K, number>>, key: K): void => void (record[key] = (record[key] ?? 0) + 1);

/** The area's profile, or null when the replica does not know it. Events are overdue when their step's deadline passed. */
export function areaProfile(level: ProfileLevel, id: string, rows: ProfileRows, nowMs: number): AreaProfile | null {
  let name: string;
  let code: string;
  if (level === 'grid') {
    const grid = rows.grids.get(id);
    if (!grid) return null;
    ({ name, code } = grid);
  } else {
    const unit = rows.units.get(id);
    if (!unit || unit.level !== level) return null;
    ({ name, code } = unit);
  }
  const gridIds = new Set<string>();
  let population = 0;
  let households = 0;
  for (const g of rows.grids.values()) {
    if (!inArea(g, level, id)) continue;
    gridIds.add(g.id);
    population += g.population;
    households += g.households;
  }
  const staff = count();
  const staffByRole: Record<StaffRole, Count> = { 'grid-leader': count(), 'full-time': count(), 'part-time': count(), cadre: count() };
  for (const s of rows.staff) {
    if (!gridIds.has(s.gridId)) continue;
    const on = s.status !== 'offline' ? 1 : 0;
    staff.total++;
    staff.on += on;
    staffByRole[s.role].total++;
    staffByRole[s.role].on += on;
  }
  const placesByKind: Partial<Record<PlaceKind, number>> = {};
  const orgsByKind: Partial<Record<PlaceKind, number>> = {};
  const orgNames: string[] = [];
  let places = 0;
  for (const p of rows.places.values()) {
    if (!gridIds.has(p.gridId)) continue;
    places++;
    bump(placesByKind, p.kind);
    if (ORGANISATION_KINDS.includes(p.kind)) {
      bump(orgsByKind, p.kind);
      orgNames.push(p.name);
    }
  }
  const events = { open: 0, overdue: 0, bySeverity: { 1: 0, 2: 0, 3: 0, 4: 0 } as Record<1 | 2 | 3 | 4, number> };
  for (const e of rows.events) {
    if (!gridIds.has(e.gridId) || CLOSED.has(e.status)) continue;
    events.open++;
    if (e.stepDeadline !== null && Date.parse(e.stepDeadline) < nowMs) events.overdue++;
    const severity = Math.min(4, Math.max(1, e.severity)) as 1 | 2 | 3 | 4;
    events.bySeverity[severity]++;
  }
  const cameras = count();
  for (const c of rows.cameras) {
    if (!gridIds.has(c.gridId)) continue;
    cameras.total++;
    if (c.online) cameras.on++;
  }
  const resources = count();
  const resourcesByKind: Partial<Record<Resource['kind'], number>> = {};
  for (const r of rows.resources) {
    if (!gridIds.has(r.gridId)) continue;
    resources.total++;
    if (r.online) resources.on++;
    bump(resourcesByKind, r.kind);
  }
  orgNames.sort((a, b) => a.localeCompare(b, 'zh-CN'));
  return {
    level,
    id,
    name,
    code,
    people: { population, households, staff, staffByRole },
    land: { grids: gridIds.size, places, placesByKind },
    events,
    things: { cameras, resources, resourcesByKind },
    organisations: { total: orgNames.length, byKind: orgsByKind, names: orgNames },
  };
}

/** A place's own facts and the profile of the grid it stands in; null when the replica does not know it. */
export function placeProfile(id: string, rows: ProfileRows, nowMs: number): PlaceProfile | null {
  const place = rows.places.get(id);
  if (!place) return null;
  return { place, grid: areaProfile('grid', place.gridId, rows, nowMs) };
}

/** Where the 重点人员 of a target are asked for: the area itself, or a place's grid. */
export function keyPersonsTarget(target: ProfileTarget, places: ReadonlyMap<string, Pick<Place, 'gridId'>>): { level: ProfileLevel; id: string } | null {
  if (target.level !== 'place') return target;
  const place = places.get(target.id);
  return place ? { level: 'grid', id: place.gridId } : null;
}
