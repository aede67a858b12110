/** SQLite helpers shared by the backend store and the hub cache: numbered migrations, slow-statement logging. */
import type Database from 'better-sqlite3';
import type { Logger } from './logger';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export class StoreVersionError extends Error {
  constructor(found: number, known: number) {
    super(`database schema version ${found} is newer than this program knows (${known}): refusing to open it; use a newer version of the program`);
    this.name = 'StoreVersionError';
  }
}

/** Applies pending migrations in order, each in its own transaction; refuses a newer-than-known database. */
export function migrate(db: Database.Database, migrations: readonly Migration[]): number {
  const known = migrations.at(-1)?.version ?? 0;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > known) throw new StoreVersionError(current, known);
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return known;
}

/** Runs `work`, logging it when it takes longer than `thresholdMs` (slow queries are a bug report waiting). */
export function timed<T>(log: Logger, what: string, work: () => T, thresholdMs = 50): T {
  const started = performance.now();
  try {
    return work();
  } finally {
    const ms = performance.now() - started;
    if (ms > thresholdMs) log.warn('slow query', { what, ms: Math.round(ms) });
  }
}
