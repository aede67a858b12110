import { describe, expect, it } from 'vitest';
import type { Department, LonLat, ResponsibilityRule, Staff } from '../../protocol';
import { distanceMetres, nearest, openPlan, planFor, planTemplateFor, suggestDepartment, suggestStaff } from '../../domain';
import { DEPARTMENTS } from '../../backend/city-generator/catalog';

const rule = (category: string, departmentId: string): ResponsibilityRule => ({
  category,
  categoryName: category,
  departmentId,
  limits: { report: 60, dispatch: 120, handle: 1440, followup: 2880, close: 1440 },
  handlingLevel: 'street',
});
const dept = (id: string, name: string): Department => ({ id, code: id, name });
const staff = (id: string, position: [number, number] | null, extra: Partial<Staff> = {}): Staff => ({
  id,
  name: id,
  phone: '13800000000',
  role: 'full-time',
  gridId: 'g1',
  districtId: 'd01',
  status: 'patrolling',
  position,
  sipUser: id,
  openTasks: 0,
  updatedAt: '2026-11-22T00:00:00Z',
  ...extra,
});
const event = { category: 'noise', location: [117.0, 36.6] as [number, number], gridId: 'g1' };

describe('department suggestion (权责清单)', () => {
  it('names the responsible department of the category', () => {
    const s = suggestDepartment(event, new Map([['noise', rule('noise', 'dept-urban')]]), new Map([['dept-urban', dept('dept-urban', '市城市管理局')]]));
    expect(s).toMatchObject({ departmentId: 'dept-urban', name: '市城市管理局' });
  });
  it('rule missing → no suggestion (a human decides)', () => {
    expect(suggestDepartment(event, new Map(), new Map([['dept-urban', dept('dept-urban', 'x')]]))).toBeNull();
  });
  it('rule naming an unknown department → no suggestion, not a dangling id', () => {
    expect(suggestDepartment(event, new Map([['noise', rule('noise', 'dept-gone')]]), new Map())).toBeNull();
  });
});

describe('nearest available staff', () => {
  it('measures distance in metres', () => {
    expect(distanceMetres([117, 36.6], [117, 36.61])).toBeCloseTo(1112, -1);
    expect(distanceMetres([117, 36.6], [117, 36.6])).toBe(0);
  });

  it('orders by distance and leaves out offline staff and staff without a position', () => {
    const list = [staff('far', [117.02, 36.6]), staff('near', [117.001, 36.6]), staff('off', [117.0, 36.6], { status: 'offline' }), staff('nowhere', null)];
    const s = suggestStaff(event, list, null);
    expect(s.map((x) => x.staff.id)).toEqual(['near', 'far']);
    expect(s[0]!.distance).toBeGreaterThan(50);
    expect(s[0]!.distance).toBeLessThan(150);
    expect(s[0]!.ownGrid).toBe(true);
  });

  it('no staff online → nothing to suggest', () => {
    expect(suggestStaff(event, [staff('a', [117, 36.6], { status: 'offline' })], null)).toEqual([]);
    expect(suggestStaff(event, [], null)).toEqual([]);
  });

  it('an overloaded colleague next door comes after a free one a little further', () => {
    const s = suggestStaff(event, [staff('busy', [117.0005, 36.6], { openTasks: 6 }), staff('free', [117.004, 36.6])], null);
    expect(s.map((x) => x.staff.id)).toEqual(['free', 'busy']);
    expect(s[1]!.load).toBe(6);
  });

  it('a grid on a district border: the neighbouring district’s staff are suggested when nearer, within scope', () => {
    const list = [staff('other-district', [117.0003, 36.6], { districtId: 'd02', gridId: 'g9' }), staff('own-district', [117.01, 36.6])];
    expect(suggestStaff(event, list, null)[0]!.staff.id).toBe('other-district');
    // A district-scoped dispatcher cannot dispatch outside the area: only its own district's staff.
    expect(suggestStaff(event, list, ['d01']).map((x) => x.staff.id)).toEqual(['own-district']);
  });

  it('returns at most the limit, deterministically', () => {
    const list = Array.from({ length: 10 }, (_, i) => staff(`s${i}`, [117.001, 36.6]));
    expect(suggestStaff(event, list, null, 3).map((x) => x.staff.id)).toEqual(['s0', 's1', 's2']);
  });
});

describe('what is around an incident', () => {
  const at: LonLat = [117.0, 36.0];
  const points = [
    { id: 'far', p: [117.05, 36.0] as LonLat },
    { id: 'near', p: [117.001, 36.0] as LonLat },
    { id: 'mid', p: [117.01, 36.0] as LonLat },
    { id: 'unknown', p: null },
  ];
  it('keeps those inside the radius, nearest first, up to the limit', () => {
    const found = nearest(points, at, 2_000, 10, (x) => x.p);
    expect(found.map((x) => x.item.id)).toEqual(['near', 'mid']);
    expect(found[0]!.distance).toBeGreaterThan(80);
    expect(found[0]!.distance).toBeLessThan(100);
    expect(nearest(points, at, 10_000, 1, (x) => x.p).map((x) => x.item.id)).toEqual(['near']);
  });
  it('nothing around → empty, not an error', () => {
    expect(nearest([], at, 1_000, 5, () => at)).toEqual([]);
  });
});

describe('emergency plans (预案)', () => {
  it('a flood gets the flood plan, an unknown category the general one, every step owned and open', () => {
    expect(planTemplateFor('flood').title).toContain('防汛');
    expect(planTemplateFor('no-such-category')).toBe(planTemplateFor(null));
    const plan = openPlan(planFor({ all: () => [] }, 'fire-hazard').steps);
    expect(plan.map((s) => s.id)).toEqual(plan.map((_, i) => `step-${i + 1}`));
    expect(plan.every((s) => s.ownerDepartmentId.startsWith('dept-') && s.doneAt === null && s.doneBy === null)).toBe(true);
  });
  it('every owner is a department of the city catalog', () => {
    const known = new Set(DEPARTMENTS.map((d) => d.id));
    for (const category of [null, 'flood', 'public-security', 'fire-hazard', 'building-safety', 'work-safety', 'traffic']) {
      for (const step of openPlan(planFor({ all: () => [] }, category).steps)) expect(known.has(step.ownerDepartmentId)).toBe(true);
    }
  });
});
