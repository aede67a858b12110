/**
 * The backend's storage interface. The server keeps the live state in memory and runs commands one at a time;
 * the store makes each change durable before it is acknowledged or broadcast. Async on purpose: a PostgreSQL
 * store implements the same interface; the SQLite store answers synchronously inside resolved promises.
 */
import type { CallRecord, Change, CollectionName, KeyPerson, RefusalReason, UserRole } from '../../protocol';
import type { UserChange } from './user-changes';
import type { LoadedState } from '../../domain';

export interface ChangeBatch {
  seq: number;
  at: string;
  changes: Change[];
}

export interface CommandRecord {
  commandId: string;
  userId: string;
  type: string;
  /** 'applied' with the ack's seq and result, or 'rejected' with the error that was sent. */
  outcome: { status: 'applied'; seq: number; result: Record<string, unknown> } | { status: 'rejected'; code: string; message: string; reason?: RefusalReason };
  at: string;
}

export interface AuditEntry {
  at: string;
  userId: string | null;
  kind:
    | 'login'
    | 'login-refused'
    | 'command'
    | 'command-rejected'
    | 'command-refused'
    | 'disconnect'
    | 'sensitive-read'
    | 'import'
    // Sign-in with a password (backend/auth): a session begun, a refusal (wrong password, locked, disabled), a
    // lockout begun, a session ended by its user or by a new sign-in at the seat, a session expired.
    | 'sign-in'
    | 'sign-in-refused'
    | 'lockout'
    | 'sign-out'
    | 'session-expired'
    | 'password-set'
    // a camera stream refused: no valid viewer ticket, session ended, user disabled, out of scope (video/viewer-tickets.ts)
    | 'stream-refused'
    // an attachment asked for by a user whose scope sees no event naming it (backend/attachments/routes.ts)
    | 'attachment-refused'
    // a console opened an event (audit/views.ts), the audit read (audit/http-route.ts)
    | 'view'
    | 'audit-read'
    // an administrator created or changed a user, or was refused doing so (backend/admin-users.ts)
    | 'user-admin'
    // an administrator (or the command line) created or revoked a source system's API key, or was refused
    // (backend/admin-api-keys.ts); an API key presented where a console token goes (backend/auth/api-keys.ts)
    | 'api-key-admin'
    | 'api-key-misuse'
    | 'webhook-failed'
    // a read of the city as it stood at a past time (backend/history/routes.ts), refused ones too
    | 'history-read';
  detail: Record<string, unknown>;
}

export interface UserRecord {
  id: string;
  name: string;
  role: UserRole;
  /** null = all districts. */
  districtScope: string[] | null;
  tokenHash: string;
  /** 部门联络员 (role liaison): the department the account acts for; null for every other role. */
  departmentId: string | null;
  /** 网格员 (role field): the staff record the account belongs to (one account per staff member); null otherwise. */
  staffId: string | null;
}

/** A user's password and lockout (migration 4): token-only users have no password hash. */
export interface LoginRecord {
  user: UserRecord;
  /** A self-describing scrypt string (backend/auth/password.ts), or null: no password, token only. */
  passwordHash: string | null;
  failedLogins: number;
  /** ISO time until which sign-in is refused; null when not locked. */
  lockedUntil: string | null;
  disabled: boolean;
}

/** Failed sign-ins in a row and the lock they led to. */
export interface FailureCount {
  failed: number;
  lockedUntil: string | null;
}

/** The lock after `failed` failures in a row (an ISO time), or null: not locked yet. */
export type LockRule = (failed: number) => string | null;

/** A console's sign-in session (the token itself is never stored, only its hash). */
export interface SessionRecord {
  tokenHash: string;
  userId: string;
  clientId: string;
  clientName: string | null;
  createdAt: string;
  /** The absolute limit: never used after this. */
  expiresAt: string;
  /** The idle limit: moved forward (never past expiresAt) while the session is used. */
  idleExpiresAt: string;
  lastUsedAt: string;
  endedAt: string | null;
  /** 'sign-out', 'expired', 'replaced' (a new sign-in at the seat), 'disabled'. */
  endedWhy: string | null;
}

