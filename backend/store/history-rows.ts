/**
 * The history kept for replay (migration 9, backend/history/) on both stores: checkpoints of the whole city as
 * content-addressed chunks, the change log read by city time, and their time-based retention. The same
 * statements on SQLite and PostgreSQL where their SQL allows (JSON of the manifest and sizes differ).
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { Change } from '../../protocol';
import type { BackendStore, ChangeBatch, CheckpointManifest, CheckpointRecord, HistoryPruned, HistorySize } from './types';

type Methods = Pick<BackendStore, 'putCheckpoint' | 'checkpointAtOrBefore' | 'checkpointRange' | 'readChunks' | 'changesBetween' | 'pruneHistory' | 'historySize'>;

const SQL = {
  putChunk: 'INSERT INTO checkpoint_chunks (hash, data) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING',
  putCheckpoint: 'INSERT INTO checkpoints (seq, at, manifest) VALUES ($1, $2, $3) ON CONFLICT (seq) DO NOTHING',
  atOrBefore: 'SELECT seq, at, manifest FROM checkpoints WHERE at <= $1 ORDER BY at DESC, seq DESC LIMIT 1',
  first: 'SELECT seq, at FROM checkpoints ORDER BY seq LIMIT 1',
  last: 'SELECT seq, at FROM checkpoints ORDER BY seq DESC LIMIT 1',
  count: 'SELECT COUNT(*) AS n FROM checkpoints',
  /** The batches after a seq up to the last one committed at or before a time (on the index on (at, seq)). */
  between: `SELECT seq, at, changes FROM changes WHERE seq > $1 AND at <= $2
              AND seq <= COALESCE((SELECT c.seq FROM changes c WHERE c.at <= $3 ORDER BY c.at DESC, c.seq DESC LIMIT 1), -1)
            ORDER BY seq LIMIT $4`,
  dropCheckpoints: 'DELETE FROM checkpoints WHERE seq IN (SELECT seq FROM checkpoints WHERE seq < $1 ORDER BY seq LIMIT $2)',
  /** lastSeq stays right when every batch goes (as pruneChanges does). */
  keepBase: "INSERT INTO meta (key, value) SELECT 'baseSeq', CAST(MAX(seq) AS TEXT) FROM changes WHERE true HAVING MAX(seq) IS NOT NULL ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  /** Oldest first, at most $2: the log stays gapless (changesSince answers null before its start). */
  dropBatches: 'DELETE FROM changes WHERE seq <= $1 AND seq < (SELECT MIN(seq) FROM changes) + $2',
};
const lite = (sql: string): string => sql.replace(/\$\d+/g, '?');

interface CheckpointRow {
  seq: number | string;
  at: string;
  manifest: string | CheckpointManifest;
}
const checkpointOf = (r: CheckpointRow): CheckpointRecord => ({ seq: Number(r.seq), at: r.at, manifest: typeof r.manifest === 'string' ? (JSON.parse(r.manifest) as CheckpointManifest) : r.manifest });
const hashesOf = (manifest: CheckpointManifest): string[] => [...new Set(Object.values(manifest).flat())];
const missing = (found: number, wanted: number): Error => new Error(`checkpoint refused: ${wanted - found} of its ${wanted} chunks are neither given nor stored`);

