/**
 * The PostgreSQL store's small tables: `meta` (key/value) and `key_persons` (replaced whole by an import, read by
 * grid). Split from pg-store.ts as the other row modules are; the SQLite store keeps its own.
 */
import type pg from 'pg';
import type { KeyPerson } from '../../protocol';
import type { BackendStore } from './types';

type Methods = Pick<BackendStore, 'getMeta' | 'setMeta' | 'replaceKeyPersons' | 'keyPersonsIn'>;

export function pgMeta(pool: pg.Pool, tx: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>): Methods {
  return {
    async getMeta(key) {
      const { rows } = await pool.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
      return rows[0]?.value ?? null;
    },
    async setMeta(key, value) {
      await pool.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
    },
    async replaceKeyPersons(rows) {
      await tx(async (client) => {
        await client.query('DELETE FROM key_persons');
        // One statement per 1000 rows: the rows as one JSON parameter, unpacked by the server.
        for (let i = 0; i < rows.length; i += 1000) {
          const part = rows.slice(i, i + 1000);
          await client.query('INSERT INTO key_persons (id, grid_id, id_number, data) SELECT r->>0, r->>1, r->>2, r->3 FROM json_array_elements($1::json) AS r', [JSON.stringify(part.map((r) => [r.id, r.gridId, r.idNumber, r]))]);
        }
      });
    },
    async keyPersonsIn(gridIds) {
      const { rows } = await pool.query<{ data: KeyPerson }>('SELECT data FROM key_persons WHERE grid_id = ANY($1::text[]) ORDER BY grid_id COLLATE "C", id COLLATE "C"', [[...new Set(gridIds)]]);
      return rows.map((r) => r.data);
    },
  };
}
