/**
 * User administration (用户管理, protocol/users-admin.ts): GET /admin/users, POST /admin/users, PATCH
 * /admin/users/:id — for a signed-in administrator of the whole city only (401 without a token, 403 otherwise).
 * Rules: a user cannot change their own role, scope or disabled flag (403, "cannot raise their own rights"); the
 * last enabled city-wide administrator cannot be demoted, narrowed or disabled (409); a scope names stored
 * districts, streets or communities (400 naming the unknown ones); a login taken is 409. Every change — and every
 * refusal of a signed-in caller — is written to the audit as 'user-admin' (before/after of name, role, scope,
 * disabled; a password only as "set", never its text) before it is answered. Changes are made one at a time.
 *
 * A change takes effect at once: the HTTP routes read the user at every request; their open wire connections are
 * closed — disabled: 4011 sessionExpired (their sign-in sessions end, the console asks for a password and is
 * refused); role or scope: 4012 rightsChanged, the console reconnects and, because its cursor was synced under
 * another area (the welcome's syncStamp, wire/sync.ts), gets a fresh snapshot of the new scope instead of deltas.
 * The other instances close the user's connections too, told by the store (store/user-changes.ts).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CityState } from '../domain';
import {
  ADMIN_USERS_PATH,
  CreateUserRequest,
  UpdateUserRequest,
  USER_ID_PATTERN,
  WireCloseCode,
  describeIssues,
  validate,
  type AdminUserList,
  type AdminUserRow,
  type ScopeUnit,
  type UserRole,
} from '../protocol';
import { parseRequestTarget } from '../web-serving/request-target';
import { decodedSegment, send } from './http-answers';
import { adminJsonBody, adminRoute, refuse } from './admin-route';
import { hashPassword } from './auth/password';
import type { BackendStore, UserRecord } from './store/types';
import { hashToken } from './users';
import { SIM_ACCOUNT_PREFIX } from './live-simulator/people';
import { letSimulatorGo } from './live-simulator/live-people';
import { RIGHTS_MESSAGE } from './wire/connections-auth';
import { checkLinks, rowLinks, type Links } from './users-links';

const MAX_BODY_BYTES = 16 * 1024;

export interface AdminUsersOptions {
  store: BackendStore;
  state: CityState;
  /** Closes a user's open wire connections with this code (the wire server); answers how many. */
  closeUser: (userId: string, code: number, reason: string) => number;
}

type Shape = { name: string; role: UserRole; scope: string[] | null; disabled: boolean; departmentId: string | null; staffId: string | null };
const LEVELS = new Set(['district', 'street', 'community']);

/** A unique index refused the write (SQLite's SQLITE_CONSTRAINT_UNIQUE, PostgreSQL's 23505). */
const uniqueViolation = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
};

/**
 * A write that another administrator's (or the command line's) may have beaten to a staff member: the one account
 * per staff member the database keeps (users_staff) is a 409, as checkLinks would have said a moment earlier. The
 * simulator never holds a staff member against it: its account lets go first (letSimulatorGo), and again should the
 * simulator have taken the staff member back between that and the write (a few tries, then the 409).
 */
async function linkedWrite<T>(store: Pick<BackendStore, 'listUsers' | 'upsertUsers'>, write: () => Promise<T>, staffId: string | null): Promise<T> {
  for (let tries = 0; ; tries++) {
    if (staffId !== null) await letSimulatorGo(store, staffId);
    try {
      return await write();
    } catch (e) {
      if (staffId !== null && uniqueViolation(e)) {
        const holder = (await store.listUsers()).find((u) => u.staffId === staffId);
        if (tries < 3 && holder?.id.startsWith(SIM_ACCOUNT_PREFIX)) continue;
        refuse(409, 'staff-taken', `网格员 ${staffId} 已有账号 / staff member ${staffId} already has an account`);
      }
      throw e;
    }
  }
}

