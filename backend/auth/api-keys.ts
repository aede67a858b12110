/**
 * API keys of source systems (protocol/api-keys.ts): made, recognised and rate-limited here.
 *
 * A key is `zk_<id>_<secret>`: the id (8 letters and digits, never a leading `-` that a command line would read as an
 * option) names the key in lists and the audit, the secret is
 * 32 random bytes. Only the SHA-256 of the whole key is stored and a key is found by that hash. A fast hash is the
 * standard choice for a secret of 256 random bits (unlike a password, it cannot be guessed from a dictionary, so a
 * slow hash would add cost to every request and no safety); the same hash as the console tokens (users.ts).
 *
 * `sourceOf(req)` is the one check of every /api/v1/ route: the key from `Authorization: Bearer` or `X-Api-Key`,
 * 401 unknown (a console token included), 403 revoked, 429 over the key's rate (a token bucket per key in this
 * instance's memory, Retry-After in seconds). `reportMisuse` audits a key presented where a console token goes.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { API_KEY_PATTERN, API_KEY_RATE_DEFAULT, type ApiKeyRow } from '../../protocol';
import { TokenBucket } from '../rate-limit';
import type { ApiKeyRecord, BackendStore } from '../store/types';
import { hashToken } from '../users';

/** Where a key was last used is written at most this often per key (not on every request). */
const TOUCH_EVERY_MS = 60_000;
/** A key presented as a console token is audited at most this often per key. */
const MISUSE_AUDIT_EVERY_MS = 60_000;

export const hashApiKey = hashToken;

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 8 letters and digits, uniform (bytes of 248 and over are drawn again so that 62 divides evenly). */
export function newApiKeyId(): string {
  let id = '';
  while (id.length < 8) {
    for (const b of randomBytes(16)) {
      if (b < 248 && id.length < 8) id += ID_ALPHABET[b % 62];
    }
  }
  return id;
}
export const looksLikeApiKey = (token: string): boolean => API_KEY_PATTERN.test(token);

/** A new key (the only time it exists in the clear) and its record. */
export function newApiKey(spec: { name: string; source: string; ratePerMinute?: number | undefined; webhookUrl?: string | undefined; createdBy: string; at: string }): { key: string; record: ApiKeyRecord; webhookSecret?: string } {
  const id = newApiKeyId();
  const key = `zk_${id}_${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = {
    id,
    name: spec.name,
    source: spec.source,
    keyHash: hashApiKey(key),
    ratePerMinute: spec.ratePerMinute ?? API_KEY_RATE_DEFAULT,
    createdAt: spec.at,
    createdBy: spec.createdBy,
    revokedAt: null,
    revokedBy: null,
    lastUsedAt: null,
    // The webhook's signing secret (backend/ingest/webhooks.ts) is kept as is: signing needs it.
    webhookUrl: spec.webhookUrl ?? null,
    webhookSecret: spec.webhookUrl ? `whsec_${randomBytes(24).toString('base64url')}` : null,
  };
  return { key, record, ...(record.webhookSecret ? { webhookSecret: record.webhookSecret } : {}) };
}

/** A key as lists show it: never the key nor its hash. */
export function apiKeyRow(k: ApiKeyRecord): ApiKeyRow {
  return {
    id: k.id,
    name: k.name,
    source: k.source as ApiKeyRow['source'],
    prefix: `zk_${k.id.slice(0, 4)}…`,
    ratePerMinute: k.ratePerMinute,
    createdAt: k.createdAt,
    createdBy: k.createdBy,
    revokedAt: k.revokedAt,
    revokedBy: k.revokedBy,
    lastUsedAt: k.lastUsedAt,
    webhookUrl: k.webhookUrl,
  };
}

export type SourceCheck = { ok: true; key: ApiKeyRecord } | { ok: false; status: 401 | 403 | 429; code: string; message: string; retryAfterS?: number };

type KeyStore = Pick<BackendStore, 'findApiKeyByHash' | 'touchApiKey' | 'audit'>;

/** The key a request carries: `Authorization: Bearer <key>`, else `X-Api-Key: <key>`. */
export function presentedKey(req: IncomingMessage): string | null {
  const bearer = /^Bearer (\S{1,512})$/.exec(req.headers.authorization ?? '')?.[1];
  if (bearer) return bearer;
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && /^\S{1,512}$/.test(header) ? header : null;
}

/** The source systems' keys as this instance checks them (one per backend). */
export class ApiKeys {
  private readonly buckets = new Map<string, { rate: number; bucket: TokenBucket }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: KeyStore,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Who sends this request (the one check of every /api/v1/ route). */
  async sourceOf(req: IncomingMessage): Promise<SourceCheck> {
    const presented = presentedKey(req);
    if (!presented) return { ok: false, status: 401, code: 'unauthorized', message: '需要接入密钥（Authorization: Bearer <密钥> 或 X-Api-Key） / an API key is required' };
    const key = looksLikeApiKey(presented) ? await this.store.findApiKeyByHash(hashApiKey(presented)) : null;
    if (!key) return { ok: false, status: 401, code: 'unauthorized', message: '接入密钥无效（不是本系统发放的密钥） / not a valid API key' };
    if (key.revokedAt) return { ok: false, status: 403, code: 'revoked', message: `接入密钥 ${key.id} 已于 ${key.revokedAt} 吊销 / this API key was revoked` };
    let entry = this.buckets.get(key.id);
    if (!entry || entry.rate !== key.ratePerMinute) this.buckets.set(key.id, (entry = { rate: key.ratePerMinute, bucket: new TokenBucket(key.ratePerMinute / 60, key.ratePerMinute, this.now) }));
    if (!entry.bucket.take()) {
      const retryAfterS = Math.max(1, Math.ceil(entry.bucket.waitMs() / 1000));
      return { ok: false, status: 429, code: 'rate-limited', message: `请求过于频繁：此密钥每分钟至多 ${key.ratePerMinute} 次，请 ${retryAfterS} 秒后再试 / over this key's rate of ${key.ratePerMinute} a minute`, retryAfterS };
    }
    const nowMs = this.now();
    const last = this.touched.get(key.id) ?? (key.lastUsedAt ? Date.parse(key.lastUsedAt) : 0);
    if (nowMs - last >= TOUCH_EVERY_MS) {
      this.touched.set(key.id, nowMs);
      await this.store.touchApiKey(key.id, new Date(nowMs).toISOString());
    }
    return { ok: true, key };
  }
}

const misuseAudited = new WeakMap<object, Map<string, number>>();

/**
 * Whether `token`, presented where a console token goes (`where`: the wire hello, a bearer route, sign-out), is a
 * source system's API key. It is refused there like any unknown token by the caller; here it is audited as
 * 'api-key-misuse' with the key's id, at most once a minute per key and store.
 */
export async function reportMisuse(store: Pick<BackendStore, 'findApiKeyByHash' | 'audit'>, token: string, where: string, remote: string | undefined): Promise<boolean> {
  if (!looksLikeApiKey(token)) return false;
  const key = await store.findApiKeyByHash(hashApiKey(token));
  if (!key) return false;
  let last = misuseAudited.get(store);
  if (!last) misuseAudited.set(store, (last = new Map()));
  const nowMs = Date.now();
  if (nowMs - (last.get(key.id) ?? -Infinity) < MISUSE_AUDIT_EVERY_MS) return true;
  last.set(key.id, nowMs);
  await store.audit([{ at: new Date(nowMs).toISOString(), userId: null, kind: 'api-key-misuse', detail: { keyId: key.id, name: key.name, source: key.source, where, remote: remote ?? null, revoked: key.revokedAt !== null } }]);
  return true;
}
