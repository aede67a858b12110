/**
 * The links of the accounts that are not the console's (issue 19): a 部门联络员 (liaison) account is bound to one
 * department of the city, a 网格员 (field) account to one staff record — one account per staff member (the
 * store's unique index users_staff). Checked here for the user administration (admin-users.ts) and the bulk
 * `users field-accounts` (users-field-cli.ts); every other role names neither.
 */
import type { CityState } from '../domain';
import type { AdminUserRow, UserRole } from '../protocol';
import type { UserRecord } from './store/types';

export const ROLE_TEXT: Record<UserRole, string> = {
  dispatcher: '调度员',
  leader: '领导',
  duty: '值班员',
  viewer: '演示（只读）',
  admin: '系统管理员',
  inspector: '督查',
  liaison: '部门联络员',
  field: '网格员',
};

export interface Links {
  departmentId: string | null;
  staffId: string | null;
}

export type LinkProblem = { status: 400 | 409; code: string; message: string };

/**
 * The links a user of `role` is stored with, checked: a liaison's department exists, a field account's staff
 * member exists and has no other account (`accounts`: every user, `self`: the one being changed); other roles
 * name neither (a link given to them is refused, not dropped).
 */
export function checkLinks(role: UserRole, links: Links, state: CityState, accounts: readonly UserRecord[], self: string | null): Links | LinkProblem {
  const { departmentId, staffId } = links;
  if (role !== 'liaison' && departmentId !== null) return { status: 400, code: 'no-department', message: `只有部门联络员账号关联部门，${ROLE_TEXT[role]}不关联 / only a liaison account names a department` };
  if (role !== 'field' && staffId !== null) return { status: 400, code: 'no-staff', message: `只有网格员账号关联网格员，${ROLE_TEXT[role]}不关联 / only a field account names a staff member` };
  if (role === 'liaison') {
    if (departmentId === null) return { status: 400, code: 'department-required', message: '部门联络员账号须选择所属部门 / a liaison account needs its department' };
    if (!state.get('departments', departmentId)) return { status: 400, code: 'unknown-department', message: `没有部门 ${departmentId}（请从基础数据的部门中选择） / no department ${departmentId}` };
  }
  if (role === 'field') {
    if (staffId === null) return { status: 400, code: 'staff-required', message: '网格员账号须选择对应的网格员（工号） / a field account needs its staff member' };
    const staff = state.get('staff', staffId);
    if (!staff) return { status: 400, code: 'unknown-staff', message: `没有工号为 ${staffId} 的网格员 / no staff member ${staffId}` };
    const holder = accounts.find((u) => u.staffId === staffId && u.id !== self);
    if (holder) return { status: 409, code: 'staff-taken', message: `网格员 ${staff.name}（${staffId}）已有账号 ${holder.id} / staff member ${staffId} already has the account ${holder.id}` };
  }
  return { departmentId, staffId };
}

/** What a user's row shows of its links: the department's name, the staff member's name and grid. */
export function rowLinks(user: UserRecord, state: CityState): Pick<AdminUserRow, 'department' | 'staff'> {
  const department = user.departmentId === null ? null : { id: user.departmentId, name: state.get('departments', user.departmentId)?.name ?? null };
  if (user.staffId === null) return { department, staff: null };
  const staff = state.get('staff', user.staffId);
  const grid = staff ? state.get('grids', staff.gridId) : undefined;
  return { department, staff: { id: user.staffId, name: staff?.name ?? null, gridId: staff?.gridId ?? null, gridName: grid?.name ?? null } };
}
