/**
 * The versioned routes for source systems (/api/v1/…): GET /api/v1/source, who the key's holder is (name,
 * source, rate), and the ingest API's routes handed in (`more`: POST /api/v1/reports, GET /api/v1/openapi.json,
 * backend/ingest/). Every route checks the key with ApiKeys.sourceOf (401 unknown, 403 revoked, 429 with
 * Retry-After over the key's rate); every answer is JSON, a refusal {code, message} with a Chinese message.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_V1_PREFIX, API_V1_SOURCE_PATH, type SourceIdentity } from '../../protocol';
import { parseRequestTarget } from '../../web-serving/request-target';
import { send } from '../http-answers';
import type { ApiKeys, SourceCheck } from './api-keys';

/** A refused check answered: JSON {code, message}, Retry-After on 429. */
export function sendRefusal(res: ServerResponse, check: Extract<SourceCheck, { ok: false }>): void {
  if (check.retryAfterS !== undefined) res.setHeader('Retry-After', String(check.retryAfterS));
  send(res, check.status, { code: check.code, message: check.message });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function apiV1Routes(keys: ApiKeys, more: Readonly<Record<string, Handler>> = {}): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = parseRequestTarget(req.url)?.pathname;
    if (path === undefined || !(path === API_V1_PREFIX.slice(0, -1) || path.startsWith(API_V1_PREFIX))) return false;
    const handler = Object.hasOwn(more, path) ? more[path] : undefined;
    if (handler) {
      handler(req, res);
      return true;
    }
    req.resume();
    if (path !== API_V1_SOURCE_PATH) {
      send(res, 404, { code: 'not-found', message: `没有这个接口 / no such route: ${path.slice(0, 100)}` });
      return true;
    }
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      send(res, 405, { code: 'method-not-allowed', message: `${API_V1_SOURCE_PATH} 只接受 GET / only GET` });
      return true;
    }
    void (async () => {
      const check = await keys.sourceOf(req);
      if (!check.ok) return sendRefusal(res, check);
      const { key } = check;
      const answer: SourceIdentity = { keyId: key.id, name: key.name, source: key.source as SourceIdentity['source'], ratePerMinute: key.ratePerMinute };
      send(res, 200, answer);
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { code: 'internal', message: `接口出错 / the API failed: ${(e as Error).message.slice(0, 200)}` });
    });
    return true;
  };
}
