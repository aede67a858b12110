/**
 * User administration for the administrator's 用户 workspace (Hub API listUsers, createUser, updateUser): each
 * call goes to the linked backend over HTTP with the link's token (GET/POST /admin/users, PATCH
 * /admin/users/:id) and nothing is cached. The backend decides who may (city-wide administrators) and audits;
 * its refusal comes back as a HubError carrying its Chinese message (403 → unauthorized, 404 → not-found,
 * 400 and 409 → invalid-params).
 */
import { ADMIN_USERS_PATH, AdminUserList, AdminUserRow, AdminUsersRefusal, HubError, describeIssues, validate, type CreateUserRequest, type UpdateUserRequest } from '../protocol';
import type { z } from 'zod';
import type { LayerSource } from './city-layers';

/** One call to an administration route of the backend (users, API keys: api-keys-admin.ts) with the link's token. */
export async function request<S extends z.ZodType>(backend: LayerSource | null, method: string, path: string, body: unknown, answer: S): Promise<z.output<S>> {
  if (!backend) throw new HubError('unavailable', '未连接后端，无法管理用户 / no backend is linked: users are managed there');
  const url = `${backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '')}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${backend.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new HubError('unavailable', `后端不可达，无法管理用户 / could not reach the backend: ${(e as Error).message}`);
  }
  const json: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const refusal = validate(AdminUsersRefusal, json);
    const message = refusal.ok ? refusal.value.message : `后端答复 ${response.status} / the backend answered ${response.status}`;
    const code = response.status === 401 || response.status === 403 ? 'unauthorized' : response.status === 404 ? 'not-found' : response.status === 400 || response.status === 409 ? 'invalid-params' : 'unavailable';
    throw new HubError(code, message);
  }
  const checked = validate(answer, json);
  if (!checked.ok) throw new HubError('unavailable', `the backend sent an invalid answer for ${method} ${ADMIN_USERS_PATH}: ${describeIssues(checked.issues)}`);
  return checked.value;
}

export const listUsers = (backend: LayerSource | null): Promise<AdminUserList> => request(backend, 'GET', ADMIN_USERS_PATH, undefined, AdminUserList);
export const createUser = (backend: LayerSource | null, user: CreateUserRequest): Promise<AdminUserRow> => request(backend, 'POST', ADMIN_USERS_PATH, user, AdminUserRow);
export const updateUser = (backend: LayerSource | null, id: string, change: UpdateUserRequest): Promise<AdminUserRow> =>
  request(backend, 'PATCH', `${ADMIN_USERS_PATH}/${encodeURIComponent(id)}`, change, AdminUserRow);
