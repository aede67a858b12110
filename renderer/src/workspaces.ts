/** The four workspaces, their routes and their shortcuts (Alt+1..4). */
import type { DisplayRole } from '../../protocol';

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
