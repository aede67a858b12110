import Database from 'better-sqlite3';
import { COLLECTIONS, type Change, type CollectionName, type CollectionTypes, type KeyPerson } from '../../protocol';
import { BACKEND_MIGRATIONS } from './migrations';
import { StoreVersionError, migrate } from '../../node-util/sqlite';
import { APPLICATION_ID, StoreOpenError, checkDatabaseFile, storeErrorOf } from './open-check';
import { SqliteLogins } from './sqlite-logins';
import { SqliteAccounts } from './sqlite-accounts';
import { sqliteApiKeys } from './api-key-rows';
import { sqliteWebhooks } from './webhook-rows';
import { sqliteHistory } from './history-rows';
import { sqliteCalls } from './call-rows';
import { sqliteTracks } from './track-rows';
import { SqliteAttachments } from './sqlite-attachments';
import { StaleReplicaError, type AuditEntry, type AuditFilter, type AttachmentRecord, type AuditRecord, type BackendStore, type BlobRead, type ChangeBatch, type CommandRecord, type CommitBatch, type LoadedState, type Watch, type WriteTurn } from './types';

export { StoreVersionError, migrate };

/** The reference backend's store: one SQLite file in WAL mode. */
export class SqliteStore implements BackendStore {
  private readonly db: Database.Database;
  private readonly statements;
  /** Failed sign-ins (users' and unknown names') and user creation (sqlite-logins.ts). */
  private readonly logins: SqliteLogins;
  /** Users and sessions (sqlite-accounts.ts). */
  private readonly accounts: SqliteAccounts;
  /** Source systems' API keys (api-key-rows.ts). */
  private readonly apiKeys: ReturnType<typeof sqliteApiKeys>;
  private readonly webhooks: ReturnType<typeof sqliteWebhooks>;
  /** Checkpoints and the log by time, for replay (history-rows.ts). */
  private readonly history: ReturnType<typeof sqliteHistory>;
  /** Calls kept for replay (call-rows.ts). */
  private readonly calls: ReturnType<typeof sqliteCalls>;
  /** Staff tracks by hour, for replay (track-rows.ts). */
  private readonly tracks: ReturnType<typeof sqliteTracks>;
  /** Attachments: blobs, records, links (sqlite-attachments.ts). */
  private readonly attachments: SqliteAttachments;