/** A source system's API key (migration 5): only the SHA-256 of the whole key is kept. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  source: string;
  keyHash: string;
  ratePerMinute: number;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
  lastUsedAt: string | null;
  /** Where closed events it reported are told (migration 7), and the secret that signs them; null: none. */
  webhookUrl: string | null;
  webhookSecret: string | null;
}

/**
 * One webhook delivery (migration 7, backend/store/webhook-rows.ts): an event a key reported, 'waiting' until it is
 * closed or merged, then 'due' (payload the body, tried at nextAt), 'delivered' or 'failed' (given up after the
 * last try); ended ones are pruned after some days (migration 8: `url`, `endedAt`).
 */
export interface WebhookDelivery {
  /** `${keyId}:${eventId}`: one delivery per event and key. */
  id: string;
  keyId: string;
  eventId: string;
  state: 'waiting' | 'due' | 'delivered' | 'failed';
  /** While waiting: {sourceId}; once due: the body POSTed (protocol/ingest.ts IngestWebhook). */
  payload: Record<string, unknown>;
  attempts: number;
  nextAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
  /** The report's own callbackUrl (migration 8); null: the key's webhook. */
  url: string | null;
  /** When it was delivered or given up (null while waiting or due): pruned some days after. */
  endedAt: string | null;
}

/** One line of the audit as read back, with its number in the log. */
export interface AuditRecord {
  id: number;
  at: string;
  userId: string | null;
  kind: string;
  detail: Record<string, unknown>;
}

/**
 * Filters of an audit read (readAudit), all optional but the limit; newest first. `before`: the entry after
 * which to go on (a page's last: its at and id). Times compare as ISO strings in UTC (how entries are written).
 */
export interface AuditFilter {
  userId?: string;
  kind?: string;
  /** Entries whose detail names this event (detail.eventId, or a command's payload.eventId). */
  eventId?: string;
  from?: string;
  to?: string;
  /** Text found in the user id, the kind or the detail (case-insensitive for Latin letters). */
  text?: string;
  before?: { at: string; id: number };
  limit: number;
}

/** Everything committed for one seq: the changes, the command that made them (if any), audit lines. */
export interface CommitBatch extends ChangeBatch {
  command?: CommandRecord;
  audit?: AuditEntry[];
  /** Attachments the batch's events now name (a report's, a feedback's): linked in the same transaction. */
  attachmentLinks?: AttachmentLink[];
  /** Calls the batch's command logged (call.log): kept in the same transaction (call-rows.ts); an id kept already stays as it was. */
  calls?: CallRow[];
}

/** A call kept for replay and the 复盘 report (migration 9's table `calls`, call-rows.ts): city time `at`, the whole record in `data`. */
export interface CallRow {
  id: string;
  at: string;
  eventId: string | null;
  userId: string;
  data: CallRecord;
}
/** Calls begun in [from, to) (city time, ISO), about one event when `eventId` is given; oldest first, at most `limit`. */
export interface CallFilter {
  from: string;
  to: string;
  eventId?: string;
  limit: number;
}

/** An uploaded attachment (migration 6): its bytes are the blob `id` (content-addressed), its thumbnail another. */
export interface AttachmentRecord {
  /** The SHA-256 of the stored bytes (hex). */
  id: string;
  kind: 'image' | 'video' | 'audio';
  mime: string;
  size: number;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  /** The display name (sanitised). */
  name: string;
  thumbSha256: string | null;
  createdAt: string;
  createdBy: string;
}

export interface AttachmentLink {
  attachmentId: string;
  eventId: string;
}

/** Bytes of a blob, whole or a range (`start` to `end` inclusive), and the blob's whole size. */
export interface BlobRead {
  bytes: Buffer;
  total: number;
}

export type { LoadedState } from '../../domain';

/**
 * A checkpoint (migration 9, backend/history/): the whole city as it stood after batch `seq`, taken at city time
 * `at`, as the hashes of the chunks each collection was cut into (each chunk a gzip'd JSON array of records,
 * stored once by its hash and shared by every checkpoint holding the same records).
 */
