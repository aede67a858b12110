/** The four workspaces, their routes and their shortcuts (Alt+1..4); and those only some users have. */
import type { DisplayRole, UserRole } from '../../protocol';
import { AUDIT_READ_ROLES } from '../../domain/permissions';

export const WORKSPACES = [
  { id: 'map', path: '/map', key: '1', icon: '◈' },
  { id: 'kpi', path: '/kpi', key: '2', icon: '▦' },
  { id: 'video', path: '/video', key: '3', icon: '▣' },
  { id: 'dispatch', path: '/dispatch', key: '4', icon: '☰' },
] as const;

export type WorkspaceId = (typeof WORKSPACES)[number]['id'];

/** The workspace a display role opens on; "combined" starts on the map, like the wall. */
export function homeWorkspace(role: DisplayRole): WorkspaceId {
  return role === 'combined' ? 'map' : role;
}

/** 基础数据 (departments and the 权责清单): only for the system administrator (Alt+5). */
export const ADMIN_WORKSPACES = [
  { id: 'base-data', path: '/base-data', key: '5', icon: '▤', roles: ['admin'] as readonly UserRole[] },
  // 审计 (who did and saw what): the roles of domain's AUDIT_READ_ROLES (the backend refuses the others) (Alt+6).
  { id: 'audit', path: '/audit', key: '6', icon: '⌕', roles: [...AUDIT_READ_ROLES] as readonly UserRole[] },
  // 用户 (users, roles, areas, passwords): the administrator only; the backend refuses the others (Alt+7).
  { id: 'users', path: '/users', key: '7', icon: '☷', roles: ['admin'] as readonly UserRole[] },
] as const;

export type AnyWorkspaceId = WorkspaceId | (typeof ADMIN_WORKSPACES)[number]['id'];

/** The workspaces the signed-in user has: the four, and the administrator's (none before sign-in). */
export function workspacesFor(role: UserRole | null | undefined): ReadonlyArray<{ id: AnyWorkspaceId; path: string; key: string; icon: string }> {
  return [...WORKSPACES, ...ADMIN_WORKSPACES.filter((w) => role !== null && role !== undefined && w.roles.includes(role))];
}
