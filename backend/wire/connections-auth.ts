/**
 * Sign-in sessions (backend/auth) over this instance's connections: the sessions its open connections use are
 * renewed at each sweep, and a session that ended (signed out, expired, its user disabled) closes every
 * connection on it with session-expired (4011) — the console then asks for the password in place — and is told
 * to `sessionEnded` (the camera streams: their viewers on it are checked again at once). A user found
 * disabled at a sweep (by the command line, or on another instance) has every connection closed, static-token
 * ones too, with the same code and the reason 'disabled'. A user's change announced by the store (user-changes.ts:
 * made on any instance, or by the command line on PostgreSQL) closes their connections here at once: disabled
 * 4011, role or scope 4012 rightsChanged (the console reconnects to a fresh snapshot of its new area).
 */
import { WireCloseCode } from '../../protocol';
import type { Logger } from '../../node-util/logger';
import { Auth, type AuthLimits } from '../auth/sessions';
import type { BackendStore, Watch } from '../store/types';
import type { ClientOutput, Session } from './session';

/** What a disabled user's connections are told as they close (4011). */
export const DISABLED_MESSAGE = '账号已停用（disabled），请联系系统管理员 / this account is disabled: ask the administrator';

/** Closes every open connection of a disabled user (static-token ones too) with 4011 'disabled'; how many. */
export function closeDisabled(sessions: ReadonlySet<Session>, out: Pick<ClientOutput, 'refuse'>, userId: string): number {
  let closed = 0;
  for (const s of sessions) {
    if (s.actor?.id !== userId || s.phase === 'closed' || s.closing) continue;
    out.refuse(s, 'session-expired', DISABLED_MESSAGE, WireCloseCode.sessionExpired);
    closed++;
  }
  return closed;
}

/** What a user's connections are told as they close after their role or area scope changed (4012). */
export const RIGHTS_MESSAGE = '角色或辖区已由管理员更改，正在重新同步 / your role or area was changed: syncing again';

/** Closes every open connection of a user whose role or area changed with 4012 (the console resyncs); how many. */
export function closeRightsChanged(sessions: ReadonlySet<Session>, out: Pick<ClientOutput, 'closeSession'>, userId: string): number {
  let closed = 0;
  for (const s of sessions) {
    if (s.actor?.id !== userId || s.phase === 'closed' || s.closing) continue;
    out.closeSession(s, WireCloseCode.rightsChanged, RIGHTS_MESSAGE);
    closed++;
  }
  return closed;
}

/** Closes this instance's connections of every user the store says changed (until the watch is closed). */
export function followUserChanges(o: { store: BackendStore; log: Logger; sessions: ReadonlySet<Session>; out: Pick<ClientOutput, 'refuse' | 'closeSession'> }): Watch {
  return o.store.watchUsers((change) => {
    const closed = change.what === 'disabled' ? closeDisabled(o.sessions, o.out, change.id) : change.what === 'rights' ? closeRightsChanged(o.sessions, o.out, change.id) : 0;
    if (closed > 0) o.log.info('connections closed: the user changed', { user: change.id, what: change.what, closed });
  });
}

export function connectionsAuth(o: { store: BackendStore; log: Logger; sessions: ReadonlySet<Session>; out: Pick<ClientOutput, 'refuse' | 'closeSession'>; limits?: Partial<AuthLimits>; sessionEnded?: (tokenHash: string) => void }): Auth {
  return new Auth({
    store: o.store,
    log: o.log,
    ...(o.limits ? { limits: o.limits } : {}),
    liveSessions: () => [...o.sessions].flatMap((s) => (s.signInSession && s.phase !== 'closed' ? [s.signInSession] : [])),
    liveUsers: () => [...o.sessions].flatMap((s) => (s.actor && s.phase !== 'closed' && !s.closing ? [{ id: s.actor.id, role: s.actor.role, districtScope: s.actor.districtScope }] : [])),
    closeDisabledUser: (userId) => closeDisabled(o.sessions, o.out, userId),
    closeChangedUser: (userId) => closeRightsChanged(o.sessions, o.out, userId),
    closeSession: (hash, why) => {
      o.sessionEnded?.(hash);
      let closed = 0;
      for (const s of o.sessions) {
        if (s.signInSession !== hash || s.phase === 'closed') continue;
        const said = why === 'signed out' ? '已退出登录' : why === 'disabled' ? '账号已停用' : '已过期';
        o.out.refuse(s, 'session-expired', `登录会话已结束（${said}），请重新登录 / the sign-in session ended (${why}): sign in again`, WireCloseCode.sessionExpired);
        closed++;
      }
      return closed;
    },
  });
}
