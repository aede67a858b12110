/**
 * The webhook_deliveries table (migrations 7 and 8) on both stores: the outbox of the ingest API's webhooks
 * (backend/ingest/webhooks.ts), the same statements on SQLite and PostgreSQL (placeholders aside).
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { BackendStore, WebhookDelivery } from './types';

interface Row {
  id: string;
  key_id: string;
  event_id: string;
  state: string;
  payload: string;
  attempts: number;
  next_at: string | null;
  delivered_at: string | null;
  last_error: string | null;
  url: string | null;
  ended_at: string | null;
}

const deliveryOf = (r: Row): WebhookDelivery => ({
  id: r.id,
  keyId: r.key_id,
  eventId: r.event_id,
  state: r.state as WebhookDelivery['state'],
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  attempts: Number(r.attempts),
  nextAt: r.next_at,
  deliveredAt: r.delivered_at,
  lastError: r.last_error,
  url: r.url,
  endedAt: r.ended_at,
});

const SQL = {
  insert: 'INSERT INTO webhook_deliveries (id, key_id, event_id, state, payload, attempts, next_at, delivered_at, last_error, url, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING',
  inState: 'SELECT * FROM webhook_deliveries WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3',
  due: 'SELECT * FROM webhook_deliveries WHERE state = $1 AND next_at <= $2 ORDER BY next_at, id LIMIT $3',
  update: 'UPDATE webhook_deliveries SET state = $1, payload = $2, attempts = $3, next_at = $4, delivered_at = $5, last_error = $6, ended_at = $7 WHERE id = $8',
  prune: 'DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE ended_at IS NOT NULL AND ended_at < $1 ORDER BY ended_at LIMIT $2)',
};
const lite = (sql: string): string => sql.replace(/\$\d+/g, '?');

type Methods = Pick<BackendStore, 'queueWebhook' | 'webhooksIn' | 'updateWebhook' | 'pruneWebhooks'>;
const insertArgs = (d: WebhookDelivery): Array<string | number | null> => [d.id, d.keyId, d.eventId, d.state, JSON.stringify(d.payload), d.attempts, d.nextAt, d.deliveredAt, d.lastError, d.url, d.endedAt];
const updateArgs = (d: WebhookDelivery): Array<string | number | null> => [d.state, JSON.stringify(d.payload), d.attempts, d.nextAt, d.deliveredAt, d.lastError?.slice(0, 500) ?? null, d.endedAt, d.id];

export function sqliteWebhooks(db: Database.Database): Methods {
  const s = {
    insert: db.prepare<Array<string | number | null>>(lite(SQL.insert)),
    inState: db.prepare<[string, string, number], Row>(lite(SQL.inState)),
    due: db.prepare<[string, string, number], Row>(lite(SQL.due)),
    update: db.prepare<Array<string | number | null>>(lite(SQL.update)),
    prune: db.prepare<[string, number]>(lite(SQL.prune)),
  };
  return {
    queueWebhook: async (d) => void s.insert.run(...insertArgs(d)),
    webhooksIn: async (state, limit, from = {}) => (from.dueBy === undefined ? s.inState.all(state, from.afterId ?? '', limit) : s.due.all(state, from.dueBy, limit)).map(deliveryOf),
    updateWebhook: async (d) => void s.update.run(...updateArgs(d)),
    pruneWebhooks: async (before, limit) => s.prune.run(before, limit).changes,
  };
}

export function pgWebhooks(pool: pg.Pool): Methods {
  return {
    queueWebhook: async (d) => void (await pool.query(SQL.insert, insertArgs(d))),
    webhooksIn: async (state, limit, from = {}) => (await (from.dueBy === undefined ? pool.query<Row>(SQL.inState, [state, from.afterId ?? '', limit]) : pool.query<Row>(SQL.due, [state, from.dueBy, limit]))).rows.map(deliveryOf),
    updateWebhook: async (d) => void (await pool.query(SQL.update, updateArgs(d))),
    pruneWebhooks: async (before, limit) => (await pool.query(SQL.prune, [before, limit])).rowCount ?? 0,
  };
}
