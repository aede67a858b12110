/**
 * What the backend link (link.ts) needs from the rest of the hub and tells it: the replica it hands checked,
 * in-order data to, the outbox whose commands it sends, the callbacks for connection facts, and its options.
 */
import type { CommandAck, CommandFrame, CollectionName, Change, PositionsPayload, WelcomePayload, WireErrorPayload } from '../protocol';
import type { Logger } from '../node-util/logger';

/** Where the link hands what the backend sends, checked and in order: the replica (replica.ts). */
export interface LinkReplica {
  readonly lastSeq: number;
  /** Where a connection under this token resumes: its last applied seq and a snapshot being received. */
  resumePoint(tokenHash: string): { lastSeq: number | null; staged: { snapshotId: string; nextIndex: number } | null; syncStamp: string | null };
  welcomed(tokenHash: string, welcome: WelcomePayload): void;
  beginSnapshot(snapshotId: string, fromIndex: number): void;
  stageChunk(snapshotId: string, index: number, collection: CollectionName, items: unknown[]): void;
  finishSnapshot(snapshotId: string, seq: number): void;
  applyDelta(seq: number, changes: readonly Change[]): void;
  applyPositions(payload: PositionsPayload): void;
}

/** The commands to send and where their answers go: the outbox (outbox.ts). */
export interface LinkOutbox {
  /** The commands to send now, in order. */
  pending(): readonly CommandFrame[];
  attempted(commandId: string): void;
  acked(ack: CommandAck): void;
  refused(commandId: string, error: WireErrorPayload): void;
}

export interface LinkCallbacks {
  /** Connection facts changed (status, errors, user, clock). */
  state(patch: LinkStatePatch): void;
  notice(message: string): void;
  /** The backend ended the sign-in session (close 4011): the link has stopped; a new sign-in links again. */
  sessionEnded?(message: string): void;
}

export interface LinkStatePatch {
  status?: 'online' | 'connecting' | 'reconnecting' | 'offline';
  /** The address the link is on, or trying now. */
  url?: string;
  reconnectAttempt?: number;
  nextRetryAt?: string | null;
  lastError?: { code: string; message: string } | null;
  welcome?: WelcomePayload;
}

export interface LinkOptions {
  /** The backend's addresses, tried in this order (one: a single backend, or one behind a load balancer). */
  urls: readonly string[];
  token: string;
  clientId: string;
  replica: LinkReplica;
  outbox: LinkOutbox;
  log: Logger;
  callbacks: LinkCallbacks;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How long the backend may stay silent before the link counts as dead. */
  silenceLimitMs?: number;
}
