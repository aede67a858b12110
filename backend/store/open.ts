/**
 * Which store the backend runs on: a PostgreSQL URL (`--db postgres://…` or ZONGZHI_DATABASE_URL) selects the
 * PostgreSQL store, anything else is the SQLite file (the embedded default). Both pass one conformance suite
 * (tests/integration/store-conformance.test.ts).
 */
import type { CollectionName, CollectionTypes } from '../../protocol';
import { PgStore } from './pg-store';
import { SqliteStore } from './sqlite-store';
import type { AuditEntry, BackendStore } from './types';

/** What the backend needs of its store beyond the interface: the first start's bulk load, and the audit read. */
export interface RunningStore extends BackendStore {
  seedEntities<C extends CollectionName>(collection: C, items: Iterable<CollectionTypes[C]>): void | Promise<void>;
  auditLog(limit?: number): AuditEntry[] | Promise<AuditEntry[]>;
  /** Runs `work` while no other instance on this store runs its own: the first start's set-up is done once. */
  exclusively<T>(work: () => Promise<T>): Promise<T>;
}

export function isDatabaseUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/** Opens the store for `db`: a PostgreSQL URL, or a SQLite file path. */
export async function openStore(db: string): Promise<RunningStore> {
  return isDatabaseUrl(db) ? PgStore.open(db) : new SqliteStore(db);
}
