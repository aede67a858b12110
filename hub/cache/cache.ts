/**
 * The hub's local cache: one SQLite file (WAL) in the user data dir holding the confirmed state (entities as
 * of lastSeq), the outbox of commands not yet acknowledged, and the chunks of a snapshot being received (so a
 * cut mid-snapshot resumes, even after a restart). A file that cannot be opened is moved aside and rebuilt
 * from the backend, with a notice for the user.
 */
import Database from 'better-sqlite3';
import { existsSync, renameSync } from 'node:fs';
import { COLLECTIONS, RefusalReason, type Change, type CollectionName, type CallLogEntry, type OutboxEntry, type HubNotice } from '../../protocol';
import { CityState, type LoadedState } from '../../domain';
import { StoreVersionError, migrate, timed } from '../../node-util/sqlite';
import type { Logger } from '../../node-util/logger';
import { CACHE_MIGRATIONS } from './migrations';

export const CACHE_FILE_NAME = 'cache.sqlite';

interface OutboxRow {
  command_id: string;
  type: string;
  payload: string;
  status: OutboxEntry['status'];
  queued_at: string;
  expires_at: string | null;
  attempts: number;
  error_code: string | null;
  error_message: string | null;
  error_reason: string | null;
}

/** A reason kept with a refused command, read back from the file: checked again, dropped when it does not fit. */
function reasonOf(text: string | null): { reason: RefusalReason } | Record<string, never> {
  if (!text) return {};
  try {
    const checked = RefusalReason.safeParse(JSON.parse(text));
    return checked.success ? { reason: checked.data } : {};
  } catch {
    return {};
  }
}

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    id: row.command_id,
    type: row.type,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    status: row.status,
    queuedAt: row.queued_at,
    expiresAt: row.expires_at,
    attempts: row.attempts,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '', ...reasonOf(row.error_reason) } : null,
  };
}

function openChecked(file: string): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    // quick_check reads every page: it finds a damaged file at start instead of mid-shift.
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`integrity check failed: ${String(check)}`);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

