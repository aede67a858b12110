/** Which role may run which command (分层授权). Area scope is checked separately, per event or location. */
import type { CommandType, SignInAppName, UserRole } from '../protocol';

const EVENT_WORK: CommandType[] = [
  'event.report',
  'event.accept',
  'event.dispatch',
  'event.reassign',
  'event.cohandle.request',
  'event.cohandle.decide',
  'event.extension.decide',
  'event.supervise',
  'event.escalate',
  'event.sign',
  'event.feedback',
  'event.followup',
  'event.close',
  'event.reopen',
  'event.merge',
  'event.comment',
  'event.locate',
];

/** 基础数据: the departments, the responsibility list (权责清单), the plans (预案) and the command levels' profiles, edited by administrators only. */
export const BASE_DATA_COMMANDS: readonly CommandType[] = ['department.save', 'department.remove', 'rule.save', 'rule.remove', 'plan.save', 'plan.remove', 'level.profile.save'];

export const ROLE_COMMANDS: Record<UserRole, ReadonlySet<CommandType>> = {
  // Dispatchers also tick the plan steps they coordinate during an emergency.
  // Console users with a phone log their calls (call.log: the hub sends each finished call once).
  dispatcher: new Set([...EVENT_WORK, 'plan.tick', 'alarm.acknowledge', 'call.log']),
  // The duty officer runs the loop at night, switches the level and writes the hand-over log.
  duty: new Set([...EVENT_WORK, 'level.set', 'plan.tick', 'duty.handover', 'duty.acknowledge', 'alarm.acknowledge', 'call.log']),
  // Leaders steer: assign (交办), supervise (督办), escalate, comment, switch the command level.
  leader: new Set(['event.assign', 'event.supervise', 'event.extension.decide', 'event.escalate', 'event.comment', 'level.set', 'plan.tick', 'duty.acknowledge', 'alarm.acknowledge', 'call.log']),
  viewer: new Set(),
  // System administrators (系统管理员) keep the base data; they do no event work.
  admin: new Set(BASE_DATA_COMMANDS),
  // 督查: reads (masked, like the viewer) and the audit; commands nothing.
  inspector: new Set(),
  // Department liaisons and grid staff work through their own pages (the department routes, the field app), never
  // through the console; there they act only on events assigned to their department or staff record
  // (domain/commands/helpers.ts requireAssigned). Grid staff report in their own district (the field route's actor scope).
  liaison: new Set(['event.sign', 'event.feedback', 'event.return', 'event.extension.request']),
  field: new Set(['event.report', 'event.sign', 'event.arrive', 'event.feedback', 'event.cohandle.request']),
};

/** The apps an account signs in to: the console, the field app (外勤端), the department page (部门页). */
export type SignInApp = SignInAppName;

/** Which app each role's accounts sign in to (one each): a sign-in or a session token at another is refused. */
export const APP_OF_ROLE: Record<UserRole, SignInApp> = {
  dispatcher: 'console',
  duty: 'console',
  leader: 'console',
  viewer: 'console',
  admin: 'console',
  inspector: 'console',
  liaison: 'department',
  field: 'field',
};

/** Who sees personal data masked on the console whatever the view: the demo screen and the inspector. */
export const MASKED_ROLES: ReadonlySet<UserRole> = new Set<UserRole>(['viewer', 'inspector']);

export function mayRun(role: UserRole | 'system', type: CommandType): boolean {
  return role === 'system' || ROLE_COMMANDS[role].has(type);
}

/** District-only check (a record known by its district alone): true for the whole city or a scope naming the district. */
export function inScope(scope: readonly string[] | null, districtId: string): boolean {
  return scope === null || scope.includes(districtId);
}

/** Where a record lies, for area scopes: its district, and its grid when it has one. */
export interface ScopePlace {
  districtId: string;
  gridId?: string | undefined;
}

/** The grids (which carry their district, street and community) a scope check reads. */
export interface GridReader {
  get(collection: 'grids', id: string): { streetId: string; communityId: string } | undefined;
}

/**
 * 分级授权 at every level: whether a record lies in a user's area scope — a list of admin unit ids of any level
 * (district, street, community), null for the whole city. A scope naming the record's district sees it (exactly
 * the district-only rule); a street or community in the scope sees the records placed in grids of that street or
 * community. A record known only by its district (no grid, or a grid this state does not hold) is seen by a
 * district scope only: a street or community user sees only records placed in their grids.
 */
export function inAreaScope(scope: readonly string[] | null, place: ScopePlace, grids: GridReader): boolean {
  if (scope === null || scope.includes(place.districtId)) return true;
  if (place.gridId === undefined) return false;
  const grid = grids.get('grids', place.gridId);
  return grid !== undefined && (scope.includes(grid.streetId) || scope.includes(grid.communityId));
}

/** Who reads the 重点人员 register unmasked (names, ID numbers, phones): leaders and the duty officer. */
export const KEY_PERSON_REVEAL_ROLES: ReadonlySet<UserRole> = new Set<UserRole>(['leader', 'duty']);

/**
 * Who reads the audit log (审计: who did and saw what): leaders, inspectors (督查) and the system administrator, city-wide only —
 * the log's lines (sign-ins, refusals, imports) mostly name no district, so a district-scoped reader is refused
 * rather than shown a part that looks whole. Nobody edits it.
 */
export const AUDIT_READ_ROLES: ReadonlySet<UserRole> = new Set<UserRole>(['leader', 'admin', 'inspector']);
