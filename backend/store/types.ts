/**
 * The backend's storage interface. The server keeps the live state in memory and runs commands one at a time;
 * the store makes each change durable before it is acknowledged or broadcast. Async on purpose: a PostgreSQL
 * store implements the same interface; the SQLite store answers synchronously inside resolved promises.
 */
import type { Change, UserRole } from '../../protocol';
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
  outcome: { status: 'applied'; seq: number; result: Record<string, unknown> } | { status: 'rejected'; code: string; message: string };
  at: string;
}

export interface AuditEntry {
  at: string;
  userId: string | null;
  kind: 'login' | 'login-refused' | 'command' | 'command-rejected' | 'command-refused' | 'disconnect';
  detail: Record<string, unknown>;
}

export interface UserRecord {
  id: string;
  name: string;
  role: UserRole;
  /** null = all districts. */
  districtScope: string[] | null;
  tokenHash: string;
}

/** Everything committed for one seq: the changes, the command that made them (if any), audit lines. */
export interface CommitBatch extends ChangeBatch {
  command?: CommandRecord;
  audit?: AuditEntry[];
}

export type { LoadedState } from '../../domain';

export interface BackendStore {
  /** Current state of every collection and the seq it reflects. */
  load(): Promise<{ state: LoadedState; seq: number }>;
  /** Persists one batch atomically. Seqs must be strictly increasing. */
  commit(batch: CommitBatch): Promise<void>;
  /** Batches after `seq`, in order, at most `limit`; null when `seq` is older than what is retained. */
  changesSince(seq: number, limit: number): Promise<ChangeBatch[] | null>;
  findCommand(commandId: string): Promise<CommandRecord | null>;
  /** Records a rejected command (no seq) and audit lines outside a batch. */
  recordRejected(command: CommandRecord, audit: AuditEntry): Promise<void>;
  audit(entries: AuditEntry[]): Promise<void>;
  /** Volatile staff positions: saved now and then, not sequenced. */
  savePositions(items: Array<[id: string, lon: number, lat: number]>): Promise<void>;
  findUserByTokenHash(tokenHash: string): Promise<UserRecord | null>;
  upsertUsers(users: UserRecord[]): Promise<void>;
  countUsers(): Promise<number>;
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  /** Drops change batches beyond the newest `keep` (clients older than that get a snapshot). */
  pruneChanges(keep: number): Promise<number>;
  close(): void | Promise<void>;
}
