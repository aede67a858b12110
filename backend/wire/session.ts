/**
 * One client connection of the wire protocol server, and what every job of the server (handshake and sync,
 * commands, fan-out) shares about it: its phase and budgets, area scopes (分级授权), how to talk to it, and
 * how to read an input's ids without trusting the input.
 */
import type { WebSocket } from 'ws';
import { COMMAND_ID_PATTERN, type DeltaPayload, type WireErrorPayload } from '../../protocol';
import type { Actor } from '../../domain';
import type { AuditEntry } from '../store/types';
import type { RefusalAudit, SessionFlow } from './flow-control';

export type Phase = 'handshake' | 'syncing' | 'live' | 'closed';

export interface Session {
  id: string;
  ws: WebSocket;
  phase: Phase;
  clientId: string | null;
  actor: Actor | null;
  /** The hash of the sign-in session this connection logged in with (backend/auth); absent with a static token. */
  signInSession?: string;
  /** Deltas that happened while this client was being brought up to date. */
  held: DeltaPayload[];
  /** Live positions as binary frames (its hello accepted "positions-binary"), else the JSON frame. */
  binaryPositions: boolean;
  flow: SessionFlow;
  refusals: RefusalAudit | null;
  /** The server has decided to close it: what it still sends is dropped unread (a flood must not cost CPU). */
  closing: boolean;
  strikes: number;
  alive: boolean;
  remote: string;
}

/** How the server's jobs talk to a client; the server implements it (and decides when a client is cut off). */
export interface ClientOutput {
  send(session: Session, text: string | Buffer): void;
  sendError(session: Session, error: WireErrorPayload, id?: string): void;
  refuse(session: Session, code: WireErrorPayload['code'], message: string, closeCode: number): void;
  closeSession(session: Session, code: number, reason: string): void;
  /** Audit lines written without waiting; a failed write is logged. */
  auditLater(entries: AuditEntry[]): void;
}

// ── area scopes: backend/wire/scopes.ts (what each scope is sent) ─────────────────────────────────────────

// ── reading inputs without trusting them ─────────────────────────────────────────────────────────────────

export function commandIdOf(payload: unknown): string | null {
  const id = typeof payload === 'object' && payload !== null ? (payload as { commandId?: unknown }).commandId : undefined;
  return typeof id === 'string' && COMMAND_ID_PATTERN.test(id) ? id : null;
}

export function commandTypeOf(payload: unknown): string | null {
  const type = typeof payload === 'object' && payload !== null ? (payload as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type.slice(0, 64) : null;
}

/**
 * The id to answer a frame that could not be handled: its command id, else its frame id — read from the text
 * with a bounded pattern (the frame may be what failed to parse), null when none is there.
 */
export function correlationId(raw: string): string | null {
  const head = raw.slice(0, 4096);
  const found = /"commandId"\s*:\s*"([0-9a-zA-Z_-]{8,64})"/.exec(head) ?? /"id"\s*:\s*"([\x21\x23-\x5b\x5d-\x7e]{1,64})"/.exec(head);
  return found?.[1] ?? null;
}

/** A WebSocket close reason: at most 123 bytes of UTF-8 (longer makes ws throw), cut on a character boundary. */
export function closeReason(text: string): string {
  let out = text.slice(0, 123);
  while (Buffer.byteLength(out, 'utf8') > 123) out = out.slice(0, -1);
  return out;
}