export interface CheckpointRecord {
  seq: number;
  at: string;
  manifest: CheckpointManifest;
}
export type CheckpointManifest = Partial<Record<CollectionName, string[]>>;
export interface CheckpointChunk {
  /** The SHA-256 (hex) of the chunk's JSON before it was gzip'd. */
  hash: string;
  data: Buffer;
}
/** What the kept history holds (operators, the bench): rows and bytes as stored. */
export interface HistorySize {
  checkpoints: number;
  chunks: number;
  chunkBytes: number;
  batches: number;
  changeBytes: number;
  first: { seq: number; at: string } | null;
  last: { seq: number; at: string } | null;
}
export interface HistoryPruned {
  checkpoints: number;
  batches: number;
  chunks: number;
}
/** A staff member's track over one city hour (hours since the epoch; backend/history/track-codec.ts blob, `n` points). */
export interface TrackRow {
  hour: number;
  staffId: string;
  points: Buffer;
  n: number;
}

/**
 * One writer's turn on the city. Every instance sharing a store writes in turns, one at a time across all of
 * them, so that commands have one global order: the turn first hands over what the other instances committed
 * since the caller's seq (to apply before deciding anything), then takes the caller's writes.
 */
export interface WriteTurn {
  /** Batches committed by others after the caller's seq, in order and without gaps. */
  readonly missed: ChangeBatch[];
  findCommand(commandId: string): Promise<CommandRecord | null>;
  /** Commits one batch in this turn (the seq right after the last committed). */
  commit(batch: CommitBatch): Promise<void>;
  recordRejected(command: CommandRecord, audit: AuditEntry): Promise<void>;
}

/** The store's connection to its server lost or back (what an instance says in its log and health). */
export type StoreLinkListener = (up: boolean, detail: string) => void;

export interface Watch {
  close(): Promise<void>;
}

/** The caller's seq is older than the retained change log: its memory must be reloaded from the store. */
export class StaleReplicaError extends Error {
  constructor(readonly knownSeq: number) {
    super(`this instance's state (seq ${knownSeq}) is older than the retained change log; reloading`);
  }
}