export function sqliteHistory(db: Database.Database): Methods {
  const s = {
    putChunk: db.prepare<[string, Buffer]>(lite(SQL.putChunk)),
    putCheckpoint: db.prepare<[number, string, string]>(lite(SQL.putCheckpoint)),
    countChunks: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM checkpoint_chunks WHERE hash IN (SELECT value FROM json_each(?))'),
    atOrBefore: db.prepare<[string], CheckpointRow>(lite(SQL.atOrBefore)),
    first: db.prepare<[], { seq: number; at: string }>(SQL.first),
    last: db.prepare<[], { seq: number; at: string }>(SQL.last),
    count: db.prepare<[], { n: number }>(SQL.count),
    readChunks: db.prepare<[string], { hash: string; data: Buffer }>('SELECT hash, data FROM checkpoint_chunks WHERE hash IN (SELECT value FROM json_each(?))'),
    between: db.prepare<[number, string, string, number], { seq: number; at: string; changes: string }>(lite(SQL.between)),
    dropCheckpoints: db.prepare<[number, number]>(lite(SQL.dropCheckpoints)),
    keepBase: db.prepare(SQL.keepBase),
    dropBatches: db.prepare<[number, number]>(lite(SQL.dropBatches)),
    dropChunks: db.prepare<[number]>(
      "DELETE FROM checkpoint_chunks WHERE hash IN (SELECT hash FROM checkpoint_chunks WHERE hash NOT IN (SELECT j.value FROM checkpoints c, json_tree(c.manifest) j WHERE j.type = 'text') LIMIT ?)",
    ),
    size: db.prepare<[], { checkpoints: number; chunks: number; chunk_bytes: number; batches: number; change_bytes: number }>(
      `SELECT (SELECT COUNT(*) FROM checkpoints) AS checkpoints, (SELECT COUNT(*) FROM checkpoint_chunks) AS chunks,
              (SELECT COALESCE(SUM(length(data)), 0) FROM checkpoint_chunks) AS chunk_bytes, (SELECT COUNT(*) FROM changes) AS batches,
              (SELECT COALESCE(SUM(length(CAST(changes AS BLOB))), 0) FROM changes) AS change_bytes`,
    ),
  };
  const range: Methods['checkpointRange'] = async () => {
    const first = s.first.get();
    const last = s.last.get();
    return first && last ? { first, last, count: s.count.get()!.n } : null;
  };
  return {
    putCheckpoint: async (checkpoint, chunks) =>
      db.transaction(() => {
        for (const c of chunks) s.putChunk.run(c.hash, c.data);
        const wanted = hashesOf(checkpoint.manifest);
        const found = s.countChunks.get(JSON.stringify(wanted))!.n;
        if (found !== wanted.length) throw missing(found, wanted.length);
        s.putCheckpoint.run(checkpoint.seq, checkpoint.at, JSON.stringify(checkpoint.manifest));
      })(),
    checkpointAtOrBefore: async (at) => {
      const row = s.atOrBefore.get(at);
      return row ? checkpointOf(row) : null;
    },
    checkpointRange: range,
    readChunks: async (hashes) => new Map(s.readChunks.all(JSON.stringify([...new Set(hashes)])).map((r) => [r.hash, r.data])),
    changesBetween: async (afterSeq, uptoAt, limit) => s.between.all(afterSeq, uptoAt, uptoAt, limit).map((r) => ({ seq: r.seq, at: r.at, changes: JSON.parse(r.changes) as Change[] })),
    pruneHistory: async (beforeAt, limit) =>
      db.transaction((): HistoryPruned => {
        const keep = s.atOrBefore.get(beforeAt);
        if (!keep) return { checkpoints: 0, batches: 0, chunks: 0 };
        const checkpoints = s.dropCheckpoints.run(Number(keep.seq), limit).changes;
        s.keepBase.run();
        const batches = s.dropBatches.run(Number(keep.seq), limit).changes;
        return { checkpoints, batches, chunks: s.dropChunks.run(limit).changes };
      })(),
    historySize: async (): Promise<HistorySize> => {
      const r = s.size.get()!;
      const bounds = await range();
      return { checkpoints: r.checkpoints, chunks: r.chunks, chunkBytes: r.chunk_bytes, batches: r.batches, changeBytes: r.change_bytes, first: bounds?.first ?? null, last: bounds?.last ?? null };
    },
  };
}

