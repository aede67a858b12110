/**
 * User administration by the system administrator (用户管理, docs/protocol.md): GET /admin/users lists the console
 * users (never a token or a password hash), POST /admin/users creates one with an initial password, PATCH
 * /admin/users/:id changes a name, role, area scope, the disabled flag or resets the password. Administrators
 * of the whole city only; a user cannot change their own role, scope or disabled flag; every change audited.
 * A 部门联络员 (liaison) account names its department (departmentId), a 网格员 (field) account its staff member
 * (staffId, one account per staff member); other roles name neither.
 */
import { z } from 'zod';
import { IsoTime } from './model';
import { UserRole } from './wire-messages';
import { AUTH_PASSWORD_MAX_LENGTH } from './auth';

export const ADMIN_USERS_PATH = '/admin/users';
/** A new password (initial or reset) has at least this many characters (as every password: backend/auth). */
export const USER_PASSWORD_MIN_LENGTH = 10;
/** A login name: letters, digits, dot, dash, underscore; starts with a letter or digit. */
export const USER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/;
/** Units in one scope at most. */
export const USER_SCOPE_MAX = 200;

export const UserLogin = z.string().regex(USER_ID_PATTERN, 'login: 2–64 letters, digits, . _ - (starting with a letter or digit)');
export const UserDisplayName = z.string().trim().min(1).max(100);
/** Admin unit ids of any level (district, street, community), or null for the whole city. */
export const UserScope = z.array(z.string().min(1).max(64)).min(1).max(USER_SCOPE_MAX).nullable();
export const NewPassword = z
  .string()
  .min(USER_PASSWORD_MIN_LENGTH, `password: at least ${USER_PASSWORD_MIN_LENGTH} characters`)
  .max(AUTH_PASSWORD_MAX_LENGTH)
  .refine((p) => p.trim() === p, 'password: no white space at either end');

export const ScopeUnit = z.object({
  id: z.string(),
  level: z.enum(['district', 'street', 'community']),
  code: z.string(),
  name: z.string(),
});
export type ScopeUnit = z.infer<typeof ScopeUnit>;

export const AdminUserRow = z.object({
  id: z.string(),
  name: z.string(),
  role: UserRole,
  /** Null: the whole city. */
  scope: z.array(ScopeUnit).nullable(),
  /** Ids in the stored scope that the city no longer has (after an import): shown, never dropped silently. */
  missingUnits: z.array(z.string()),
  disabled: z.boolean(),
  hasPassword: z.boolean(),
  /** Locked out after failed sign-ins until this time (null: not locked). */
  lockedUntil: IsoTime.nullable(),
  /** The user's latest sign-in with a password, when the audit has one. */
  lastSignIn: IsoTime.nullable(),
  /** 部门联络员: the department the account acts for (name null: the city no longer has it). */
  department: z.object({ id: z.string(), name: z.string().nullable() }).nullable(),
  /** 网格员: the staff member the account belongs to (name null: the city no longer has them). */
  staff: z.object({ id: z.string(), name: z.string().nullable(), gridId: z.string().nullable(), gridName: z.string().nullable() }).nullable(),
});
export type AdminUserRow = z.infer<typeof AdminUserRow>;

export const AdminUserList = z.object({ users: z.array(AdminUserRow) });
export type AdminUserList = z.infer<typeof AdminUserList>;

/** A department (role liaison) or a staff member (role field) an account is bound to; null: none. */
export const LinkedId = z.string().min(1).max(64).nullable();

export const CreateUserRequest = z
  .object({ id: UserLogin, name: UserDisplayName, role: UserRole, scope: UserScope, password: NewPassword, departmentId: LinkedId.optional(), staffId: LinkedId.optional() })
  .strict();
export type CreateUserRequest = z.infer<typeof CreateUserRequest>;

export const UpdateUserRequest = z
  .object({
    name: UserDisplayName.optional(),
    role: UserRole.optional(),
    scope: UserScope.optional(),
    disabled: z.boolean().optional(),
    password: NewPassword.optional(),
    departmentId: LinkedId.optional(),
    staffId: LinkedId.optional(),
  })
  .strict()
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'nothing to change: give name, role, scope, disabled, password, departmentId or staffId');
export type UpdateUserRequest = z.infer<typeof UpdateUserRequest>;

/** Every refusal: a code and a message in Chinese and English. */
export const AdminUsersRefusal = z.object({ code: z.string().max(64), message: z.string().max(2000) });
export type AdminUsersRefusal = z.infer<typeof AdminUsersRefusal>;