export interface BackendStore {
  /** Current state of every collection and the seq it reflects. */
  load(): Promise<{ state: LoadedState; seq: number }>;
  /** Persists one batch atomically. Seqs must be strictly increasing. */
  commit(batch: CommitBatch): Promise<void>;
  /**
   * Runs `work` in the city's write turn (see WriteTurn): serialised with every other writer on this store,
   * committed when `work` resolves, rolled back when it throws. Throws StaleReplicaError when what others
   * committed since `knownSeq` is no longer in the log.
   */
  writeTurn<T>(knownSeq: number, work: (turn: WriteTurn) => Promise<T>): Promise<T>;
  /**
   * Calls `onCommit` whenever another instance may have committed (the caller then reads changesSince; `seq`,
   * when known, is the batch announced: nothing to read if the caller has it already), and
   * `onLink` when the store's connection is lost and when it is back. A store with one writer (SQLite) never does.
   */
  watchCommits(onCommit: (seq?: number) => void, onLink: StoreLinkListener): Watch;
  /**
   * Contends for the duties one instance of a city runs (the simulation, KPIs, pruning): `onLead(true)` when
   * this instance takes them, `onLead(false)` when it loses them (its connection to the store lost). A store with
   * one writer (SQLite) leads at once.
   */
  lead(onLead: (leading: boolean) => void): Watch;
  /** Batches after `seq`, in order, at most `limit`; null when `seq` is older than what is retained. */
  changesSince(seq: number, limit: number): Promise<ChangeBatch[] | null>;
  findCommand(commandId: string): Promise<CommandRecord | null>;
  /** Records a rejected command (no seq) and audit lines outside a batch. */
  recordRejected(command: CommandRecord, audit: AuditEntry): Promise<void>;
  audit(entries: AuditEntry[]): Promise<void>;
  /** Reads the audit (never changes it): entries matching `filter`, newest first, at most `filter.limit`. */
  readAudit(filter: AuditFilter): Promise<AuditRecord[]>;
  /** Volatile staff positions: saved now and then, not sequenced. */
  savePositions(items: Array<[id: string, lon: number, lat: number]>): Promise<void>;
  /**
   * The user whose static token (tokens.json) or live sign-in session (not ended, neither limit passed at `now`,
   * default the wall clock) hashes to `tokenHash`; null for anything else, and for a disabled user.
   */
  findUserByTokenHash(tokenHash: string, now?: string): Promise<UserRecord | null>;
  /** A user with their password and lockout state (sign-in), null when there is no such user. */
  findLogin(userId: string): Promise<LoginRecord | null>;
  /** Sets (or clears) a user's password hash and clears their lockout; false when there is no such user. */
  setPassword(userId: string, passwordHash: string | null): Promise<boolean>;
  /** The failed sign-ins in a row and the lock they led to (0 and null after a success). */
  setLoginFailures(userId: string, failedLogins: number, lockedUntil: string | null): Promise<void>;
  /**
   * Counts one more failed sign-in of a user in one atomic step (several instances share the count): the count
   * goes up by one in the store, and the lock `lockFor(count)` answers is set in the same transaction. Null when
   * there is no such user.
   */
  countLoginFailure(userId: string, lockFor: LockRule): Promise<FailureCount | null>;
  /** The same for a name that is no user (sign_in_failures, keyed by `login`: see nameKey in backend/auth). */
  countNameFailure(login: string, at: string, lockFor: LockRule): Promise<FailureCount>;
  /** The failures counted for a name that is no user, null when none are. */
  findNameFailures(login: string): Promise<FailureCount | null>;
  /** Drops at most `limit` names' failures whose lock has passed at `now` and last counted before `before`. */
  pruneNameFailures(before: string, now: string, limit: number): Promise<number>;
  /** Creates a user with their password in one write; false (nothing written) when the id is taken. */
  createUser(user: UserRecord, passwordHash: string): Promise<boolean>;
  /** Disables (refused everywhere, their sessions ended) or enables a user; false when there is no such user. */
  setUserDisabled(userId: string, disabled: boolean, at: string): Promise<boolean>;
  createSession(session: SessionRecord): Promise<void>;
  findSession(tokenHash: string): Promise<SessionRecord | null>;
  /** The session was used at `at`: its idle limit moves to `idleExpiresAt` (only while it has not ended). */
  touchSession(tokenHash: string, at: string, idleExpiresAt: string): Promise<void>;
  /** Ends a session that has not ended; false when it had (or does not exist). */
  endSession(tokenHash: string, at: string, why: string): Promise<boolean>;
  /** API keys of source systems (backend/auth/api-keys.ts). */
  createApiKey(key: ApiKeyRecord): Promise<void>;
  /** Every key, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  /** Revokes a key not revoked yet; false when it was (or does not exist). */
  revokeApiKey(id: string, at: string, by: string): Promise<boolean>;
  touchApiKey(id: string, at: string): Promise<void>;
  /** Deletes the keys `createdBy` made that were revoked before `before` and no webhook delivery names; how many. */
  removeRevokedApiKeys(createdBy: string, before: string): Promise<number>;
  /** Webhook deliveries (backend/ingest/webhooks.ts): a new one (the same id again: nothing changes). */
  queueWebhook(d: WebhookDelivery): Promise<void>;
  /**
   * Deliveries in a state: by id after `afterId` (paging), or with `dueBy` those whose nextAt is at or before it,
   * soonest first.
   */
  webhooksIn(state: WebhookDelivery['state'], limit: number, from?: { dueBy?: string; afterId?: string }): Promise<WebhookDelivery[]>;
  /** Changes a delivery's state, payload, attempts, times and error. */
  updateWebhook(d: WebhookDelivery): Promise<void>;
  /** Deletes up to `limit` deliveries that ended (delivered or given up) before `before`; how many. */
  pruneWebhooks(before: string, limit: number): Promise<number>;
  upsertUsers(users: UserRecord[]): Promise<void>;
  /**
   * Calls `onChange` whenever a user's role or area scope changed, or they were disabled or enabled (upsertUsers,
   * setUserDisabled) — on PostgreSQL by any writer to the database, other instances and the command line included
   * (user-changes.ts); on SQLite by this process.
   */
  watchUsers(onChange: (change: UserChange) => void): Watch;
  countUsers(): Promise<number>;
  /** Every user, by id (the `users` command; a running instance reads a user at their next sign-in). */
  listUsers(): Promise<UserRecord[]>;
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  /**
   * The 重点人员 register (personal data outside the replicated city: never in the change log nor a snapshot):
   * the whole register replaced by `rows` in one transaction.
   */
  replaceKeyPersons(rows: KeyPerson[]): Promise<void>;
  /** The register's rows in these grids, ordered by grid then id. */
  keyPersonsIn(gridIds: readonly string[]): Promise<KeyPerson[]>;
  /**
   * Stores an attachment: its bytes and thumbnail as blobs, its record, and its uploader's link, in one
   * transaction. The same id again links this uploader (record.createdBy) and hands back the record stored first
   * (`created` false).
   */
  putAttachment(record: AttachmentRecord, bytes: Buffer, thumb: Buffer | null): Promise<{ record: AttachmentRecord; created: boolean }>;
  /**
   * Whether `uploader` uploaded the attachment (migration 8): every uploader of the same bytes is linked by
   * putAttachment, the first one stays the record's createdBy.
   */
  attachmentUploadedBy(id: string, uploader: string): Promise<boolean>;
  /** The records of these ids that exist (any order). */
  findAttachments(ids: readonly string[]): Promise<AttachmentRecord[]>;
  /** The events that name an attachment. */
  attachmentEvents(id: string): Promise<string[]>;
  /** A blob's bytes (a range of them: `start`..`end` inclusive, within the blob), null when there is no such blob. */
  readBlob(sha256: string, range?: { start: number; end: number }): Promise<BlobRead | null>;
  /** A blob's size, null when there is no such blob. */
  blobSize(sha256: string): Promise<number | null>;
  /** How many blobs and attachments are stored (operators, tests: nothing left behind by a refused upload). */
  attachmentCounts(): Promise<{ blobs: number; attachments: number; links: number }>;
  /**
   * Stores a checkpoint with the chunks it names that may not be stored yet (a chunk already stored is kept as
   * it is), in one transaction; throws (nothing written) when a hash of the manifest is neither given nor stored.
   */
  putCheckpoint(checkpoint: CheckpointRecord, chunks: readonly CheckpointChunk[]): Promise<void>;
  /** The newest checkpoint taken at or before `at`, null when none is. */
  checkpointAtOrBefore(at: string): Promise<CheckpointRecord | null>;
  /** The oldest and newest checkpoint (seq, at) and how many are kept; null when there is none. */
  checkpointRange(): Promise<{ first: { seq: number; at: string }; last: { seq: number; at: string }; count: number } | null>;
  /** The stored chunks of these hashes (those that exist). */
  readChunks(hashes: readonly string[]): Promise<Map<string, Buffer>>;
  /** Batches after `afterSeq` committed at or before `uptoAt` (city time, ISO), in seq order, at most `limit`. */
  changesBetween(afterSeq: number, uptoAt: string, limit: number): Promise<ChangeBatch[]>;
  /**
   * Time-based retention of the history: keeps the newest checkpoint taken at or before `beforeAt` (replay starts
   * there) and drops, at most `limit` rows of each a call, the checkpoints before it, the batches up to its seq
   * (oldest first: the log stays gapless, and a client behind it gets a snapshot, as after pruneChanges) and the
   * chunks no checkpoint names any more. Nothing when no checkpoint is that old.
   */
  pruneHistory(beforeAt: string, limit: number): Promise<HistoryPruned>;
  historySize(): Promise<HistorySize>;
  /** Stores tracks (store/track-rows.ts), each replacing what its hour and staff member held, in one transaction. */
  putTracks(rows: readonly TrackRow[]): Promise<void>;
  /** The tracks of the hours `hourFrom`..`hourTo` (inclusive), of these staff only when given. */
  tracksIn(hourFrom: number, hourTo: number, staffIds?: readonly string[]): Promise<TrackRow[]>;
  /** Drops tracks of hours before `beforeHour`, oldest first, at most `limit`; how many went. */
  pruneTracks(beforeHour: number, limit: number): Promise<number>;
  /** Drops change batches beyond the newest `keep` (clients older than that get a snapshot). */
  pruneChanges(keep: number): Promise<number>;
  /** Calls kept (CommitBatch.calls) matching `filter`, oldest first (by `at`, then id). */
  callsIn(filter: CallFilter): Promise<CallRow[]>;
  /** Deletes at most `limit` calls begun before `beforeAt` (city time, ISO), oldest first; how many. */
  pruneCalls(beforeAt: string, limit: number): Promise<number>;
  close(): void | Promise<void>;
}