export class HubCache {
  readonly db: Database.Database;
  /** Set when the file on disk was unusable and a fresh cache was started. */
  readonly notice: HubNotice | null;
  private readonly s;

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {
    let notice: HubNotice | null = null;
    let db: Database.Database;
    try {
      db = openChecked(file);
      migrate(db, CACHE_MIGRATIONS);
    } catch (e) {
      // A newer program's cache is not ours to destroy: refuse clearly instead.
      if (e instanceof StoreVersionError) throw e;
      const aside = `${file}.corrupt-${Date.now()}`;
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
      log.error('cache unusable: moved aside, rebuilding from the backend', { file, keptAs: aside, error: (e as Error).message });
      notice = { code: 'cache-rebuilt', keptAs: aside, detail: (e as Error).message };
      db = openChecked(file);
      migrate(db, CACHE_MIGRATIONS);
    }
    this.db = db;
    this.notice = notice;
    db.pragma('synchronous = NORMAL');
    this.s = {
      all: db.prepare<[], { collection: string; id: string; data: string }>('SELECT collection, id, data FROM entities'),
      put: db.prepare<[string, string, string]>('INSERT INTO entities (collection, id, data) VALUES (?, ?, ?) ON CONFLICT(collection, id) DO UPDATE SET data = excluded.data'),
      remove: db.prepare<[string, string]>('DELETE FROM entities WHERE collection = ? AND id = ?'),
      clear: db.prepare('DELETE FROM entities'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      outboxAll: db.prepare<[], OutboxRow>('SELECT * FROM outbox ORDER BY position'),
      outboxPending: db.prepare<[], OutboxRow>("SELECT * FROM outbox WHERE status = 'pending' ORDER BY position"),
      outboxGet: db.prepare<[string], OutboxRow>('SELECT * FROM outbox WHERE command_id = ?'),
      outboxAdd: db.prepare<[string, string, string, string, string | null]>("INSERT INTO outbox (command_id, type, payload, status, queued_at, expires_at) VALUES (?, ?, ?, 'pending', ?, ?)"),
      outboxRemove: db.prepare<[string]>('DELETE FROM outbox WHERE command_id = ?'),
      outboxSetStatus: db.prepare<[string, string | null, string | null, string | null, string]>('UPDATE outbox SET status = ?, error_code = ?, error_message = ?, error_reason = ? WHERE command_id = ?'),
      outboxAttempt: db.prepare<[string]>('UPDATE outbox SET attempts = attempts + 1 WHERE command_id = ?'),
      outboxCounts: db.prepare<[], { status: string; n: number }>('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status'),
      chunkPut: db.prepare<[string, number, string, string]>('INSERT OR REPLACE INTO snapshot_chunks (snapshot_id, idx, collection, items) VALUES (?, ?, ?, ?)'),
      chunkAt: db.prepare<[string, number], { collection: string; items: string }>('SELECT collection, items FROM snapshot_chunks WHERE snapshot_id = ? AND idx = ?'),
      chunkCount: db.prepare<[string], { n: number; next: number | null }>('SELECT COUNT(*) AS n, MAX(idx) + 1 AS next FROM snapshot_chunks WHERE snapshot_id = ?'),
      chunksClear: db.prepare('DELETE FROM snapshot_chunks'),
      callAdd: db.prepare<[string, string, string | null, string]>('INSERT OR IGNORE INTO call_log (id, started_at, event_id, data) VALUES (?, ?, ?, ?)'),
      callRecent: db.prepare<[number], { data: string }>('SELECT data FROM call_log ORDER BY started_at DESC LIMIT ?'),
      callPrune: db.prepare<[number]>('DELETE FROM call_log WHERE id NOT IN (SELECT id FROM call_log ORDER BY started_at DESC LIMIT ?)'),
    };
  }

  // ── confirmed state ──────────────────────────────────────────────────────────────────────────────────

  loadState(): CityState {
    return timed(this.log, 'load cache', () => {
      const collections = Object.fromEntries(COLLECTIONS.map((c) => [c, new Map()])) as LoadedState;
      for (const row of this.s.all.iterate()) {
        const map = collections[row.collection as CollectionName] as Map<string, unknown> | undefined;
        if (map) map.set(row.id, JSON.parse(row.data));
      }
      return new CityState(collections, this.lastSeq);
    }, 500);
  }

  // ── call log ─────────────────────────────────────────────────────────────────────────────────────────

  /** Adds a call (ignored when the id is already there); keeps the newest `keep`. */
  addCall(entry: CallLogEntry, keep: number): void {
    this.s.callAdd.run(entry.id, entry.startedAt, entry.eventId, JSON.stringify(entry));
    this.s.callPrune.run(keep);
  }

  recentCalls(limit: number): CallLogEntry[] {
    return this.s.callRecent.all(limit).map((row) => JSON.parse(row.data) as CallLogEntry);
  }

  get lastSeq(): number {
    return Number(this.getMeta('lastSeq') ?? 0);
  }

  getMeta(key: string): string | null {
    return this.s.getMeta.get(key)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.s.setMeta.run(key, value);
  }

  /** Applies one delta and moves lastSeq, atomically. */
  applyDelta(seq: number, changes: readonly Change[]): void {
    timed(this.log, `apply delta ${seq}`, () =>
      this.db.transaction(() => {
        for (const change of changes) {
          if (change.op === 'upsert') this.s.put.run(change.collection, change.id, JSON.stringify(change.data));
          else this.s.remove.run(change.collection, change.id);
        }
        this.s.setMeta.run('lastSeq', String(seq));
      })(),
    );
  }

  // ── snapshots (staged chunk by chunk, swapped in at the end) ─────────────────────────────────────────

  /** The snapshot being received, if any: its id and the next chunk needed. */
  stagedSnapshot(): { snapshotId: string; nextIndex: number } | null {
    const id = this.getMeta('stagingSnapshot');
    if (!id) return null;
    const { next } = this.s.chunkCount.get(id) ?? { next: null };
    return { snapshotId: id, nextIndex: next ?? 0 };
  }

  beginSnapshot(snapshotId: string, fromIndex: number): void {
    this.db.transaction(() => {
      if (fromIndex === 0 || this.getMeta('stagingSnapshot') !== snapshotId) this.s.chunksClear.run();
      this.s.setMeta.run('stagingSnapshot', snapshotId);
    })();
  }

  stageChunk(snapshotId: string, index: number, collection: string, items: unknown[]): void {
    this.s.chunkPut.run(snapshotId, index, collection, JSON.stringify(items));
  }

  /** Replaces the confirmed state with the staged snapshot at `seq`, in one transaction. */
  finishSnapshot(snapshotId: string, seq: number): void {
    timed(this.log, 'swap in snapshot', () =>
      this.db.transaction(() => {
        this.s.clear.run();
        // One chunk at a time (a statement cannot be iterated while the connection writes).
        for (let idx = 0; ; idx++) {
          const chunk = this.s.chunkAt.get(snapshotId, idx);
          if (!chunk) break;
          for (const item of JSON.parse(chunk.items) as Array<{ id: string }>) this.s.put.run(chunk.collection, item.id, JSON.stringify(item));
        }
        this.s.chunksClear.run();
        this.s.setMeta.run('stagingSnapshot', '');
        this.s.setMeta.run('lastSeq', String(seq));
      })(),
    1000);
  }

  discardStagedSnapshot(): void {
    this.db.transaction(() => {
      this.s.chunksClear.run();
      this.s.setMeta.run('stagingSnapshot', '');
    })();
  }

  /** Volatile positions, saved now and then into the staff rows. */
  savePositions(state: CityState): void {
    timed(this.log, 'save positions', () =>
      this.db.transaction(() => {
        for (const staff of state.all('staff')) this.s.put.run('staff', staff.id, JSON.stringify(staff));
      })(),
    );
  }

  // ── outbox ───────────────────────────────────────────────────────────────────────────────────────────

  addCommand(entry: { id: string; type: string; payload: Record<string, unknown>; queuedAt: string; expiresAt: string | null }): void {
    this.s.outboxAdd.run(entry.id, entry.type, JSON.stringify(entry.payload), entry.queuedAt, entry.expiresAt);
  }

  outbox(): OutboxEntry[] {
    return this.s.outboxAll.all().map(toEntry);
  }

  pendingCommands(): OutboxEntry[] {
    return this.s.outboxPending.all().map(toEntry);
  }

  command(commandId: string): OutboxEntry | null {
    const row = this.s.outboxGet.get(commandId);
    return row ? toEntry(row) : null;
  }

  removeCommand(commandId: string): void {
    this.s.outboxRemove.run(commandId);
  }

  markCommand(commandId: string, status: 'rejected' | 'expired' | 'pending', error: { code: string; message: string; reason?: RefusalReason } | null): void {
    this.s.outboxSetStatus.run(status, error?.code ?? null, error?.message ?? null, error?.reason ? JSON.stringify(error.reason) : null, commandId);
  }

  countAttempt(commandId: string): void {
    this.s.outboxAttempt.run(commandId);
  }

  outboxCounts(): { pending: number; rejected: number } {
    let pending = 0;
    let rejected = 0;
    for (const row of this.s.outboxCounts.all()) {
      if (row.status === 'pending') pending = row.n;
      else rejected += row.n;
    }
    return { pending, rejected };
  }

  close(): void {
    this.db.close();
  }
}
