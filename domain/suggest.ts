/**
 * Dispatch suggestions: the responsible department from the responsibility list (权责清单), and the nearest
 * available grid staff with their distance and current load. Pure functions, shared by the dispatch desk
 * and its tests. When data is missing they say so instead of guessing: no rule → no department (ask a human),
 * nobody on duty → no staff.
 */
import type { Department, GovEvent, LonLat, ResponsibilityRule, Staff } from '../protocol';
import { distanceMetres } from './geometry';
import { inAreaScope, type GridReader } from './permissions';

const NO_GRIDS: GridReader = { get: () => undefined };

export interface DepartmentSuggestion {
  departmentId: string;
  name: string;
  /** The category's rule, for the tooltip (time limits). */
  rule: ResponsibilityRule;
}

export function suggestDepartment(event: Pick<GovEvent, 'category'>, rules: ReadonlyMap<string, ResponsibilityRule>, departments: ReadonlyMap<string, Department>): DepartmentSuggestion | null {
  const rule = rules.get(event.category);
  if (!rule) return null;
  const department = departments.get(rule.departmentId);
  if (!department) return null;
  return { departmentId: department.id, name: department.name, rule };
}

export interface StaffSuggestion {
  staff: Staff;
  /** Metres from the event. */
  distance: number;
  /** Open events assigned now. */
  load: number;
  /** Works the event's own grid. */
  ownGrid: boolean;
}

/**
 * The nearest staff who can take the event now: on duty (not offline), with a known position, inside the
 * dispatcher's area scope (null: anywhere; a street or community scope reads the staff's grid from `grids`). Ordered by distance, with each 5 open tasks counting like a
 * kilometre more, so a free colleague a little further away comes before an overloaded one next door.
 * District borders do not matter: staff of the neighbouring district are suggested when nearer. 下沉干部 (role
 * `cadre`) are suggested only while the level in force calls them (`cadresCalled`), and once on duty.
 */
export function suggestStaff(event: Pick<GovEvent, 'location' | 'gridId'>, staff: Iterable<Staff>, scope: readonly string[] | null, limit = 3, grids: GridReader = NO_GRIDS, cadresCalled = false): StaffSuggestion[] {
  const candidates: Array<StaffSuggestion & { score: number }> = [];
  for (const s of staff) {
    if (s.status === 'offline' || !s.position) continue;
    if (s.role === 'cadre' && !cadresCalled) continue;
    if (!inAreaScope(scope, s, grids)) continue;
    const distance = distanceMetres(event.location, s.position);
    candidates.push({ staff: s, distance, load: s.openTasks, ownGrid: s.gridId === event.gridId, score: distance + s.openTasks * 200 });
  }
  candidates.sort((a, b) => a.score - b.score || a.staff.id.localeCompare(b.staff.id));
  return candidates.slice(0, limit).map(({ score: _score, ...rest }) => rest);
}

/** What is around a point: items within `radius` metres, nearest first, at most `limit`, with their distance. */
export function nearest<T>(items: Iterable<T>, at: LonLat, radius: number, limit: number, positionOf: (item: T) => LonLat | null): Array<{ item: T; distance: number }> {
  const found: Array<{ item: T; distance: number }> = [];
  for (const item of items) {
    const position = positionOf(item);
    if (!position) continue;
    const distance = distanceMetres(at, position);
    if (distance <= radius) found.push({ item, distance });
  }
  found.sort((a, b) => a.distance - b.distance);
  return found.slice(0, limit);
}