/** `inWriteTurn`: a transaction holding the city's write turn (pruning the log must not interleave with a commit or a catch-up read). */
export function pgHistory(pool: pg.Pool, inWriteTurn: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>, tx: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>): Methods {
  const range: Methods['checkpointRange'] = async () => {
    const { rows } = await pool.query<{ first_seq: string | null; first_at: string | null; last_seq: string | null; last_at: string | null; n: string }>(
      `SELECT f.seq::text AS first_seq, f.at AS first_at, l.seq::text AS last_seq, l.at AS last_at, (SELECT COUNT(*) FROM checkpoints)::text AS n
       FROM (${SQL.first}) f, (${SQL.last}) l`,
    );
    const r = rows[0];
    return r?.first_seq && r.last_seq ? { first: { seq: Number(r.first_seq), at: r.first_at! }, last: { seq: Number(r.last_seq), at: r.last_at! }, count: Number(r.n) } : null;
  };
  return {
    putCheckpoint: (checkpoint, chunks) =>
      tx(async (client) => {
        for (const c of chunks) await client.query(SQL.putChunk, [c.hash, c.data]);
        const wanted = hashesOf(checkpoint.manifest);
        const { rows } = await client.query<{ n: string }>('SELECT COUNT(*)::text AS n FROM checkpoint_chunks WHERE hash = ANY($1::text[])', [wanted]);
        const found = Number(rows[0]?.n ?? 0);
        if (found !== wanted.length) throw missing(found, wanted.length);
        await client.query(SQL.putCheckpoint, [checkpoint.seq, checkpoint.at, JSON.stringify(checkpoint.manifest)]);
      }),
    checkpointAtOrBefore: async (at) => {
      const { rows } = await pool.query<CheckpointRow>(SQL.atOrBefore, [at]);
      return rows[0] ? checkpointOf(rows[0]) : null;
    },
    checkpointRange: range,
    readChunks: async (hashes) => {
      const { rows } = await pool.query<{ hash: string; data: Buffer }>('SELECT hash, data FROM checkpoint_chunks WHERE hash = ANY($1::text[])', [[...new Set(hashes)]]);
      return new Map(rows.map((r) => [r.hash, r.data]));
    },
    changesBetween: async (afterSeq, uptoAt, limit) => {
      const { rows } = await pool.query<{ seq: string; at: string; changes: Change[] }>(SQL.between.replace('SELECT seq,', 'SELECT seq::text AS seq,'), [afterSeq, uptoAt, uptoAt, limit]);
      return rows.map((r): ChangeBatch => ({ seq: Number(r.seq), at: r.at, changes: r.changes }));
    },
    pruneHistory: (beforeAt, limit) =>
      inWriteTurn(async (client): Promise<HistoryPruned> => {
        const { rows } = await client.query<CheckpointRow>(SQL.atOrBefore, [beforeAt]);
        const keep = rows[0];
        if (!keep) return { checkpoints: 0, batches: 0, chunks: 0 };
        const checkpoints = (await client.query(SQL.dropCheckpoints, [Number(keep.seq), limit])).rowCount ?? 0;
        await client.query(SQL.keepBase);
        const batches = (await client.query(SQL.dropBatches, [Number(keep.seq), limit])).rowCount ?? 0;
        const chunks =
          (
            await client.query(
              'DELETE FROM checkpoint_chunks WHERE hash IN (SELECT hash FROM checkpoint_chunks WHERE hash NOT IN (SELECT json_array_elements_text(m.value) FROM checkpoints c, json_each(c.manifest) m) LIMIT $1)',
              [limit],
            )
          ).rowCount ?? 0;
        return { checkpoints, batches, chunks };
      }),
    historySize: async (): Promise<HistorySize> => {
      const { rows } = await pool.query<{ checkpoints: string; chunks: string; chunk_bytes: string; batches: string; change_bytes: string }>(
        `SELECT (SELECT COUNT(*) FROM checkpoints)::text AS checkpoints, (SELECT COUNT(*) FROM checkpoint_chunks)::text AS chunks,
                (SELECT COALESCE(SUM(octet_length(data)), 0) FROM checkpoint_chunks)::text AS chunk_bytes, (SELECT COUNT(*) FROM changes)::text AS batches,
                (SELECT COALESCE(SUM(octet_length(changes::text)), 0) FROM changes)::text AS change_bytes`,
      );
      const r = rows[0]!;
      const bounds = await range();
      return { checkpoints: Number(r.checkpoints), chunks: Number(r.chunks), chunkBytes: Number(r.chunk_bytes), batches: Number(r.batches), changeBytes: Number(r.change_bytes), first: bounds?.first ?? null, last: bounds?.last ?? null };
    },
  };
}
