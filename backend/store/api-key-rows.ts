/**
 * The api_keys table (migration 5) on both stores: the same columns and statements on SQLite and PostgreSQL
 * (placeholders aside), read into one record shape. SqliteStore and PgStore delegate here.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { ApiKeyRecord, BackendStore } from './types';

interface ApiKeyRow {
  id: string;
  name: string;
  source: string;
  key_hash: string;
  rate_per_minute: number;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  revoked_by: string | null;
  last_used_at: string | null;
  webhook_url: string | null;
  webhook_secret: string | null;
}

const apiKeyOf = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  source: r.source,
  keyHash: r.key_hash,
  ratePerMinute: r.rate_per_minute,
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
  lastUsedAt: r.last_used_at,
  webhookUrl: r.webhook_url ?? null,
  webhookSecret: r.webhook_secret ?? null,
});

const SQL = {
  insert: 'INSERT INTO api_keys (id, name, source, key_hash, rate_per_minute, created_at, created_by, webhook_url, webhook_secret) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
  list: 'SELECT * FROM api_keys ORDER BY created_at, id',
  byHash: 'SELECT * FROM api_keys WHERE key_hash = $1',
  revoke: 'UPDATE api_keys SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL',
  touch: 'UPDATE api_keys SET last_used_at = $1 WHERE id = $2',
  // A webhook delivery names its key: such a key stays (the deliveries are pruned first, then the key goes).
  removeRevoked: 'DELETE FROM api_keys WHERE created_by = $1 AND revoked_at IS NOT NULL AND revoked_at < $2 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries w WHERE w.key_id = api_keys.id)',
};
/** SQLite's placeholders (each statement above takes its values in order). */
const lite = (sql: string): string => sql.replace(/\$\d+/g, '?');

type ApiKeyMethods = Pick<BackendStore, 'createApiKey' | 'listApiKeys' | 'findApiKeyByHash' | 'revokeApiKey' | 'touchApiKey' | 'removeRevokedApiKeys'>;
const insertArgs = (k: ApiKeyRecord): Array<string | number | null> => [k.id, k.name, k.source, k.keyHash, k.ratePerMinute, k.createdAt, k.createdBy, k.webhookUrl, k.webhookSecret];

export function sqliteApiKeys(db: Database.Database): ApiKeyMethods {
  const s = {
    insert: db.prepare<Array<string | number | null>>(lite(SQL.insert)),
    list: db.prepare<[], ApiKeyRow>(SQL.list),
    byHash: db.prepare<[string], ApiKeyRow>(lite(SQL.byHash)),
    revoke: db.prepare<[string, string, string]>(lite(SQL.revoke)),
    touch: db.prepare<[string, string]>(lite(SQL.touch)),
    removeRevoked: db.prepare<[string, string]>(lite(SQL.removeRevoked)),
  };
  return {
    createApiKey: async (k) => void s.insert.run(...insertArgs(k)),
    listApiKeys: async () => s.list.all().map(apiKeyOf),
    findApiKeyByHash: async (hash) => {
      const row = s.byHash.get(hash);
      return row ? apiKeyOf(row) : null;
    },
    revokeApiKey: async (id, at, by) => s.revoke.run(at, by, id).changes > 0,
    touchApiKey: async (id, at) => void s.touch.run(at, id),
    removeRevokedApiKeys: async (createdBy, before) => s.removeRevoked.run(createdBy, before).changes,
  };
}

export function pgApiKeys(pool: pg.Pool): ApiKeyMethods {
  return {
    createApiKey: async (k) => void (await pool.query(SQL.insert, insertArgs(k))),
    listApiKeys: async () => (await pool.query<ApiKeyRow>(SQL.list)).rows.map(apiKeyOf),
    findApiKeyByHash: async (hash) => {
      const row = (await pool.query<ApiKeyRow>(SQL.byHash, [hash])).rows[0];
      return row ? apiKeyOf(row) : null;
    },
    revokeApiKey: async (id, at, by) => ((await pool.query(SQL.revoke, [at, by, id])).rowCount ?? 0) > 0,
    touchApiKey: async (id, at) => void (await pool.query(SQL.touch, [at, id])),
    removeRevokedApiKeys: async (createdBy, before) => (await pool.query(SQL.removeRevoked, [createdBy, before])).rowCount ?? 0,
  };
}
