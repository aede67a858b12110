/**
 * Sign-in sessions (backend/auth) over this instance's connections: the sessions its open connections use are
 * renewed at each sweep, and a session that ended (signed out, expired, its user disabled) closes every
 * connection on it with session-expired (4011) — the console then asks for the password in place — and is told
 * to `sessionEnded` (the camera streams: their viewers on it are checked again at once).
 */
import { WireCloseCode } from '../../protocol';
import type { Logger } from '../../node-util/logger';
import { Auth, type AuthLimits } from '../auth/sessions';
import type { BackendStore } from '../store/types';
import type { ClientOutput, Session } from './session';

export function connectionsAuth(o: { store: BackendStore; log: Logger; sessions: ReadonlySet<Session>; out: Pick<ClientOutput, 'refuse'>; limits?: Partial<AuthLimits>; sessionEnded?: (tokenHash: string) => void }): Auth {
  return new Auth({
    store: o.store,
    log: o.log,
    ...(o.limits ? { limits: o.limits } : {}),
    liveSessions: () => [...o.sessions].flatMap((s) => (s.signInSession && s.phase !== 'closed' ? [s.signInSession] : [])),
    closeSession: (hash, why) => {
      o.sessionEnded?.(hash);
      let closed = 0;
      for (const s of o.sessions) {
        if (s.signInSession !== hash || s.phase === 'closed') continue;
        o.out.refuse(s, 'session-expired', `登录会话已结束（${why === 'signed out' ? '已退出登录' : '已过期'}），请重新登录 / the sign-in session ended (${why}): sign in again`, WireCloseCode.sessionExpired);
        closed++;
      }
      return closed;
    },
  });
}
