/**
 * API keys of source systems, administered (接入密钥, protocol/api-keys.ts): GET /admin/api-keys lists them (never a
 * key nor its hash), POST /admin/api-keys {name, source, ratePerMinute?} → 201 with the key shown this once, POST
 * /admin/api-keys/:id/revoke → 200 (409 when revoked already, 404 no such key). City-wide administrators only (the
 * rule of admin-users.ts). Every change, and every refusal of a caller, is audited as 'api-key-admin' (never the
 * key) before it is answered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ADMIN_API_KEYS_PATH, API_KEY_ID_PATTERN, CreateApiKeyRequest, validate, type ApiKeyList, type CreatedApiKey } from '../protocol';
import { parseRequestTarget } from '../web-serving/request-target';
import { decodedSegment, send } from './http-answers';
import { adminJsonBody, adminRoute, refuse } from './admin-route';
import { apiKeyRow, newApiKey } from './auth/api-keys';
import type { BackendStore } from './store/types';

const MAX_BODY_BYTES = 4096;

/** The audit line of a creation or revocation (by an administrator's id, or 'cli' from the command line). */
export const apiKeyAudit = (by: string | null, detail: Record<string, unknown>): Parameters<BackendStore['audit']>[0][number] => ({ at: new Date().toISOString(), userId: by, kind: 'api-key-admin', detail });

export function adminApiKeysRoutes(store: BackendStore): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = parseRequestTarget(req.url);
    if (!url || (url.pathname !== ADMIN_API_KEYS_PATH && !url.pathname.startsWith(`${ADMIN_API_KEYS_PATH}/`))) return false;
    const revokeOf = /^\/([^/]{1,64})\/revoke$/.exec(url.pathname.slice(ADMIN_API_KEYS_PATH.length));
    const itemId = revokeOf ? decodedSegment(revokeOf[1]!) : null;
    if (revokeOf && itemId === null) {
      req.resume();
      send(res, 400, { code: 'invalid', message: '地址中的密钥编号无法解码 / the key id in the path is not valid percent-encoding' });
      return true;
    }
    const allowed = url.pathname === ADMIN_API_KEYS_PATH ? ['GET', 'POST'] : revokeOf ? ['POST'] : [];
    if (allowed.length === 0) {
      req.resume();
      send(res, 404, { code: 'not-found', message: `没有这个地址 / no such route: ${url.pathname.slice(0, 100)}` });
      return true;
    }
    if (!allowed.includes(req.method ?? '')) {
      req.resume();
      res.writeHead(405, { Allow: allowed.join(', ') }).end();
      return true;
    }
    const action = req.method === 'GET' ? 'list' : itemId === null ? 'create' : 'revoke';
    let target: string | null = itemId?.slice(0, 64) ?? null;
    // Every refusal is audited (who tried what; null: no valid token).
    const audit = (by: string | null, detail: { refused: number; code: string }): Promise<void> => store.audit([apiKeyAudit(by, { action, target, ...detail })]);
    adminRoute(req, res, { store, what: ['接入密钥管理', 'API key administration'], audit }, async (actor) => {
      const by = actor.id;
      if (action === 'list') {
        req.resume();
        const list: ApiKeyList = { keys: (await store.listApiKeys()).map(apiKeyRow) };
        return send(res, 200, list);
      }
      if (action === 'revoke') {
        req.resume();
        const key = API_KEY_ID_PATTERN.test(itemId!) ? (await store.listApiKeys()).find((k) => k.id === itemId) : undefined;
        if (!key) return refuse(404, 'not-found', `没有接入密钥 ${target} / no API key ${target}`);
        if (!(await store.revokeApiKey(key.id, new Date().toISOString(), by))) refuse(409, 'revoked', `接入密钥 ${key.id}（${key.name}）已经吊销 / this API key is revoked already`);
        await store.audit([apiKeyAudit(by, { action, target: key.id, name: key.name, source: key.source })]);
        const row = (await store.listApiKeys()).find((k) => k.id === key.id)!;
        return send(res, 200, apiKeyRow(row));
      }
      const json = await adminJsonBody(req, res, MAX_BODY_BYTES);
      if (json === null) return;
      const body = validate(CreateApiKeyRequest, json);
      if (!body.ok) {
        const issue = body.issues[0]!;
        const path = issue.path || '(body)';
        return refuse(400, 'invalid', `接入密钥的资料有误：${path} ${issue.message} / invalid API key: ${path}: ${issue.message}`, path);
      }
      const { key, record, webhookSecret } = newApiKey({ ...body.value, createdBy: by, at: new Date().toISOString() });
      target = record.id;
      await store.createApiKey(record);
      await store.audit([apiKeyAudit(by, { action, target: record.id, name: record.name, source: record.source, ratePerMinute: record.ratePerMinute, webhookUrl: record.webhookUrl })]);
      const created: CreatedApiKey = { key, apiKey: apiKeyRow(record), ...(webhookSecret ? { webhookSecret } : {}) };
      return send(res, 201, created);
    });
    return true;
  };
}