export function adminUsersRoutes(o: AdminUsersOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { store, state } = o;
  /** One change at a time (the checks and the writes of one request are not interleaved with another's). */
  let turn: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = turn.then(work, work);
    turn = next.catch(() => undefined);
    return next;
  };
  const audit = (by: string | null, detail: Record<string, unknown>): Promise<void> => store.audit([{ at: new Date().toISOString(), userId: by, kind: 'user-admin', detail }]);

  const unitsOf = (scope: readonly string[]): { units: ScopeUnit[]; missing: string[] } => {
    const units: ScopeUnit[] = [];
    const missing: string[] = [];
    for (const id of scope) {
      const u = state.get('adminUnits', id);
      if (u && LEVELS.has(u.level)) units.push({ id: u.id, level: u.level as ScopeUnit['level'], code: u.code, name: u.name });
      else missing.push(id);
    }
    return { units, missing };
  };

  async function shapeOf(user: UserRecord): Promise<Shape> {
    const login = await store.findLogin(user.id);
    return { name: user.name, role: user.role, scope: user.districtScope, disabled: login?.disabled ?? false, departmentId: user.departmentId, staffId: user.staffId };
  }

  /** The links (department, staff member) a user of `role` is stored with, or the refusal (users-links.ts). */
  async function checkedLinks(role: UserRole, links: Links, self: string | null): Promise<Links> {
    // The simulator's accounts hold no staff member against an administrator (linkedWrite lets them go).
    const checked = checkLinks(role, links, state, (await store.listUsers()).filter((u) => !u.id.startsWith(SIM_ACCOUNT_PREFIX)), self);
    if ('code' in checked) refuse(checked.status, checked.code, checked.message);
    return checked;
  }

  async function rowOf(user: UserRecord): Promise<AdminUserRow> {
    const login = await store.findLogin(user.id);
    const scope = user.districtScope === null ? null : unitsOf(user.districtScope);
    const [signIn] = await store.readAudit({ userId: user.id, kind: 'sign-in', limit: 1 });
    const locked = login?.lockedUntil && Date.parse(login.lockedUntil) > Date.now() ? login.lockedUntil : null;
    return { id: user.id, name: user.name, role: user.role, scope: scope?.units ?? null, missingUnits: scope?.missing ?? [], disabled: login?.disabled ?? false, hasPassword: Boolean(login?.passwordHash), lockedUntil: locked, lastSignIn: signIn?.at ?? null, ...rowLinks(user, state) };
  }

  /** The scope as stored (unique ids, each a stored district, street or community). */
  function checkedScope(scope: string[] | null): string[] | null {
    if (scope === null) return null;
    const unique = [...new Set(scope)];
    const { missing } = unitsOf(unique);
    if (missing.length > 0) refuse(400, 'unknown-units', `辖区中有不存在的区县、街道或社区：${missing.join('、')} / not a stored district, street or community: ${missing.join(', ')}`);
    return unique;
  }

  /** Whether, after `target` becomes `after`, an enabled administrator of the whole city is left. */
  async function adminLeft(target: string, after: Shape): Promise<boolean> {
    for (const u of await store.listUsers()) {
      const s = u.id === target ? after : await shapeOf(u);
      if (s.role === 'admin' && s.scope === null && !s.disabled) return true;
    }
    return false;
  }

  /** Closes the user's connections on this instance as their change requires (the store tells the others). */
  async function takeEffect(id: string, before: Shape, after: Shape): Promise<number> {
    if (after.disabled && !before.disabled) return o.closeUser(id, WireCloseCode.sessionExpired, '账号已被管理员停用 / this account was disabled by the administrator');
    const rights = before.role !== after.role || JSON.stringify(before.scope) !== JSON.stringify(after.scope);
    if (!rights) return 0;
    return o.closeUser(id, WireCloseCode.rightsChanged, RIGHTS_MESSAGE);
  }

  async function create(actor: UserRecord, body: CreateUserRequest): Promise<AdminUserRow> {
    const scope = checkedScope(body.scope);
    // The simulator's people (`sim-…`) are made and let go by the simulator: a person's login never starts so.
    if (body.id.toLowerCase().startsWith(SIM_ACCOUNT_PREFIX)) refuse(400, 'reserved', `登录名不能以 ${SIM_ACCOUNT_PREFIX} 开头（留给模拟人员） / logins starting ${SIM_ACCOUNT_PREFIX} are the simulator's`);
    if (await store.findLogin(body.id)) refuse(409, 'duplicate', `登录名 ${body.id} 已被占用 / the login ${body.id} is taken`);
    const links = await checkedLinks(body.role, { departmentId: body.departmentId ?? null, staffId: body.staffId ?? null }, null);
    const passwordHash = await hashPassword(body.password);
    // No static token: a random one no one is told (the column requires one); the user signs in with the password.
    const record: UserRecord = { id: body.id, name: body.name, role: body.role, districtScope: scope, tokenHash: hashToken(randomBytes(32).toString('base64url')), ...links };
    // One write: the user and their password together (never a user without one), none when the id was just taken.
    if (!(await linkedWrite(store, () => store.createUser(record, passwordHash), record.staffId))) refuse(409, 'duplicate', `登录名 ${body.id} 已被占用 / the login ${body.id} is taken`);
    const after: Shape = { name: body.name, role: body.role, scope, disabled: false, ...links };
    await audit(actor.id, { action: 'create', target: body.id, after, passwordSet: true });
    return rowOf(record);
  }

  async function update(actor: UserRecord, id: string, body: UpdateUserRequest): Promise<AdminUserRow> {
    const user = (await store.listUsers()).find((u) => u.id === id);
    if (!user) refuse(404, 'not-found', `没有用户 ${id} / no user ${id}`);
    const before = await shapeOf(user);
    const role = body.role ?? before.role;
    // A role that takes no link drops the old one (a liaison made a dispatcher keeps no department).
    const links = await checkedLinks(
      role,
      { departmentId: body.departmentId !== undefined ? body.departmentId : role === 'liaison' ? before.departmentId : null, staffId: body.staffId !== undefined ? body.staffId : role === 'field' ? before.staffId : null },
      id,
    );
    const after: Shape = {
      name: body.name ?? before.name,
      role,
      scope: body.scope === undefined ? before.scope : checkedScope(body.scope),
      disabled: body.disabled ?? before.disabled,
      ...links,
    };
    const linksChange = after.departmentId !== before.departmentId || after.staffId !== before.staffId;
    const rightsChange = after.role !== before.role || JSON.stringify(after.scope) !== JSON.stringify(before.scope) || after.disabled !== before.disabled || linksChange;
    if (rightsChange && !(await adminLeft(id, after))) refuse(409, 'last-admin', '不能停用或降级最后一位全市系统管理员 / the last enabled city-wide administrator cannot be demoted, narrowed or disabled');
    if (rightsChange && id === actor.id) refuse(403, 'own-rights', '不能更改自己的角色、辖区或停用状态，请由另一位系统管理员操作 / you cannot change your own role, area or disabled flag: another administrator must');
    if (after.name !== before.name || after.role !== before.role || JSON.stringify(after.scope) !== JSON.stringify(before.scope) || linksChange) {
      await linkedWrite(store, () => store.upsertUsers([{ ...user, name: after.name, role: after.role, districtScope: after.scope, departmentId: after.departmentId, staffId: after.staffId }]), after.staffId);
    }
    if (after.disabled !== before.disabled) await store.setUserDisabled(id, after.disabled, new Date().toISOString());
    if (body.password !== undefined) await store.setPassword(id, await hashPassword(body.password));
    const changed = (Object.keys(after) as Array<keyof Shape>).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
    const pick = (s: Shape): Partial<Shape> => Object.fromEntries(changed.map((k) => [k, s[k]]));
    const closed = await takeEffect(id, before, after);
    await audit(actor.id, { action: 'update', target: id, before: pick(before), after: pick(after), passwordSet: body.password !== undefined, connectionsClosed: closed });
    return rowOf((await store.listUsers()).find((u) => u.id === id)!);
  }

  return (req, res) => {
    const url = parseRequestTarget(req.url);
    if (!url || (url.pathname !== ADMIN_USERS_PATH && !url.pathname.startsWith(`${ADMIN_USERS_PATH}/`))) return false;
    const itemId = url.pathname === ADMIN_USERS_PATH ? null : decodedSegment(url.pathname.slice(ADMIN_USERS_PATH.length + 1));
    if (itemId === null && url.pathname !== ADMIN_USERS_PATH) {
      req.resume();
      send(res, 400, { code: 'invalid', message: `地址中的用户名无法解码 / the user id in the path is not valid percent-encoding` });
      return true;
    }
    const allowed = itemId === null ? ['GET', 'POST'] : ['PATCH'];
    if (!allowed.includes(req.method ?? '')) {
      req.resume();
      res.writeHead(405, { Allow: allowed.join(', ') }).end();
      return true;
    }
    const action = req.method === 'GET' ? 'list' : req.method === 'POST' ? 'create' : 'update';
    let target: string | null = itemId?.slice(0, 64) ?? null;
    // Every refusal is audited (who tried what; null: no valid token).
    const refused = (by: string | null, detail: { refused: number; code: string }): Promise<void> => audit(by, { action, target, ...detail });
    adminRoute(req, res, { store, what: ['用户管理', 'user administration'], audit: refused }, async (actor) => {
      if (action === 'list') {
        req.resume();
        const list: AdminUserList = { users: await Promise.all((await store.listUsers()).map(rowOf)) };
        return send(res, 200, list);
      }
      if (itemId !== null && !USER_ID_PATTERN.test(itemId)) refuse(404, 'not-found', `没有用户 ${target} / no user ${target}`);
      const json = await adminJsonBody(req, res, MAX_BODY_BYTES);
      if (json === null) return;
      if (action === 'create') {
        const body = validate(CreateUserRequest, json);
        if (!body.ok) return refuse(400, 'invalid', `新用户的资料有误 / invalid new user: ${describeIssues(body.issues)}`);
        target = body.value.id;
        const row = await serial(() => create(actor, body.value));
        return send(res, 201, row);
      }
      const body = validate(UpdateUserRequest, json);
      if (!body.ok) return refuse(400, 'invalid', `修改内容有误 / invalid change: ${describeIssues(body.issues)}`);
      const row = await serial(() => update(actor, itemId!, body.value));
      return send(res, 200, row);
    });
    return true;
  };
}
