import { describe, expect, it } from 'vitest';
import type { AdminUnit, Grid, Place } from '../../protocol';
import { areaProfile, keyPersonsTarget, placeProfile, type ProfileRows } from '../../renderer/src/map/profile';

const NOW = Date.parse('2025-03-01T08:00:00Z');
const ring: Grid['polygon'] = [
  [0, 0],
  [1, 0],
  [1, 1],
  [0, 0],
];
const grid = (id: string, communityId: string, streetId: string, population: number, households: number): Grid => ({
  id,
  code: `3701021010010${id.slice(-2)}`,
  name: `网格${id}`,
  communityId,
  streetId,
  districtId: 'd1',
  polygon: ring,
  center: [0.5, 0.5],
  households,
  population,
});
const unit = (id: string, level: AdminUnit['level'], parentId: string | null): AdminUnit => ({ id, level, code: '370102101', name: `单位${id}`, parentId, polygon: ring, center: [0.5, 0.5] });
const place = (id: string, kind: Place['kind'], gridId: string, name = id): Place => ({
  id,
  code: id.toUpperCase(),
  name,
  kind,
  address: '',
  position: [0.5, 0.5],
  gridId,
  communityId: 'c1',
  streetId: 's1',
  districtId: 'd1',
  contact: null,
  note: '',
});

const grids = new Map([
  ['g01', grid('g01', 'c1', 's1', 1200, 400)],
  ['g02', grid('g02', 'c1', 's1', 800, 300)],
  ['g03', grid('g03', 'c2', 's1', 500, 200)],
  ['g04', grid('g04', 'c3', 's2', 999, 333)],
]);
const rows: ProfileRows = {
  grids,
  units: new Map([
    ['d1', unit('d1', 'district', null)],
    ['s1', unit('s1', 'street', 'd1')],
    ['c1', unit('c1', 'community', 's1')],
    ['c2', unit('c2', 'community', 's1')],
  ]),
  staff: [
    { gridId: 'g01', role: 'grid-leader', status: 'patrolling' },
    { gridId: 'g01', role: 'full-time', status: 'offline' },
    { gridId: 'g02', role: 'part-time', status: 'idle' },
    { gridId: 'g03', role: 'full-time', status: 'handling' },
    { gridId: 'g04', role: 'full-time', status: 'handling' },
  ],
  cameras: [
    { gridId: 'g01', online: true },
    { gridId: 'g02', online: false },
    { gridId: 'g04', online: true },
  ],
  resources: [
    { gridId: 'g01', kind: 'police-station', online: true },
    { gridId: 'g03', kind: 'sensor', online: false },
  ],
  places: new Map([
    ['sch', place('sch', 'school', 'g01', '第一小学')],
    ['ent', place('ent', 'enterprise', 'g01', '华东机械厂')],
    ['gov', place('gov', 'government', 'g02', '街道办事处')],
    ['haz', place('haz', 'hazardous', 'g03', '加油站')],
    ['far', place('far', 'organisation', 'g04', '远处协会')],
  ]),
  events: [
    { gridId: 'g01', status: 'new', severity: 3, stepDeadline: '2025-03-01T07:00:00Z' },
    { gridId: 'g01', status: 'handling', severity: 1, stepDeadline: '2025-03-01T09:00:00Z' },
    { gridId: 'g01', status: 'closed', severity: 4, stepDeadline: null },
    { gridId: 'g02', status: 'merged', severity: 4, stepDeadline: null },
    { gridId: 'g02', status: 'dispatched', severity: 4, stepDeadline: null },
    { gridId: 'g04', status: 'new', severity: 2, stepDeadline: '2025-03-01T07:00:00Z' },
  ],
};

describe('一表通 profile', () => {
  it('adds up a grid: people, staff on duty by role, places, open and overdue events, cameras, resources, organisations', () => {
    const p = areaProfile('grid', 'g01', rows, NOW)!;
    expect(p).toMatchObject({ level: 'grid', id: 'g01', name: '网格g01', code: grids.get('g01')!.code });
    expect(p.people).toEqual({
      population: 1200,
      households: 400,
      staff: { total: 2, on: 1 },
      staffByRole: { 'grid-leader': { total: 1, on: 1 }, 'full-time': { total: 1, on: 0 }, 'part-time': { total: 0, on: 0 }, cadre: { total: 0, on: 0 } },
    });
    expect(p.land).toEqual({ grids: 1, places: 2, placesByKind: { school: 1, enterprise: 1 } });
    // closed and merged are not open; the overdue one's step deadline passed.
    expect(p.events).toEqual({ open: 2, overdue: 1, bySeverity: { 1: 1, 2: 0, 3: 1, 4: 0 } });
    expect(p.things).toEqual({ cameras: { total: 1, on: 1 }, resources: { total: 1, on: 1 }, resourcesByKind: { 'police-station': 1 } });
    expect(p.organisations).toEqual({ total: 1, byKind: { enterprise: 1 }, names: ['华东机械厂'] });
  });

  it('adds up a community, a street and a district from their grids only', () => {
    const community = areaProfile('community', 'c1', rows, NOW)!;
    expect(community.people.population).toBe(2000);
    expect(community.people.households).toBe(700);
    expect(community.land.grids).toBe(2);
    expect(community.events.open).toBe(3);
    expect(community.things.cameras).toEqual({ total: 2, on: 1 });
    expect(community.organisations.names).toEqual(['华东机械厂', '街道办事处']);
    const street = areaProfile('street', 's1', rows, NOW)!;
    expect(street.land).toMatchObject({ grids: 3, places: 4 });
    expect(street.people.staff).toEqual({ total: 4, on: 3 });
    expect(street.things.resources).toEqual({ total: 2, on: 1 });
    const district = areaProfile('district', 'd1', rows, NOW)!;
    expect(district.people.population).toBe(3499);
    expect(district.events).toMatchObject({ open: 4, overdue: 2 });
    expect(district.organisations.total).toBe(3);
  });

  it('knows nothing of an unknown area or a unit asked at the wrong level', () => {
    expect(areaProfile('grid', 'nope', rows, NOW)).toBeNull();
    expect(areaProfile('community', 'nope', rows, NOW)).toBeNull();
    expect(areaProfile('street', 'c1', rows, NOW)).toBeNull();
    // An area without grids is empty, not an error.
    const empty = areaProfile('community', 'c1', { ...rows, grids: new Map() }, NOW)!;
    expect(empty.people.population).toBe(0);
    expect(empty.land.grids).toBe(0);
  });

  it("gives a place its own facts and its grid's profile; its 重点人员 are its grid's", () => {
    const p = placeProfile('haz', rows, NOW)!;
    expect(p.place.name).toBe('加油站');
    expect(p.grid).toMatchObject({ id: 'g03', people: { population: 500 } });
    expect(placeProfile('missing', rows, NOW)).toBeNull();
    expect(placeProfile('haz', { ...rows, grids: new Map() }, NOW)).toEqual({ place: rows.places.get('haz'), grid: null });
    expect(keyPersonsTarget({ level: 'place', id: 'haz' }, rows.places)).toEqual({ level: 'grid', id: 'g03' });
    expect(keyPersonsTarget({ level: 'community', id: 'c1' }, rows.places)).toEqual({ level: 'community', id: 'c1' });
    expect(keyPersonsTarget({ level: 'place', id: 'missing' }, rows.places)).toBeNull();
  });
});
