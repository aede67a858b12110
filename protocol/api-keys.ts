/**
 * API keys of source systems (接入密钥, docs/protocol.md): the systems that hand the city events over HTTP (12345
 * hotline platform, video-AI platform, IoT sensors, the citizen app, 110 linkage, 数字城管) each hold one key. A
 * key is `zk_<id>_<secret>`; the backend keeps only its SHA-256. Administered by city-wide administrators:
 * GET /admin/api-keys lists them (never a key nor its hash: a prefix to recognise it), POST /admin/api-keys makes
 * one (the key is in that answer only), POST /admin/api-keys/:id/revoke revokes it. A source system asks
 * GET /api/v1/source who it is, with `Authorization: Bearer <key>` or `X-Api-Key: <key>`.
 */
import { z } from 'zod';
import { IsoTime } from './model';

export const ADMIN_API_KEYS_PATH = '/admin/api-keys';
/** The versioned routes for source systems (issue 20's ingest routes sit beside this one). */
export const API_V1_PREFIX = '/api/v1/';
export const API_V1_SOURCE_PATH = '/api/v1/source';

/** The systems a key can be for: EventSource's systems, and two that report no event source of their own yet. */
export const ApiKeySource = z.enum(['hotline', 'video-ai', 'sensor', 'citizen-app', 'linkage-110', 'city-management']);
export type ApiKeySource = z.infer<typeof ApiKeySource>;

/** The id: 8 url-safe characters. */
export const API_KEY_ID_PATTERN = /^[A-Za-z0-9_-]{8}$/;
/** A whole key: zk_, the id, _, 32 random bytes in base64url (43 characters). */
export const API_KEY_PATTERN = /^zk_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/;
export const API_KEY_RATE_DEFAULT = 600;
export const API_KEY_RATE_MAX = 60_000;

export const ApiKeyRow = z.object({
  id: z.string().regex(API_KEY_ID_PATTERN),
  name: z.string(),
  source: ApiKeySource,
  /** The key's first characters (`zk_abcd…`), to recognise it: never the key. */
  prefix: z.string().max(16),
  ratePerMinute: z.number().int(),
  createdAt: IsoTime,
  createdBy: z.string(),
  revokedAt: IsoTime.nullable(),
  revokedBy: z.string().nullable(),
  /** Updated at most once a minute per key. */
  lastUsedAt: IsoTime.nullable(),
  /** Where the key's source system hears that an event it reported was closed (signed POST); null: not told. */
  webhookUrl: z.string().nullable().default(null),
});
export type ApiKeyRow = z.infer<typeof ApiKeyRow>;

export const ApiKeyList = z.object({ keys: z.array(ApiKeyRow) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;

/** A webhook's address: http(s), at most 500 characters, no credentials in it. */
export const WebhookUrl = z
  .string()
  .trim()
  .max(500, '至多 500 个字符 / at most 500 characters')
  .refine((u) => {
    try {
      const url = new URL(u);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, '须是 http(s) 地址，不含用户名密码 / an http(s) URL without credentials');

export const CreateApiKeyRequest = z
  .object({
    name: z.string().trim().min(1, 'name: 1–100 characters').max(100),
    source: ApiKeySource,
    ratePerMinute: z.number().int().min(1).max(API_KEY_RATE_MAX).optional(),
    webhookUrl: WebhookUrl.optional(),
  })
  .strict();
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequest>;

/** The answer to a creation: the key, shown this once, and its row. */
export const CreatedApiKey = z.object({
  key: z.string().regex(API_KEY_PATTERN),
  apiKey: ApiKeyRow,
  /** The webhook's signing secret (with a webhookUrl only), shown this once like the key. */
  webhookSecret: z.string().optional(),
});
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

/** GET /api/v1/source: the source system the key belongs to. */
export const SourceIdentity = z.object({ keyId: z.string(), name: z.string(), source: ApiKeySource, ratePerMinute: z.number().int() });
export type SourceIdentity = z.infer<typeof SourceIdentity>;

/** Every refusal of /api/v1/ and /admin/api-keys: a code, a message in Chinese (and English), the field's path. */
export const ApiRefusal = z.object({ code: z.string().max(64), message: z.string().max(2000), path: z.string().max(200).optional() });
export type ApiRefusal = z.infer<typeof ApiRefusal>;
