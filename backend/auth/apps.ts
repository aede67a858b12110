/**
 * Which app an account may use (分层授权: one kind of account per app): console roles sign in at the console, 网格员
 * (field) at the field app, 部门联络员 (liaison) at the department page — domain/permissions.ts APP_OF_ROLE. A
 * sign-in at another app, or a session token presented at another app's routes or at the console's WebSocket, is
 * refused with 403 `wrong-app` and a message naming the app the account is for, and audited as
 * 'sign-in-refused' reason 'wrong-app'. The sign-in checks this only after the password matched (a guesser learns
 * nothing), and it does not count as a failed sign-in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { APP_OF_ROLE, type SignInApp } from '../../domain';
import type { UserRole } from '../../protocol';
import type { AuditEntry, BackendStore, UserRecord } from '../store/types';
import { hashToken } from '../users';
import { bearerToken, send } from '../http-answers';
import { parseRequestTarget } from '../../web-serving/request-target';

export type { SignInApp };

export const APP_TEXT: Record<SignInApp, { zh: string; en: string }> = {
  console: { zh: '指挥调度台', en: 'the console' },
  field: { zh: '网格员外勤端', en: 'the field app' },
  department: { zh: '部门联络页', en: 'the department page' },
};

export interface WrongApp {
  status: 403;
  code: 'wrong-app';
  message: string;
  /** The app the account is for. */
  app: SignInApp;
}

/** Null when `role` may use `app`; otherwise the refusal, naming the app the account is for. */
export function wrongApp(role: UserRole, app: SignInApp): WrongApp | null {
  const own = APP_OF_ROLE[role];
  if (own === app) return null;
  const message = `该账号只能登录${APP_TEXT[own].zh}，不能登录${APP_TEXT[app].zh} / this account is for ${APP_TEXT[own].en}, not ${APP_TEXT[app].en}`;
  return { status: 403, code: 'wrong-app', message, app: own };
}

/** The audit line of a refusal for the wrong app (sign-in, a bearer route, the WebSocket hello). */
export function wrongAppAudit(userId: string, asked: SignInApp, own: SignInApp, detail: Record<string, unknown>): Omit<AuditEntry, 'at'> {
  return { userId, kind: 'sign-in-refused', detail: { ...detail, reason: 'wrong-app', app: asked, accountApp: own } };
}

/** Paths that are not the console's: their own routes check their own app (the field app, the department page). */
const NOT_CONSOLE = /^\/(auth|field|department)(\/|$)/;
const ATTACHMENTS = /^\/attachments(\/|$)/;

/**
 * The console's HTTP routes behind a gate: a bearer token of a field or liaison account is refused there (403
 * wrong-app, audited) before any console route reads it. A request without a bearer, or to another app's paths,
 * goes straight to `routes`; one with a bearer waits for its user to be read, then goes on (404 when no route
 * takes it, as the server would answer).
 */
export function consoleAppGate(
  store: Pick<BackendStore, 'findUserByTokenHash' | 'audit'>,
  routes: (req: IncomingMessage, res: ServerResponse) => boolean,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = parseRequestTarget(req.url)?.pathname ?? '';
    const token = bearerToken(req);
    // Attachments are every app's: who may upload or read is the attachments route's rule (mayUpload, mayRead).
    if (!token || NOT_CONSOLE.test(path) || ATTACHMENTS.test(path)) return routes(req, res);
    void (async () => {
      const user: UserRecord | null = await store.findUserByTokenHash(hashToken(token));
      const refusal = user ? wrongApp(user.role, 'console') : null;
      if (!user || !refusal) {
        if (!routes(req, res)) send(res, 404, 'not found');
        return;
      }
      req.resume();
      const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
      await store.audit([{ at: new Date().toISOString(), ...wrongAppAudit(user.id, 'console', refusal.app, { remote, path: path.slice(0, 200) }) }]);
      send(res, 403, { code: refusal.code, message: refusal.message });
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { code: 'internal', message: `服务出错 / failed: ${(e as Error).message.slice(0, 200)}` });
    });
    return true;
  };
}
