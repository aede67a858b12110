/**
 * Numbered migrations of the PostgreSQL store (the SQLite store's are in migrations.ts: the same tables, in
 * PostgreSQL's types). Applied in order, each once, recorded in schema_migrations; never edited once released.
 */
import type pg from 'pg';
import { StoreOpenError } from './open-check';

/** Taken while migrating, so instances starting together migrate once. */
const MIGRATION_LOCK = 0x5a5a4842;

export interface PgMigration {
  version: number;
  description: string;
  sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'entities, change log, commands, append-only audit, users, meta',
    sql: `
      CREATE TABLE entities (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        data JSON NOT NULL,
        PRIMARY KEY (collection, id)
      );
      CREATE TABLE changes (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, changes JSON NOT NULL);
      CREATE TABLE commands (
        command_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        type TEXT NOT NULL,
        outcome JSON NOT NULL,
        at TEXT NOT NULL
      );
      CREATE TABLE audit (
        id BIGSERIAL PRIMARY KEY,
        at TEXT NOT NULL,
        user_id TEXT,
        kind TEXT NOT NULL,
        detail JSON NOT NULL
      );
      CREATE INDEX audit_at ON audit (at);
      -- Append-only in the database itself: whoever connects, no row of the audit changes or goes.
      CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$;
      CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
      CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        district_scope JSON,
        token_hash TEXT NOT NULL UNIQUE
      );
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    // A marker as much as a change: a backend from before several instances (which wrote without the write
    // turn) finds a newer schema here and refuses to start beside the instances that use it.
    description: 'several instances: every batch is committed in the write turn (advisory lock 0x5a5a4844) and announced on zongzhi_commits',
    sql: `
      COMMENT ON TABLE changes IS 'the city''s change log: one batch per seq, committed in the write turn (pg_advisory_xact_lock 0x5a5a4844) by whichever instance, announced by NOTIFY zongzhi_commits';
    `,
  },
  {
    version: 3,
    description: '重点人员 register: personal data kept beside the city, never in the change log',
    sql: `
      CREATE TABLE key_persons (
        id TEXT PRIMARY KEY,
        grid_id TEXT NOT NULL,
        id_number TEXT NOT NULL UNIQUE,
        data JSON NOT NULL
      );
      CREATE INDEX key_persons_grid ON key_persons (grid_id);
    `,
  },
  {
    version: 4,
    description: 'sign-in: passwords (scrypt), lockout, disabled users; console sign-in sessions',
    sql: `
      ALTER TABLE users ADD COLUMN password_hash TEXT;
      ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE users ADD COLUMN locked_until TEXT;
      ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id),
        client_id TEXT NOT NULL,
        client_name TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        idle_expires_at TEXT NOT NULL,
        last_used_at TEXT NOT NULL,
        ended_at TEXT,
        ended_why TEXT
      );
      CREATE INDEX sessions_user ON sessions (user_id);
    `,
  },
  {
    version: 5,
    description: 'accounts beyond the console: department liaisons and grid staff linked to their department or staff record; API keys of source systems (hashed); sign-in failures of names that are no user',
    sql: `
      ALTER TABLE users ADD COLUMN department_id TEXT;
      ALTER TABLE users ADD COLUMN staff_id TEXT;
      CREATE UNIQUE INDEX users_staff ON users (staff_id) WHERE staff_id IS NOT NULL;
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        rate_per_minute INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        revoked_at TEXT,
        revoked_by TEXT,
        last_used_at TEXT
      );
      CREATE TABLE sign_in_failures (
        login TEXT PRIMARY KEY,
        failed INTEGER NOT NULL,
        locked_until TEXT,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 6,
    description: 'attachments: content-addressed bytes (blobs), what each upload is (attachments), the events naming them (attachment_links)',
    sql: `
      CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, bytes BYTEA NOT NULL);
      CREATE TABLE attachments (
        id TEXT PRIMARY KEY REFERENCES blobs (sha256),
        kind TEXT NOT NULL,
        mime TEXT NOT NULL,
        size INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        duration_ms INTEGER,
        name TEXT NOT NULL,
        thumb_sha256 TEXT REFERENCES blobs (sha256),
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL
      );
      CREATE TABLE attachment_links (
        attachment_id TEXT NOT NULL REFERENCES attachments (id),
        event_id TEXT NOT NULL,
        PRIMARY KEY (attachment_id, event_id)
      );
      CREATE INDEX attachment_links_event ON attachment_links (event_id);
    `,
  },
  {
    version: 7,
    description: 'ingest API: a webhook per API key, and the outbox of webhook deliveries (an event a key reported, told when closed)',
    sql: `
      ALTER TABLE api_keys ADD COLUMN webhook_url TEXT;
      ALTER TABLE api_keys ADD COLUMN webhook_secret TEXT;
      CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES api_keys (id),
        event_id TEXT NOT NULL,
        state TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT,
        delivered_at TEXT,
        last_error TEXT
      );
      CREATE INDEX webhook_deliveries_state ON webhook_deliveries (state, next_at);
    `,
  },
  {
    version: 8,
    description: 'a report\'s own callback URL and when a delivery ended (the outbox is pruned); who uploaded each attachment (the same bytes by two uploaders)',
    sql: `
      ALTER TABLE webhook_deliveries ADD COLUMN url TEXT;
      ALTER TABLE webhook_deliveries ADD COLUMN ended_at TEXT;
      UPDATE webhook_deliveries SET ended_at = COALESCE(delivered_at, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) WHERE state IN ('delivered', 'failed');
      CREATE INDEX webhook_deliveries_ended ON webhook_deliveries (ended_at) WHERE ended_at IS NOT NULL;
      CREATE TABLE attachment_uploads (
        attachment_id TEXT NOT NULL REFERENCES attachments (id),
        uploader TEXT NOT NULL,
        uploaded_at TEXT NOT NULL,
        PRIMARY KEY (attachment_id, uploader)
      );
      INSERT INTO attachment_uploads (attachment_id, uploader, uploaded_at) SELECT id, created_by, created_at FROM attachments;
    `,
  },
  {
    version: 9,
    description: 'history for replay (复盘回放): the change log by time, checkpoints of the whole state as content-addressed gzip\'d chunks, staff tracks by hour, calls',
    sql: `
      CREATE INDEX changes_at ON changes (at, seq);
      CREATE TABLE checkpoint_chunks (hash TEXT PRIMARY KEY, data BYTEA NOT NULL);
      CREATE TABLE checkpoints (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, manifest JSON NOT NULL);
      CREATE INDEX checkpoints_at ON checkpoints (at);
      CREATE TABLE tracks (
        hour INTEGER NOT NULL,
        staff_id TEXT NOT NULL,
        points BYTEA NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (hour, staff_id)
      );
      CREATE TABLE calls (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        event_id TEXT,
        user_id TEXT NOT NULL,
        data JSON NOT NULL
      );
      CREATE INDEX calls_at ON calls (at);
      CREATE INDEX calls_event ON calls (event_id) WHERE event_id IS NOT NULL;
    `,
  },
];

