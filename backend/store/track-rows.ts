/**
 * Staff tracks for replay (migration 9's `tracks` table, backend/history/tracks.ts) on both stores: one row per
 * city hour (hours since the epoch) and staff member, the hour's points as a compact blob (history/track-codec.ts)
 * and their count. Written whole (an upsert replaces the hour's blob as the recorder's buffer grows), read by a
 * range of hours, pruned by age a bounded batch at a time. The same statements on SQLite and PostgreSQL.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { BackendStore, TrackRow } from './types';

type Methods = Pick<BackendStore, 'putTracks' | 'tracksIn' | 'pruneTracks'>;

const SQL = {
  put: 'INSERT INTO tracks (hour, staff_id, points, n) VALUES ($1, $2, $3, $4) ON CONFLICT (hour, staff_id) DO UPDATE SET points = excluded.points, n = excluded.n',
  /** Oldest first, at most $2 rows. */
  prune: 'DELETE FROM tracks WHERE (hour, staff_id) IN (SELECT hour, staff_id FROM tracks WHERE hour < $1 ORDER BY hour LIMIT $2)',
};
const lite = (sql: string): string => sql.replace(/\$\d+/g, '?');
const PG_ROWS_PER_STATEMENT = 1000;
const checked = (rows: readonly TrackRow[]): readonly TrackRow[] => {
  for (const r of rows) if (!Number.isSafeInteger(r.hour) || r.hour < 0 || !(r.n >= 1) || r.staffId.length === 0) throw new Error(`track row refused: hour ${r.hour}, staff ${r.staffId.slice(0, 40)}, ${r.n} points`);
  return rows;
};

interface Row {
  hour: number | string;
  staff_id: string;
  points: Buffer;
  n: number | string;
}
const rowOf = (r: Row): TrackRow => ({ hour: Number(r.hour), staffId: r.staff_id, points: r.points, n: Number(r.n) });

export function sqliteTracks(db: Database.Database): Methods {
  const s = {
    put: db.prepare<[number, string, Buffer, number]>(lite(SQL.put)),
    range: db.prepare<[number, number], Row>('SELECT hour, staff_id, points, n FROM tracks WHERE hour BETWEEN ? AND ? ORDER BY staff_id, hour'),
    rangeOf: db.prepare<[number, number, string], Row>('SELECT hour, staff_id, points, n FROM tracks WHERE hour BETWEEN ? AND ? AND staff_id IN (SELECT value FROM json_each(?)) ORDER BY staff_id, hour'),
    prune: db.prepare<[number, number]>(lite(SQL.prune)),
  };
  return {
    putTracks: async (rows) =>
      db.transaction(() => {
        for (const r of checked(rows)) s.put.run(r.hour, r.staffId, r.points, r.n);
      })(),
    tracksIn: async (hourFrom, hourTo, staffIds) => (staffIds ? s.rangeOf.all(hourFrom, hourTo, JSON.stringify([...staffIds])) : s.range.all(hourFrom, hourTo)).map(rowOf),
    pruneTracks: async (beforeHour, limit) => s.prune.run(beforeHour, limit).changes,
  };
}

export function pgTracks(pool: pg.Pool, tx: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>): Methods {
  return {
    // A minute's rows of every staff member in a few statements (the last of a key given twice wins, as on SQLite).
    putTracks: (rows) =>
      tx(async (client) => {
        const last = [...new Map(checked(rows).map((r) => [`${r.hour}\u0000${r.staffId}`, r])).values()];
        for (let i = 0; i < last.length; i += PG_ROWS_PER_STATEMENT) {
          const part = last.slice(i, i + PG_ROWS_PER_STATEMENT);
          await client.query(
            `INSERT INTO tracks (hour, staff_id, points, n) SELECT * FROM unnest($1::int[], $2::text[], $3::bytea[], $4::int[])
             ON CONFLICT (hour, staff_id) DO UPDATE SET points = excluded.points, n = excluded.n`,
            [part.map((r) => r.hour), part.map((r) => r.staffId), part.map((r) => r.points), part.map((r) => r.n)],
          );
        }
      }),
    tracksIn: async (hourFrom, hourTo, staffIds) => {
      const { rows } = staffIds
        ? await pool.query<Row>('SELECT hour, staff_id, points, n FROM tracks WHERE hour BETWEEN $1 AND $2 AND staff_id = ANY($3::text[]) ORDER BY staff_id, hour', [hourFrom, hourTo, [...staffIds]])
        : await pool.query<Row>('SELECT hour, staff_id, points, n FROM tracks WHERE hour BETWEEN $1 AND $2 ORDER BY staff_id, hour', [hourFrom, hourTo]);
      return rows.map(rowOf);
    },
    pruneTracks: async (beforeHour, limit) => (await pool.query(SQL.prune, [beforeHour, limit])).rowCount ?? 0,
  };
}
