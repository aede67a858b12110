/**
 * The sign-in routes: POST /auth/login {user, password, client: {id, name?}, app?} → 200 {sessionToken, expiresAt,
 * user: {id, name, role}}; 401 wrong user name or password (never which), 423 locked (lockedUntil in the answer),
 * 403 disabled, 403 wrong-app (the account is for another app: console, field, department — backend/auth/apps.ts), 400 a body that is not that, 413 over 4 KiB, 415 not JSON, 429 too many sign-ins at once.
 * POST /auth/logout with the session token as bearer → 204 (the session ended, its connections closed), 401 when
 * the token is no live session. Every answer is JSON {code, message} (message in Chinese and English) but 204.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUTH_LOGIN_PATH, AUTH_LOGOUT_PATH, LoginRequest, describeIssues, validate } from '../../protocol';
import { parseRequestTarget } from '../../web-serving/request-target';
import type { Auth } from './sessions';
import { bearerToken, readBody, send } from '../http-answers';
import type { BackendStore } from '../store/types';
import { reportMisuse } from './api-keys';

export const MAX_AUTH_BODY_BYTES = 4096;
/** Sign-ins checked at once: each costs 32 MiB and ~0.1 s of scrypt; more wait their turn or are refused. */
const MAX_CONCURRENT = 4;

export function authRoutes(auth: Auth, store: Pick<BackendStore, 'findApiKeyByHash' | 'audit'>): (req: IncomingMessage, res: ServerResponse) => boolean {
  let busy = 0;
  return (req, res) => {
    const path = parseRequestTarget(req.url)?.pathname;
    if (path !== AUTH_LOGIN_PATH && path !== AUTH_LOGOUT_PATH) return false;
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST' }).end();
      return true;
    }
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    void (async () => {
      if (path === AUTH_LOGOUT_PATH) {
        req.resume();
        const token = bearerToken(req);
        if (token && (await auth.signOut(token, remote))) return send(res, 204, null);
        // A source system's API key is no sign-in session: refused the same, and audited.
        if (token) await reportMisuse(store, token, 'POST /auth/logout', req.socket.remoteAddress);
        return send(res, 401, { code: 'unauthorized', message: '不是有效的登录会话 / not a live sign-in session' });
      }
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        req.resume();
        return send(res, 415, { code: 'unsupported-media-type', message: '请以 JSON 提交 / send the sign-in as application/json' });
      }
      // The body (4 KiB at most) is read before a slot is taken: a client trickling its body holds no slot.
      const text = await readBody(req, res, MAX_AUTH_BODY_BYTES);
      if (text === null) return;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return send(res, 400, { code: 'invalid', message: '请求不是有效的 JSON / the body is not valid JSON' });
      }
      const body = validate(LoginRequest, json);
      if (!body.ok) return send(res, 400, { code: 'invalid', message: `登录请求无效 / invalid sign-in: ${describeIssues(body.issues)}` });
      if (busy >= MAX_CONCURRENT) return send(res, 429, { code: 'busy', message: '登录请求过多，请稍后再试 / too many sign-ins at once: try again in a moment' });
      busy++;
      try {
        const { user, password, client, app } = body.value;
        const result = await auth.signIn(user, password, { id: client.id, name: client.name ?? null }, remote, app ?? 'console');
        if (result.ok) return send(res, 200, { sessionToken: result.sessionToken, expiresAt: result.expiresAt, user: result.user });
        return send(res, result.status, { code: result.code, message: result.message, ...(result.lockedUntil ? { lockedUntil: result.lockedUntil } : {}) });
      } finally {
        busy--;
      }
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { code: 'internal', message: `登录服务出错 / sign-in failed: ${(e as Error).message.slice(0, 200)}` });
    });
    return true;
  };
}