/** Applies the numbered migrations not yet applied, each in its transaction, under an advisory lock. */
export async function migrate(client: pg.PoolClient, where: string): Promise<void> {
  const known = PG_MIGRATIONS.at(-1)!.version;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const { rows: tables } = await client.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()");
    const names = new Set(tables.map((t) => t.name));
    const notOurs = (): StoreOpenError =>
      new StoreOpenError('database-not-ours', `${where} holds another program's tables (${[...names].slice(0, 5).join(', ')}); give the backend a database of its own`);
    if (names.size > 0 && !names.has('schema_migrations')) throw notOurs();
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    // Other tools name their table schema_migrations too (with text or bigint versions): ours has integer
    // versions and, once migrated, our entities table.
    const { rows } = await client.query<{ v: string | null }>('SELECT MAX(version)::text AS v FROM schema_migrations');
    const current = Number(rows[0]?.v ?? 0);
    if (!Number.isSafeInteger(current) || (current > 0 && !names.has('entities'))) throw notOurs();
    if (current > known) {
      throw new StoreOpenError('database-newer', `${where} has schema version ${current}, newer than this backend knows (${known}); run a newer backend`);
    }
    for (const migration of PG_MIGRATIONS.filter((m) => m.version > current)) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [migration.version, migration.description]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}
