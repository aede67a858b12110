/**
 * The bearer of the field app's and the department page's routes (/field/api/*, /department/api/*): a sign-in
 * session of an account of that app (backend/auth/apps.ts). 401 `unauthorized` without a bearer or for an unknown
 * one, 401 `session-expired` for a session that ended (signed out, expired, disabled: the page goes back to its
 * sign-in form), 403 `wrong-app` (audited) for another app's account. Every message in Chinese and English.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEntry, UserRecord } from '../store/types';
import { bearerToken, send } from '../http-answers';
import type { Auth } from './sessions';
import { wrongApp, wrongAppAudit, type SignInApp } from './apps';

export type AppBearer = { user: UserRecord } | { status: 401 | 403; code: 'unauthorized' | 'session-expired' | 'wrong-app'; message: string };

export async function sessionBearer(auth: Pick<Auth, 'check'>, store: { audit(entries: AuditEntry[]): Promise<void> }, req: IncomingMessage, app: SignInApp): Promise<AppBearer> {
  const token = bearerToken(req);
  const checked = token ? await auth.check(token) : null;
  if (!checked) return { status: 401, code: 'unauthorized', message: '请先登录 / sign in first' };
  if ('ended' in checked) {
    const said = checked.why === 'sign-out' ? '已退出登录' : checked.why === 'disabled' ? '账号已停用' : '已过期';
    return { status: 401, code: 'session-expired', message: `登录已失效（${said}），请重新登录 / the sign-in session ended (${checked.why}): sign in again` };
  }
  const wrong = wrongApp(checked.user.role, app);
  if (wrong) {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    await store.audit([{ at: new Date().toISOString(), ...wrongAppAudit(checked.user.id, app, wrong.app, { remote, path: (req.url ?? '').split('?')[0]!.slice(0, 200) }) }]);
    return { status: 403, code: 'wrong-app', message: wrong.message };
  }
  return { user: checked.user };
}

/**
 * Runs `work` for the user of a request to an app's route (the field app's, the department page's); answers the
 * bearer's refusal otherwise (the body left unread is drained), and a failure of the work as 500 `failed: <why>`.
 */
export function withAppBearer(
  o: { auth: Pick<Auth, 'check'>; store: { audit(entries: AuditEntry[]): Promise<void> } },
  req: IncomingMessage,
  res: ServerResponse,
  app: SignInApp,
  failed: string,
  work: (user: UserRecord) => Promise<void>,
): void {
  void (async () => {
    const who = await sessionBearer(o.auth, o.store, req, app);
    if ('code' in who) {
      req.resume();
      return send(res, who.status, { code: who.code, message: who.message });
    }
    await work(who.user);
  })().catch((e: unknown) => {
    if (!res.headersSent) send(res, 500, { code: 'internal', message: `${failed}: ${(e as Error).message.slice(0, 200)}` });
  });
}
