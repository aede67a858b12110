/**
 * The backend's store on PostgreSQL (node-postgres): the same interface and the same discipline as the SQLite
 * store — numbered migrations (schema_migrations), a database of a newer schema or of another program refused
 * with the reason, the audit append-only in the database itself (a trigger refuses UPDATE, DELETE, TRUNCATE).
 * Records are `json` (kept as written, key order included), so both stores hand back the same bytes.
 * The statements a write turn runs are in pg-writes.ts, the migrations and how they are applied in pg-migrations.ts.
 */
import pg from 'pg';
import { COLLECTIONS, type Change, type CollectionName, type CollectionTypes } from '../../protocol';
import { migrate } from './pg-migrations';
import { PgAuth, notifyUserChange, userOf, type UserRow } from './pg-auth';
import { rightsChanged, type UserChange } from './user-changes';
import { pgApiKeys } from './api-key-rows';
import { pgWebhooks } from './webhook-rows';
import { pgHistory } from './history-rows';
import { pgCalls } from './call-rows';
import { pgTracks } from './track-rows';
import { pgMeta } from './meta-rows';
import { PgAttachments } from './pg-attachments';
import { readPgAudit } from './pg-audit';
import { StaleReplicaError, type AuditEntry, type AuditFilter, type AuditRecord, type BackendStore, type ChangeBatch, type CommandRecord, type CommitBatch, type LoadedState, type StoreLinkListener, type UserRecord, type Watch, type WriteTurn } from './types';
import { SESSION_LIMITS, contendForLead, watchCommits, watchUsers } from './pg-cluster';
import { commitIn, findCommandIn, insertAudit, insertCommand } from './pg-writes';

/**
 * The city's write turn: taken by every transaction that commits a batch, on every instance, and held until its
 * commit. Batches are thus numbered and committed one after another — one global order, and a reader of the
 * log never sees seq n+1 before n.
 */
const WRITE_LOCK = 0x5a5a4844;
/** Held while an instance sets up a city on a new database (users, the generated city, its history). */
const SETUP_LOCK = 0x5a5a4845;
/**
 * A transaction that starts by waiting for the write turn (one round trip: the statements sent at once). Bounded:
 * a turn waits at most 10 s for the lock (the command is then refused as retryable), and a turn left idle by an
 * instance that stopped answering (a host gone without closing its sockets) is ended by the server after 10 s,
 * so one lost instance cannot hold the whole city's writes.
 */
const BEGIN_WRITE_TURN = `BEGIN; SET LOCAL lock_timeout = '10s'; SET LOCAL idle_in_transaction_session_timeout = '10s'; SELECT pg_advisory_xact_lock(${WRITE_LOCK})`;

type Client = pg.PoolClient;

