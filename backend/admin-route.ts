/**
 * What the administration routes share (users: admin-users.ts, API keys: admin-api-keys.ts): the rule (a signed-in
 * administrator of the whole city), a refusal thrown anywhere in the work and answered as `{code, message, path?}`,
 * every refusal of a caller audited (who tried what; null: no valid token) before it is answered, and a JSON body
 * read bounded (415 not JSON, 413 too large, 400 unparsable). One dispatch, so the two routes cannot differ.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerUser, readBody, send } from './http-answers';
import type { BackendStore, UserRecord } from './store/types';
import { ROLE_TEXT } from './users-links';

export type Refusal = { status: number; code: string; message: string; path?: string };

class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

/** Ends the work with this refusal (answered and audited by adminRoute). */
export function refuse(status: number, code: string, message: string, path?: string): never {
  throw new Refused({ status, code, message, ...(path !== undefined ? { path } : {}) });
}

/**
 * The rule of every administration route (users, API keys): a signed-in administrator of the whole city. The
 * refusal otherwise (401 without a valid token, 403 another role or a narrower scope), `what` naming the work.
 */
export function cityAdminRefusal(actor: UserRecord | null, what: string, whatEn: string): Refusal | null {
  if (!actor) return { status: 401, code: 'unauthorized', message: '需要有效的令牌 / a valid bearer token is required' };
  if (actor.role === 'admin' && actor.districtScope === null) return null;
  return { status: 403, code: 'forbidden', message: `${what}仅限全市范围的系统管理员，您的角色为${ROLE_TEXT[actor.role]}${actor.districtScope !== null ? '（限于部分辖区）' : ''} / ${whatEn} is for city-wide administrators only` };
}

/** A JSON body (at most `limit` bytes) as parsed; null when 413 was answered. Refuses 415 and 400. */
export async function adminJsonBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    req.resume();
    refuse(415, 'unsupported-media-type', '请以 JSON 提交 / send application/json');
  }
  const text = await readBody(req, res, limit);
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return refuse(400, 'invalid', '请求不是有效的 JSON / the body is not valid JSON');
  }
}

export interface AdminRoute {
  store: Pick<BackendStore, 'findUserByTokenHash' | 'findApiKeyByHash' | 'audit'>;
  /** The work's name in the 403 (Chinese, English) and in the 500. */
  what: readonly [string, string];
  /** Writes the audit line of a refusal (the route's own kind). */
  audit(by: string | null, detail: { refused: number; code: string }): Promise<void>;
}

/**
 * Runs `work` for a city-wide administrator (the caller checked and refused otherwise); a refusal thrown (refuse)
 * or an error (500) is audited through `o.audit`, then answered.
 */
export function adminRoute(req: IncomingMessage, res: ServerResponse, o: AdminRoute, work: (actor: UserRecord) => Promise<void>): void {
  let actor: UserRecord | null = null;
  void (async () => {
    actor = await bearerUser(o.store, req);
    const refusal = cityAdminRefusal(actor, o.what[0], o.what[1]);
    if (refusal) refuse(refusal.status, refusal.code, refusal.message);
    await work(actor!);
  })().catch(async (e: unknown) => {
    const refusal: Refusal = e instanceof Refused ? e.refusal : { status: 500, code: 'internal', message: `${o.what[0]}出错 / ${o.what[1]} failed: ${(e as Error).message.slice(0, 200)}` };
    req.resume();
    try {
      await o.audit((actor as UserRecord | null)?.id ?? null, { refused: refusal.status, code: refusal.code });
    } finally {
      if (!res.headersSent) send(res, refusal.status, { code: refusal.code, message: refusal.message, ...(refusal.path !== undefined ? { path: refusal.path } : {}) });
    }
  });
}
