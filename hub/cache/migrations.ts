/** Numbered migrations of the hub's cache; the version lives in PRAGMA user_version. Each has its own test. */
import type { Migration } from '../../node-util/sqlite';
import { ENTITIES_TABLE_SQL, SPLIT_EVENT_TIMELINES_SQL } from '../../node-util/entity-table';

export const CACHE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'confirmed entities, sync meta, outbox, staged snapshot chunks',
    sql: `
      ${ENTITIES_TABLE_SQL}
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE outbox (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        command_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'rejected', 'expired')),
        queued_at TEXT NOT NULL,
        expires_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        error_code TEXT,
        error_message TEXT
      );
      CREATE TABLE snapshot_chunks (
        snapshot_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        collection TEXT NOT NULL,
        items TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, idx)
      );
    `,
  },
  {
    version: 2,
    description: 'index the outbox by status (the status bar counts pending and rejected on every change)',
    sql: `CREATE INDEX outbox_status ON outbox(status);`,
  },
  {
    version: 3,
    description: 'the call log (音视频调度): one row per finished call, newest read first',
    sql: `
      CREATE TABLE call_log (
        id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        event_id TEXT,
        data TEXT NOT NULL
      );
      CREATE INDEX call_log_started ON call_log(started_at);
    `,
  },
  {
    version: 4,
    description: "an event's history (timeline) becomes records of its own, as on the backend; a staged snapshot of the old shape is dropped",
    sql: `
      ${SPLIT_EVENT_TIMELINES_SQL}
      DELETE FROM snapshot_chunks;
      UPDATE meta SET value = '' WHERE key = 'stagingSnapshot';
    `,
  },
  {
    version: 5,
    description: 'attachments kept for offline viewing: the bytes of an attachment or its thumbnail, with when they were last used (least recently used evicted)',
    sql: `
      CREATE TABLE attachment_blobs (
        id TEXT NOT NULL,
        variant TEXT NOT NULL CHECK (variant IN ('full', 'thumb')),
        mime TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        last_used INTEGER NOT NULL,
        PRIMARY KEY (id, variant)
      );
      CREATE INDEX attachment_blobs_used ON attachment_blobs(last_used);
    `,
  },
  {
    version: 6,
    description: "what the video walls remember (wall-layouts.ts): each wall's layout, tiles and tour, the named layouts (预案布局), and saved states that could not be used, kept aside",
    sql: `
      CREATE TABLE wall_layouts (
        kind TEXT NOT NULL CHECK (kind IN ('wall', 'preset', 'aside')),
        name TEXT NOT NULL,
        data TEXT NOT NULL,
        saved_at TEXT NOT NULL,
        PRIMARY KEY (kind, name)
      );
    `,
  },
  {
    version: 7,
    description: "a refused command's reason as a key and parameters (JSON), shown in the window's language; rows refused before keep their message",
    sql: `ALTER TABLE outbox ADD COLUMN error_reason TEXT;`,
  },
];