/** Where a URL points, without its password (nor any query parameter: `?password=` works too), for messages. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return 'the database URL';
  }
}

export class PgStore implements BackendStore {
  private readonly watches = new Set<Watch>();
  /** Sign-in: passwords, lockout, sessions (pg-auth.ts). */
  private readonly auth: PgAuth;
  /** Source systems' API keys (api-key-rows.ts). */
  private readonly apiKeys: ReturnType<typeof pgApiKeys>;
  private readonly webhooks: ReturnType<typeof pgWebhooks>;
  /** Checkpoints and the log by time, for replay (history-rows.ts). */
  private readonly history: ReturnType<typeof pgHistory>;
  /** Calls kept for replay (call-rows.ts). */
  private readonly calls: ReturnType<typeof pgCalls>;
  /** Staff tracks by hour, for replay (track-rows.ts). */
  private readonly tracks: ReturnType<typeof pgTracks>;
  /** Attachments: blobs, records, links (pg-attachments.ts). */
  private readonly attachments: PgAttachments;
  /** The meta key/values and the key persons (meta-rows.ts). */
  private readonly meta: ReturnType<typeof pgMeta>;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    readonly where: string,
  ) {
    this.auth = new PgAuth(pool);
    this.apiKeys = pgApiKeys(pool);
    this.webhooks = pgWebhooks(pool);
    this.history = pgHistory(pool, (work) => this.tx(work, BEGIN_WRITE_TURN), (work) => this.tx(work));
    this.calls = pgCalls(pool);
    this.tracks = pgTracks(pool, (work) => this.tx(work));
    this.meta = pgMeta(pool, (work) => this.tx(work));
    this.attachments = new PgAttachments(pool);
  }

  /** Connects and migrates; refuses a database it must not touch. Errors say where, never the password. */
  static async open(url: string, options: { poolSize?: number } = {}): Promise<PgStore> {
    const where = shown(url);
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 4, connectionTimeoutMillis: 10_000, ...SESSION_LIMITS, query_timeout: 120_000 });
    // An idle client losing its server must not end the process: the next query reports it.
    pool.on('error', () => {});
    try {
      const client = await pool.connect().catch((e: unknown) => {
        throw new Error(`cannot reach the database at ${where}: ${(e as Error).message}`);
      });
      // A connection lost while checked out must fail its query, not end the process (pg emits 'error' on it).
      client.on('error', () => {});
      try {
        await migrate(client, where);
      } finally {
        client.release();
      }
      return new PgStore(pool, url, where);
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
  }

  private async tx<T>(work: (client: Client) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const client = await this.pool.connect();
    // A connection lost mid-transaction fails this work with the error; it must not end the process.
    const onError = (): void => {};
    client.on('error', onError);
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.off('error', onError);
      client.release();
    }
  }

  private async lastSeq(client: Client | pg.Pool = this.pool): Promise<number> {
    const { rows } = await client.query<{ seq: string | null; base: string | null }>(
      "SELECT (SELECT MAX(seq) FROM changes)::text AS seq, (SELECT value FROM meta WHERE key = 'baseSeq') AS base",
    );
    return Number(rows[0]?.seq ?? rows[0]?.base ?? 0);
  }

  async load(): Promise<{ state: LoadedState; seq: number }> {
    // One snapshot for both reads: a batch committed between them would count in the seq and be missing from
    // the state (and then be skipped as already applied).
    return this.tx(async (client) => {
      const state = Object.fromEntries(COLLECTIONS.map((c) => [c, new Map()])) as LoadedState;
      const { rows } = await client.query<{ collection: string; id: string; data: unknown }>('SELECT collection, id, data FROM entities');
      for (const row of rows) (state[row.collection as CollectionName] as Map<string, unknown> | undefined)?.set(row.id, row.data);
      return { state, seq: await this.lastSeq(client) };
    }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async commit(batch: CommitBatch): Promise<void> {
    await this.tx(async (client) => commitIn(client, batch, await this.lastSeq(client)), BEGIN_WRITE_TURN);
  }

  async writeTurn<T>(knownSeq: number, work: (turn: WriteTurn) => Promise<T>): Promise<T> {
    // Once the turn is held, everything committed before is visible to this transaction's reads (read committed).
    return this.tx(async (client) => {
      let last = await this.lastSeq(client);
      let missed: ChangeBatch[] = [];
      if (last > knownSeq) {
        const { rows } = await client.query<{ seq: string; at: string; changes: Change[] }>('SELECT seq::text AS seq, at, changes FROM changes WHERE seq > $1 ORDER BY changes.seq', [knownSeq]);
        missed = rows.map((row) => ({ seq: Number(row.seq), at: row.at, changes: row.changes }));
        if (missed.length !== last - knownSeq || missed[0]?.seq !== knownSeq + 1) throw new StaleReplicaError(knownSeq);
      }
      return work({
        missed,
        findCommand: (commandId) => findCommandIn(client, commandId),
        commit: async (batch) => {
          await commitIn(client, batch, last);
          last = batch.seq;
        },
        recordRejected: async (command, audit) => {
          await insertCommand(client, command);
          await insertAudit(client, audit);
        },
      });
    }, BEGIN_WRITE_TURN);
  }

  /** Runs `work` while no other instance runs its own (the first start's set-up: only one seeds the city). */
  async exclusively<T>(work: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const onError = (): void => {};
    client.on('error', onError);
    try {
      await client.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK]);
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [SETUP_LOCK]).catch(() => {});
      }
    } finally {
      client.off('error', onError);
      client.release();
    }
  }

  watchCommits(onCommit: (seq?: number) => void, onLink: StoreLinkListener): Watch {
    return this.keep(watchCommits(this.url, onCommit, onLink));
  }

  lead(onLead: (leading: boolean) => void): Watch {
    return this.keep(contendForLead(this.url, onLead));
  }

  /** A watch ends with the store at the latest. */
  private keep(watch: Watch): Watch {
    this.watches.add(watch);
    return {
      close: async () => {
        this.watches.delete(watch);
        await watch.close();
      },
    };
  }

  /** Bulk initial load (the generated city, history backfill) without a change log: clients get it by snapshot. */
  async seedEntities<C extends CollectionName>(collection: C, items: Iterable<CollectionTypes[C]>): Promise<void> {
    const all = [...items];
    await this.tx(async (client) => {
      for (let i = 0; i < all.length; i += 1000) {
        const part = all.slice(i, i + 1000);
        await client.query(
          `INSERT INTO entities (collection, id, data) SELECT $1, x.id, x.data FROM json_to_recordset($2::json) AS x(id text, data json)
           ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data`,
          [collection, JSON.stringify(part.map((item) => ({ id: (item as { id: string }).id, data: item })))],
        );
      }
    });
  }

  async changesSince(seq: number, limit: number): Promise<ChangeBatch[] | null> {
    // One snapshot for the three reads: a prune between them must not hand a client a log with a gap.
    return this.tx(async (client) => {
      const last = await this.lastSeq(client);
      if (seq >= last) return [];
      const { rows: oldest } = await client.query<{ seq: string | null }>('SELECT MIN(seq)::text AS seq FROM changes');
      const first = oldest[0]?.seq === null || oldest[0]?.seq === undefined ? null : Number(oldest[0].seq);
      if (first === null || seq + 1 < first) return null;
      const { rows } = await client.query<{ seq: string; at: string; changes: Change[] }>('SELECT seq::text AS seq, at, changes FROM changes WHERE seq > $1 ORDER BY changes.seq LIMIT $2', [seq, limit]);
      return rows.map((row) => ({ seq: Number(row.seq), at: row.at, changes: row.changes }));
    }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async findCommand(commandId: string): Promise<CommandRecord | null> {
    return findCommandIn(this.pool, commandId);
  }

  async recordRejected(command: CommandRecord, audit: AuditEntry): Promise<void> {
    await this.tx(async (client) => {
      await insertCommand(client, command);
      await insertAudit(client, audit);
    });
  }

  async audit(entries: AuditEntry[]): Promise<void> {
    await this.tx(async (client) => {
      for (const entry of entries) await insertAudit(client, entry);
    });
  }

  readAudit(filter: AuditFilter): Promise<AuditRecord[]> {
    return readPgAudit(this.pool, filter);
  }

  async savePositions(items: Array<[string, number, number]>): Promise<void> {
    if (items.length === 0) return;
    const at = new Map(items.map(([id, lon, lat]) => [id, [lon, lat] as [number, number]]));
    await this.tx(async (client) => {
      // Locked while read and written: a command committing a staff change meanwhile waits, never gets overwritten.
      const { rows } = await client.query<{ id: string; data: CollectionTypes['staff'] }>("SELECT id, data FROM entities WHERE collection = 'staff' AND id = ANY($1) ORDER BY id FOR UPDATE", [[...at.keys()]]);
      const moved = rows.map((row) => ({ id: row.id, data: { ...row.data, position: at.get(row.id)! } }));
      await client.query(
        `UPDATE entities e SET data = x.data FROM json_to_recordset($1::json) AS x(id text, data json) WHERE e.collection = 'staff' AND e.id = x.id`,
        [JSON.stringify(moved)],
      );
    });
  }

  findUserByTokenHash(tokenHash: string, now = new Date().toISOString()): Promise<UserRecord | null> {
    return this.auth.findUserByTokenHash(tokenHash, now);
  }

  findLogin: BackendStore['findLogin'] = (userId) => this.auth.findLogin(userId);
  setPassword: BackendStore['setPassword'] = (userId, hash) => this.auth.setPassword(userId, hash);
  setLoginFailures: BackendStore['setLoginFailures'] = (userId, n, until) => this.auth.setLoginFailures(userId, n, until);
  setUserDisabled: BackendStore['setUserDisabled'] = (userId, disabled, at) => this.auth.setUserDisabled(userId, disabled, at);
  countLoginFailure: BackendStore['countLoginFailure'] = (userId, lockFor) => this.auth.countLoginFailure(userId, lockFor);
  countNameFailure: BackendStore['countNameFailure'] = (login, at, lockFor) => this.auth.countNameFailure(login, at, lockFor);
  findNameFailures: BackendStore['findNameFailures'] = (login) => this.auth.findNameFailures(login);
  pruneNameFailures: BackendStore['pruneNameFailures'] = (before, now, limit) => this.auth.pruneNameFailures(before, now, limit);
  createUser: BackendStore['createUser'] = (user, passwordHash) => this.auth.createUser(user, passwordHash);
  createSession: BackendStore['createSession'] = (session) => this.auth.createSession(session);
  findSession: BackendStore['findSession'] = (tokenHash) => this.auth.findSession(tokenHash);
  touchSession: BackendStore['touchSession'] = (tokenHash, at, idle) => this.auth.touchSession(tokenHash, at, idle);
  endSession: BackendStore['endSession'] = (tokenHash, at, why) => this.auth.endSession(tokenHash, at, why);
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
  putAttachment: BackendStore['putAttachment'] = (record, bytes, thumb) => this.attachments.put(record, bytes, thumb);
  findAttachments: BackendStore['findAttachments'] = (ids) => this.attachments.find(ids);
  attachmentUploadedBy: BackendStore['attachmentUploadedBy'] = (id, uploader) => this.attachments.uploadedBy(id, uploader);
  attachmentEvents: BackendStore['attachmentEvents'] = (id) => this.attachments.events(id);
  readBlob: BackendStore['readBlob'] = (sha256, range) => this.attachments.read(sha256, range);
  blobSize: BackendStore['blobSize'] = (sha256) => this.attachments.size(sha256);
  attachmentCounts: BackendStore['attachmentCounts'] = () => this.attachments.counts();
  getMeta: BackendStore['getMeta'] = (key) => this.meta.getMeta(key);
  setMeta: BackendStore['setMeta'] = (key, value) => this.meta.setMeta(key, value);
  replaceKeyPersons: BackendStore['replaceKeyPersons'] = (rows) => this.meta.replaceKeyPersons(rows);
  keyPersonsIn: BackendStore['keyPersonsIn'] = (gridIds) => this.meta.keyPersonsIn(gridIds);

  async upsertUsers(users: UserRecord[]): Promise<void> {
    await this.tx(async (client) => {
      for (const u of users) {
        // Locked until the commit: the change announced is the one written.
        const { rows } = await client.query<Pick<UserRecord, 'role'> & { district_scope: string[] | null }>('SELECT role, district_scope FROM users WHERE id = $1 FOR UPDATE', [u.id]);
        const before = rows[0] && { role: rows[0].role, districtScope: rows[0].district_scope };
        if (rightsChanged(before, u)) await notifyUserChange(client, { id: u.id, what: 'rights' });
        await client.query(
          `INSERT INTO users (id, name, role, district_scope, token_hash, department_id, staff_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, district_scope = excluded.district_scope, token_hash = excluded.token_hash,
             department_id = excluded.department_id, staff_id = excluded.staff_id`,
          [u.id, u.name, u.role, u.districtScope === null ? null : JSON.stringify(u.districtScope), u.tokenHash, u.departmentId, u.staffId],
        );
      }
    });
  }

  watchUsers(onChange: (change: UserChange) => void): Watch {
    const watch = watchUsers(this.url, onChange);
    this.watches.add(watch);
    return {
      close: async () => {
        this.watches.delete(watch);
        await watch.close();
      },
    };
  }

  async listUsers(): Promise<UserRecord[]> {
    const { rows } = await this.pool.query<UserRow>('SELECT id, name, role, district_scope, token_hash, department_id, staff_id FROM users ORDER BY id');
    return rows.map(userOf);
  }

  async countUsers(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT COUNT(*)::text AS n FROM users');
    return Number(rows[0]?.n ?? 0);
  }

  async pruneChanges(keep: number): Promise<number> {
    return this.tx(async (client) => {
      const last = await this.lastSeq(client);
      if (last - keep <= 0) return 0;
      // Remember where the log starts so lastSeq stays right even if every batch is pruned.
      await client.query("INSERT INTO meta (key, value) VALUES ('baseSeq', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(last)]);
      const { rowCount } = await client.query('DELETE FROM changes WHERE seq <= $1', [last - keep]);
      return rowCount ?? 0;
    }, BEGIN_WRITE_TURN);
  }

  /** Reads the audit log, newest first (tests, operators). */
  async auditLog(limit = 1000): Promise<AuditEntry[]> {
    const { rows } = await this.pool.query<{ at: string; user_id: string | null; kind: AuditEntry['kind']; detail: Record<string, unknown> }>('SELECT at, user_id, kind, detail FROM audit ORDER BY id DESC LIMIT $1', [limit]);
    return rows.map((r) => ({ at: r.at, userId: r.user_id, kind: r.kind, detail: r.detail }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.watches].map((w) => w.close()));
    this.watches.clear();
    await this.pool.end().catch(() => {});
  }
}