  constructor(file: string) {
    // Empty, truncated, not SQLite, another program's, damaged or newer: refused with the reason, never taken as new.
    checkDatabaseFile(file);
    let opened: Database.Database | null = null;
    try {
      opened = new Database(file);
      // Whose file this is, asked before anything is written to it (even the journal mode changes the header).
      const version = opened.pragma('user_version', { simple: true }) as number;
      const known = BACKEND_MIGRATIONS.at(-1)!.version;
      if (version > known) throw new StoreOpenError('database-newer', `${file}: ${new StoreVersionError(version, known).message}`);
      const tables = new Set(opened.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name));
      if ((version === 0 && tables.size > 0) || (version > 0 && !tables.has('entities'))) {
        throw new StoreOpenError('database-not-ours', `${file} is a SQLite database of another program (tables: ${[...tables].slice(0, 5).join(', ')}); check the --db path`);
      }
      opened.pragma('journal_mode = WAL');
      opened.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable across app crashes, fast commits
      opened.pragma('foreign_keys = ON');
      try {
        migrate(opened, BACKEND_MIGRATIONS);
      } catch (e) {
        if (e instanceof StoreVersionError) throw new StoreOpenError('database-newer', `${file}: ${e.message}`);
        throw e;
      }
      if ((opened.pragma('application_id', { simple: true }) as number) !== APPLICATION_ID) opened.pragma(`application_id = ${APPLICATION_ID}`);
    } catch (e) {
      opened?.close();
      throw storeErrorOf(e, file);
    }
    this.db = opened;
    const db = this.db;
    this.logins = new SqliteLogins(db);
    this.accounts = new SqliteAccounts(db);
    this.apiKeys = sqliteApiKeys(db);
    this.webhooks = sqliteWebhooks(db);
    this.history = sqliteHistory(db);
    this.calls = sqliteCalls(db);
    this.tracks = sqliteTracks(db);
    this.attachments = new SqliteAttachments(db);
    this.statements = {
      allEntities: db.prepare<[], { collection: string; id: string; data: string }>('SELECT collection, id, data FROM entities'),
      putEntity: db.prepare<[string, string, string]>('INSERT INTO entities (collection, id, data) VALUES (?, ?, ?) ON CONFLICT(collection, id) DO UPDATE SET data = excluded.data'),
      removeEntity: db.prepare<[string, string]>('DELETE FROM entities WHERE collection = ? AND id = ?'),
      insertChange: db.prepare<[number, string, string]>('INSERT INTO changes (seq, at, changes) VALUES (?, ?, ?)'),
      maxSeq: db.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM changes'),
      minSeq: db.prepare<[], { seq: number | null }>('SELECT MIN(seq) AS seq FROM changes'),
      changesAfter: db.prepare<[number, number], { seq: number; at: string; changes: string }>('SELECT seq, at, changes FROM changes WHERE seq > ? ORDER BY seq LIMIT ?'),
      insertCommand: db.prepare<[string, string, string, string, string]>('INSERT INTO commands (command_id, user_id, type, outcome, at) VALUES (?, ?, ?, ?, ?)'),
      findCommand: db.prepare<[string], { command_id: string; user_id: string; type: string; outcome: string; at: string }>('SELECT * FROM commands WHERE command_id = ?'),
      insertAudit: db.prepare<[string, string | null, string, string]>('INSERT INTO audit (at, user_id, kind, detail) VALUES (?, ?, ?, ?)'),
      getStaff: db.prepare<[string], { data: string }>("SELECT data FROM entities WHERE collection = 'staff' AND id = ?"),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      pruneChanges: db.prepare<[number]>('DELETE FROM changes WHERE seq <= ?'),
      clearKeyPersons: db.prepare('DELETE FROM key_persons'),
      insertKeyPerson: db.prepare<[string, string, string, string]>('INSERT INTO key_persons (id, grid_id, id_number, data) VALUES (?, ?, ?, ?)'),
      keyPersonsInGrid: db.prepare<[string], { data: string }>('SELECT data FROM key_persons WHERE grid_id = ? ORDER BY id'),
    };
  }

  private lastSeq(): number {
    return this.statements.maxSeq.get()?.seq ?? Number(this.statements.getMeta.get('baseSeq')?.value ?? 0);
  }

  async load(): Promise<{ state: LoadedState; seq: number }> {
    const state = Object.fromEntries(COLLECTIONS.map((c) => [c, new Map()])) as LoadedState;
    for (const row of this.statements.allEntities.iterate()) {
      const map = state[row.collection as CollectionName] as Map<string, unknown> | undefined;
      if (!map) continue;
      try {
        map.set(row.id, JSON.parse(row.data));
      } catch {
        throw new StoreOpenError('database-corrupt', `the database's ${row.collection} record ${row.id.slice(0, 64)} is not valid JSON; restore the database from a backup`);
      }
    }
    return { state, seq: this.lastSeq() };
  }

  private applyChanges(changes: readonly Change[]): void {
    for (const change of changes) {
      if (change.op === 'upsert') this.statements.putEntity.run(change.collection, change.id, JSON.stringify(change.data));
      else this.statements.removeEntity.run(change.collection, change.id);
    }
  }

  async commit(batch: CommitBatch): Promise<void> {
    this.db.transaction(() => this.commitNow(batch))();
  }

  private commitNow(batch: CommitBatch): void {
    const last = this.lastSeq();
    if (batch.seq <= last) throw new Error(`seq ${batch.seq} is not after ${last}`);
    this.applyChanges(batch.changes);
    this.statements.insertChange.run(batch.seq, batch.at, JSON.stringify(batch.changes));
    if (batch.command) this.insertCommand(batch.command);
    for (const entry of batch.audit ?? []) this.insertAudit(entry);
    if (batch.attachmentLinks?.length) this.attachments.link(batch.attachmentLinks);
    if (batch.calls?.length) this.calls.insert(batch.calls);
  }

  /**
   * One process writes a SQLite file, and its pipeline already runs one command at a time: a turn hands over
   * whatever the log holds after `knownSeq` (nothing, normally), keeps the turn's writes, and makes them in one
   * transaction when `work` resolves (none when it throws).
   */
  async writeTurn<T>(knownSeq: number, work: (turn: WriteTurn) => Promise<T>): Promise<T> {
    const missed = knownSeq < this.lastSeq() ? await this.changesSince(knownSeq, Number.MAX_SAFE_INTEGER) : [];
    if (missed === null) throw new StaleReplicaError(knownSeq);
    const writes: Array<() => void> = [];
    const result = await work({
      missed,
      findCommand: (id) => this.findCommand(id),
      commit: async (batch) => void writes.push(() => this.commitNow(batch)),
      recordRejected: async (command, audit) =>
        void writes.push(() => {
          this.insertCommand(command);
          this.insertAudit(audit);
        }),
    });
    this.db.transaction(() => writes.forEach((write) => write()))();
    return result;
  }

  /** One process: nobody to wait for. */
  exclusively<T>(work: () => Promise<T>): Promise<T> {
    return work();
  }

  /** Nobody else writes this file. */
  watchCommits(): Watch {
    return { close: async () => {} };
  }

  /** The only instance leads. */
  lead(onLead: (leading: boolean) => void): Watch {
    queueMicrotask(() => onLead(true));
    return { close: async () => {} };
  }

  /** Bulk initial load (the generated city, history backfill) without a change log: clients get it by snapshot. */
  seedEntities<C extends CollectionName>(collection: C, items: Iterable<CollectionTypes[C]>): void {
    this.db.transaction(() => {
      for (const item of items) this.statements.putEntity.run(collection, (item as { id: string }).id, JSON.stringify(item));
    })();
  }

  private insertCommand(record: CommandRecord): void {
    this.statements.insertCommand.run(record.commandId, record.userId, record.type, JSON.stringify(record.outcome), record.at);
  }

  private insertAudit(entry: AuditEntry): void {
    this.statements.insertAudit.run(entry.at, entry.userId, entry.kind, JSON.stringify(entry.detail));
  }

  async changesSince(seq: number, limit: number): Promise<ChangeBatch[] | null> {
    const oldest = this.statements.minSeq.get()?.seq ?? null;
    const last = this.lastSeq();
    if (seq >= last) return [];
    // The client must hold seq; we need seq+1 onwards. If seq+1 was pruned (or never logged), it is too old.
    if (oldest === null || seq + 1 < oldest) return null;
    return this.statements.changesAfter.all(seq, limit).map((row) => ({ seq: row.seq, at: row.at, changes: JSON.parse(row.changes) as Change[] }));
  }

  async findCommand(commandId: string): Promise<CommandRecord | null> {
    const row = this.statements.findCommand.get(commandId);
    if (!row) return null;
    return { commandId: row.command_id, userId: row.user_id, type: row.type, outcome: JSON.parse(row.outcome) as CommandRecord['outcome'], at: row.at };
  }

  async recordRejected(command: CommandRecord, audit: AuditEntry): Promise<void> {
    this.db.transaction(() => {
      this.insertCommand(command);
      this.insertAudit(audit);
    })();
  }

  async audit(entries: AuditEntry[]): Promise<void> {
    this.db.transaction(() => entries.forEach((e) => this.insertAudit(e)))();
  }

  async readAudit(filter: AuditFilter): Promise<AuditRecord[]> {
    const where: string[] = [];
    const args: Array<string | number> = [];
    const add = (clause: string, ...values: Array<string | number>): void => {
      where.push(clause);
      args.push(...values);
    };
    if (filter.userId !== undefined) add('user_id = ?', filter.userId);
    if (filter.kind !== undefined) add('kind = ?', filter.kind);
    if (filter.eventId !== undefined) add("(json_extract(detail, '$.eventId') = ? OR json_extract(detail, '$.payload.eventId') = ?)", filter.eventId, filter.eventId);
    if (filter.from !== undefined) add('at >= ?', filter.from);
    if (filter.to !== undefined) add('at < ?', filter.to);
    if (filter.text !== undefined) {
      const like = `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      add("(detail LIKE ? ESCAPE '\\' OR user_id LIKE ? ESCAPE '\\' OR kind LIKE ? ESCAPE '\\')", like, like, like);
    }
    if (filter.before) add('(at < ? OR (at = ? AND id < ?))', filter.before.at, filter.before.at, filter.before.id);
    // Newest first on the index on `at` (its rows carry the id: ties in order too); the rest filtered on the way.
    const sql = `SELECT id, at, user_id, kind, detail FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    return this.db
      .prepare<Array<string | number>, { id: number; at: string; user_id: string | null; kind: string; detail: string }>(sql)
      .all(...args, filter.limit)
      .map((r) => ({ id: r.id, at: r.at, userId: r.user_id, kind: r.kind, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  async savePositions(items: Array<[string, number, number]>): Promise<void> {
    this.db.transaction(() => {
      for (const [id, lon, lat] of items) {
        const row = this.statements.getStaff.get(id);
        if (!row) continue;
        const staff = JSON.parse(row.data) as CollectionTypes['staff'];
        staff.position = [lon, lat];
        this.statements.putEntity.run('staff', id, JSON.stringify(staff));
      }
    })();
  }

  findUserByTokenHash: BackendStore['findUserByTokenHash'] = async (tokenHash, now) => this.accounts.findUserByTokenHash(tokenHash, now);
  findLogin: BackendStore['findLogin'] = async (userId) => this.accounts.findLogin(userId);
  setPassword: BackendStore['setPassword'] = async (userId, passwordHash) => this.accounts.setPassword(userId, passwordHash);
  setLoginFailures: BackendStore['setLoginFailures'] = async (userId, failed, lockedUntil) => this.accounts.setLoginFailures(userId, failed, lockedUntil);
  countLoginFailure: BackendStore['countLoginFailure'] = async (userId, lockFor) => this.logins.countLoginFailure(userId, lockFor);
  countNameFailure: BackendStore['countNameFailure'] = async (login, at, lockFor) => this.logins.countNameFailure(login, at, lockFor);
  findNameFailures: BackendStore['findNameFailures'] = async (login) => this.logins.findNameFailures(login);
  pruneNameFailures: BackendStore['pruneNameFailures'] = async (before, now, limit) => this.logins.pruneNameFailures(before, now, limit);
  createUser: BackendStore['createUser'] = async (user, passwordHash) => this.logins.createUser(user, passwordHash);
  setUserDisabled: BackendStore['setUserDisabled'] = async (userId, disabled, at) => this.accounts.setUserDisabled(userId, disabled, at);
  watchUsers: BackendStore['watchUsers'] = (onChange) => this.accounts.watchUsers(onChange);
  createSession: BackendStore['createSession'] = async (s) => this.accounts.createSession(s);
  findSession: BackendStore['findSession'] = async (tokenHash) => this.accounts.findSession(tokenHash);
  touchSession: BackendStore['touchSession'] = async (tokenHash, at, idle) => this.accounts.touchSession(tokenHash, at, idle);
  endSession: BackendStore['endSession'] = async (tokenHash, at, why) => this.accounts.endSession(tokenHash, at, why);
  upsertUsers: BackendStore['upsertUsers'] = async (users) => this.accounts.upsertUsers(users);
  countUsers: BackendStore['countUsers'] = async () => this.accounts.countUsers();
  listUsers: BackendStore['listUsers'] = async () => this.accounts.listUsers();
  createApiKey: BackendStore['createApiKey'] = (key) => this.apiKeys.createApiKey(key);
  listApiKeys: BackendStore['listApiKeys'] = () => this.apiKeys.listApiKeys();
  findApiKeyByHash: BackendStore['findApiKeyByHash'] = (hash) => this.apiKeys.findApiKeyByHash(hash);
  revokeApiKey: BackendStore['revokeApiKey'] = (id, at, by) => this.apiKeys.revokeApiKey(id, at, by);
  removeRevokedApiKeys: BackendStore['removeRevokedApiKeys'] = (createdBy, before) => this.apiKeys.removeRevokedApiKeys(createdBy, before);
  touchApiKey: BackendStore['touchApiKey'] = (id, at) => this.apiKeys.touchApiKey(id, at);
  queueWebhook: BackendStore['queueWebhook'] = (d) => this.webhooks.queueWebhook(d);
  webhooksIn: BackendStore['webhooksIn'] = (state, limit, from) => this.webhooks.webhooksIn(state, limit, from);
  updateWebhook: BackendStore['updateWebhook'] = (d) => this.webhooks.updateWebhook(d);
  pruneWebhooks: BackendStore['pruneWebhooks'] = (before, limit) => this.webhooks.pruneWebhooks(before, limit);
  putCheckpoint: BackendStore['putCheckpoint'] = (checkpoint, chunks) => this.history.putCheckpoint(checkpoint, chunks);
  checkpointAtOrBefore: BackendStore['checkpointAtOrBefore'] = (at) => this.history.checkpointAtOrBefore(at);
  checkpointRange: BackendStore['checkpointRange'] = () => this.history.checkpointRange();
  readChunks: BackendStore['readChunks'] = (hashes) => this.history.readChunks(hashes);
  changesBetween: BackendStore['changesBetween'] = (afterSeq, uptoAt, limit) => this.history.changesBetween(afterSeq, uptoAt, limit);
  pruneHistory: BackendStore['pruneHistory'] = (beforeAt, limit) => this.history.pruneHistory(beforeAt, limit);
  historySize: BackendStore['historySize'] = () => this.history.historySize();
  callsIn: BackendStore['callsIn'] = (filter) => this.calls.callsIn(filter);
  pruneCalls: BackendStore['pruneCalls'] = (beforeAt, limit) => this.calls.pruneCalls(beforeAt, limit);
  putTracks: BackendStore['putTracks'] = (rows) => this.tracks.putTracks(rows);
  tracksIn: BackendStore['tracksIn'] = (hourFrom, hourTo, staffIds) => this.tracks.tracksIn(hourFrom, hourTo, staffIds);
  pruneTracks: BackendStore['pruneTracks'] = (beforeHour, limit) => this.tracks.pruneTracks(beforeHour, limit);

  async getMeta(key: string): Promise<string | null> {
    return this.statements.getMeta.get(key)?.value ?? null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.statements.setMeta.run(key, value);
  }

  async replaceKeyPersons(rows: KeyPerson[]): Promise<void> {
    this.db.transaction(() => {
      this.statements.clearKeyPersons.run();
      for (const r of rows) this.statements.insertKeyPerson.run(r.id, r.gridId, r.idNumber, JSON.stringify(r));
    })();
  }

  async keyPersonsIn(gridIds: readonly string[]): Promise<KeyPerson[]> {
    return [...new Set(gridIds)].sort().flatMap((g) => this.statements.keyPersonsInGrid.all(g).map((r) => JSON.parse(r.data) as KeyPerson));
  }

  async putAttachment(record: AttachmentRecord, bytes: Buffer, thumb: Buffer | null): Promise<{ record: AttachmentRecord; created: boolean }> {
    return this.attachments.put(record, bytes, thumb);
  }

  attachmentUploadedBy: BackendStore['attachmentUploadedBy'] = async (id, uploader) => this.attachments.uploadedBy(id, uploader);

  async findAttachments(ids: readonly string[]): Promise<AttachmentRecord[]> {
    return this.attachments.find(ids);
  }

  async attachmentEvents(id: string): Promise<string[]> {
    return this.attachments.events(id);
  }

  async readBlob(sha256: string, range?: { start: number; end: number }): Promise<BlobRead | null> {
    return this.attachments.read(sha256, range);
  }

  async blobSize(sha256: string): Promise<number | null> {
    return this.attachments.size(sha256);
  }

  async attachmentCounts(): Promise<{ blobs: number; attachments: number; links: number }> {
    return this.attachments.counts();
  }

  async pruneChanges(keep: number): Promise<number> {
    const last = this.lastSeq();
    if (last - keep <= 0) return 0;
    return this.db.transaction(() => {
      // Remember where the log starts so lastSeq stays right even if every batch is pruned.
      this.statements.setMeta.run('baseSeq', String(last));
      return this.statements.pruneChanges.run(last - keep).changes;
    })();
  }

  /** Reads the audit log (tests, operators). */
  auditLog(limit = 1000): AuditEntry[] {
    return this.db
      .prepare<[number], { at: string; user_id: string | null; kind: string; detail: string }>('SELECT at, user_id, kind, detail FROM audit ORDER BY id DESC LIMIT ?')
      .all(limit)
      .map((r) => ({ at: r.at, userId: r.user_id, kind: r.kind as AuditEntry['kind'], detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  close(): void {
    this.db.close();
  }
}
