/**
 * The calls kept for replay and the 复盘 report (migration 9's table `calls`: id, city time `at`, event, user, the
 * whole record as JSON) on both stores: written with the batch of the command that logged them (CommitBatch.calls,
 * inside the commit's transaction; an id kept already stays as it was), read by time and event, pruned by age with
 * the replay history (backend/history/retention.ts). The same statements on SQLite and PostgreSQL.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { CallRecord } from '../../protocol';
import type { BackendStore, CallFilter, CallRow } from './types';

type Methods = Pick<BackendStore, 'callsIn' | 'pruneCalls'>;

const SQL = {
  insert: 'INSERT INTO calls (id, at, event_id, user_id, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING',
  /** On the index on `at`; with an event, on the one on event_id. */
  between: 'SELECT id, at, event_id, user_id, data FROM calls WHERE at >= $1 AND at < $2 ORDER BY at, id LIMIT $3',
  ofEvent: 'SELECT id, at, event_id, user_id, data FROM calls WHERE event_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT $4',
  prune: 'DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE at < $1 ORDER BY at, id LIMIT $2)',
};
const lite = (sql: string): string => sql.replace(/\$\d+/g, '?');

interface Row {
  id: string;
  at: string;
  event_id: string | null;
  user_id: string;
  data: string | CallRecord;
}
const rowOf = (r: Row): CallRow => ({ id: r.id, at: r.at, eventId: r.event_id, userId: r.user_id, data: typeof r.data === 'string' ? (JSON.parse(r.data) as CallRecord) : r.data });
const paramsOf = (c: CallRow): [string, string, string | null, string, string] => [c.id, c.at, c.eventId, c.userId, JSON.stringify(c.data)];

/** SQLite: `insert` runs inside the commit's transaction (sqlite-store.ts commitNow). */
export function sqliteCalls(db: Database.Database): Methods & { insert(calls: readonly CallRow[]): void } {
  const s = {
    insert: db.prepare<[string, string, string | null, string, string]>(lite(SQL.insert)),
    between: db.prepare<[string, string, number], Row>(lite(SQL.between)),
    ofEvent: db.prepare<[string, string, string, number], Row>(lite(SQL.ofEvent)),
    prune: db.prepare<[string, number]>(lite(SQL.prune)),
  };
  return {
    insert: (calls) => {
      for (const c of calls) s.insert.run(...paramsOf(c));
    },
    callsIn: async (f: CallFilter) => (f.eventId === undefined ? s.between.all(f.from, f.to, f.limit) : s.ofEvent.all(f.eventId, f.from, f.to, f.limit)).map(rowOf),
    pruneCalls: async (beforeAt, limit) => s.prune.run(beforeAt, limit).changes,
  };
}

/** PostgreSQL: the commit's transaction writes them (pg-writes.ts commitIn). */
export async function insertCallsIn(client: pg.PoolClient, calls: readonly CallRow[]): Promise<void> {
  for (const c of calls) await client.query(SQL.insert, paramsOf(c));
}

export function pgCalls(pool: pg.Pool): Methods {
  return {
    callsIn: async (f) => {
      const { rows } = f.eventId === undefined ? await pool.query<Row>(SQL.between, [f.from, f.to, f.limit]) : await pool.query<Row>(SQL.ofEvent, [f.eventId, f.from, f.to, f.limit]);
      return rows.map(rowOf);
    },
    pruneCalls: async (beforeAt, limit) => (await pool.query(SQL.prune, [beforeAt, limit])).rowCount ?? 0,
  };
}
