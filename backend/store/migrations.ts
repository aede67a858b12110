/** Numbered SQLite migrations for the backend store; the version lives in PRAGMA user_version. */
import type { Migration } from '../../node-util/sqlite';
import { ENTITIES_TABLE_SQL, SPLIT_EVENT_TIMELINES_SQL } from '../../node-util/entity-table';

export const BACKEND_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'entities, change log, commands, append-only audit, users, meta',
    sql: `
      ${ENTITIES_TABLE_SQL}
      CREATE TABLE changes (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        changes TEXT NOT NULL
      );
      CREATE TABLE commands (
        command_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        type TEXT NOT NULL,
        outcome TEXT NOT NULL,
        at TEXT NOT NULL
      );
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        user_id TEXT,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      CREATE INDEX audit_at ON audit(at);
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        district_scope TEXT,
        token_hash TEXT NOT NULL UNIQUE
      );
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    description: "an event's history (timeline) becomes records of its own; the change log before it is dropped",
    sql: `
      ${SPLIT_EVENT_TIMELINES_SQL}
      -- Deltas logged before carry events in the old shape: a client resuming from one takes a snapshot instead.
      INSERT INTO meta (key, value)
        SELECT 'baseSeq', CAST(COALESCE((SELECT MAX(seq) FROM changes), (SELECT value FROM meta WHERE key = 'baseSeq'), 0) AS TEXT)
        WHERE 1
        ON CONFLICT(key) DO UPDATE SET value = excluded.value;
      DELETE FROM changes;
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
        data TEXT NOT NULL
      );
      CREATE INDEX key_persons_grid ON key_persons(grid_id);
    `,
  },
  {
    version: 4,
    description: 'sign-in: passwords (scrypt), lockout, disabled users; console sign-in sessions',
    sql: `
      ALTER TABLE users ADD COLUMN password_hash TEXT;
      ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE users ADD COLUMN locked_until TEXT;
      ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        client_id TEXT NOT NULL,
        client_name TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        idle_expires_at TEXT NOT NULL,
        last_used_at TEXT NOT NULL,
        ended_at TEXT,
        ended_why TEXT
      );
      CREATE INDEX sessions_user ON sessions(user_id);
    `,
  },
  {
    version: 5,
    description: 'accounts beyond the console: department liaisons and grid staff linked to their department or staff record; API keys of source systems (hashed); sign-in failures of names that are no user',
    sql: `
      ALTER TABLE users ADD COLUMN department_id TEXT;
      ALTER TABLE users ADD COLUMN staff_id TEXT;
      CREATE UNIQUE INDEX users_staff ON users(staff_id) WHERE staff_id IS NOT NULL;
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
      CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, bytes BLOB NOT NULL);
      CREATE TABLE attachments (
        id TEXT PRIMARY KEY REFERENCES blobs(sha256),
        kind TEXT NOT NULL,
        mime TEXT NOT NULL,
        size INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        duration_ms INTEGER,
        name TEXT NOT NULL,
        thumb_sha256 TEXT REFERENCES blobs(sha256),
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL
      );
      CREATE TABLE attachment_links (
        attachment_id TEXT NOT NULL REFERENCES attachments(id),
        event_id TEXT NOT NULL,
        PRIMARY KEY (attachment_id, event_id)
      );
      CREATE INDEX attachment_links_event ON attachment_links(event_id);
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
        key_id TEXT NOT NULL REFERENCES api_keys(id),
        event_id TEXT NOT NULL,
        state TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT,
        delivered_at TEXT,
        last_error TEXT
      );
      CREATE INDEX webhook_deliveries_state ON webhook_deliveries(state, next_at);
    `,
  },
  {
    version: 8,
    description: 'a report\'s own callback URL and when a delivery ended (the outbox is pruned); who uploaded each attachment (the same bytes by two uploaders)',
    sql: `
      ALTER TABLE webhook_deliveries ADD COLUMN url TEXT;
      ALTER TABLE webhook_deliveries ADD COLUMN ended_at TEXT;
      UPDATE webhook_deliveries SET ended_at = COALESCE(delivered_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) WHERE state IN ('delivered', 'failed');
      CREATE INDEX webhook_deliveries_ended ON webhook_deliveries(ended_at) WHERE ended_at IS NOT NULL;
      CREATE TABLE attachment_uploads (
        attachment_id TEXT NOT NULL REFERENCES attachments(id),
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
      CREATE INDEX changes_at ON changes(at, seq);
      CREATE TABLE checkpoint_chunks (hash TEXT PRIMARY KEY, data BLOB NOT NULL);
      CREATE TABLE checkpoints (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, manifest TEXT NOT NULL);
      CREATE INDEX checkpoints_at ON checkpoints(at);
      CREATE TABLE tracks (
        hour INTEGER NOT NULL,
        staff_id TEXT NOT NULL,
        points BLOB NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (hour, staff_id)
      );
      CREATE TABLE calls (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        event_id TEXT,
        user_id TEXT NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX calls_at ON calls(at);
      CREATE INDEX calls_event ON calls(event_id) WHERE event_id IS NOT NULL;
    `,
  },
];
