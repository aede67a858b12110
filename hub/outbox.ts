/**
 * The outbox, with one owner: the commands windows queued that the backend has not answered yet, in order (in
 * memory, and in the cache's outbox table so they survive a restart), and those it refused, kept for a person
 * to retry or discard. A command is checked by the domain (parseCommand, the same checks the backend runs)
 * before it is queued; what is queued is the typed command frame the link sends as it is.
 */
import { randomBytes } from 'node:crypto';
import { HubError, type CheckedCommand, type CommandAck, type CommandFrame, type CommandReceipt, type CommandRequest, type OutboxEntry, type WireErrorPayload } from '../protocol';
import { parseCommand } from '../domain';
import type { Logger } from '../node-util/logger';
import type { HubCache } from './cache/cache';
import type { LinkOutbox } from './link-ports';

export interface OutboxOptions {
  cache: HubCache;
  log: Logger;
  /** Server time now (queuedAt is on the backend's clock). */
  now(): Date;
  /** A command was queued after all the others: predict it; answers whether the guess could be made. */
  queued(frame: CommandFrame): boolean;
  /** Whether the current guesses include this command's. */
  predicted(commandId: string): boolean;
  /** The outbox changed; rebase: a pending command left the queue (the guesses must be replayed). */
  changed(rebase: boolean): void;
  /** There is something new to send. */
  wake(): void;
}

export class Outbox implements LinkOutbox {
  /** The pending commands in the order they were queued, as they are sent. */
  private readonly queue = new Map<string, CommandFrame>();

  constructor(private readonly o: OutboxOptions) {
    for (const entry of o.cache.pendingCommands()) {
      // The cache is a file: a command it holds is checked again (an older version may have queued it).
      const parsed = parseCommand(entry.type, entry.payload);
      if (parsed.ok) this.queue.set(entry.id, frameOf(entry.id, parsed.command, entry.queuedAt, entry.expiresAt));
      else {
        o.log.warn('a queued command no longer checks: kept as refused', { commandId: entry.id, problem: parsed.problem });
        o.cache.markCommand(entry.id, 'rejected', { code: 'invalid', message: `invalid ${entry.type} command: ${parsed.problem}` });
      }
    }
  }

  /** Checks a window's command and queues it (the same id twice is queued once). */
  submit(request: CommandRequest): CommandReceipt {
    const parsed = parseCommand(request.type, request.payload);
    if (!parsed.ok) throw new HubError('invalid-params', `invalid ${request.type} command: ${parsed.problem}`);
    const existing = this.o.cache.command(request.commandId);
    if (existing) return this.receipt(existing);
    const queuedAt = this.o.now().toISOString();
    const expiresAt = request.expiresAt ?? null;
    // The validated payload is what is kept and sent: fields the command does not have are dropped.
    this.o.cache.addCommand({ id: request.commandId, type: parsed.command.type, payload: parsed.command.payload, queuedAt, expiresAt });
    const frame = frameOf(request.commandId, parsed.command, queuedAt, expiresAt);
    this.queue.set(frame.commandId, frame);
    const predicted = this.o.queued(frame);
    this.o.changed(false);
    this.o.wake();
    return { commandId: frame.commandId, status: 'pending', queuedAt, predicted };
  }

  /** Sends a refused or expired command again, as a new command. */
  retry(commandId: string): CommandReceipt {
    const entry = this.o.cache.command(commandId);
    if (!entry) throw new HubError('not-found', `no command ${commandId} in the outbox`);
    if (entry.status === 'pending') throw new HubError('invalid-params', `command ${commandId} is still pending`);
    this.o.cache.removeCommand(commandId);
    // A new id: the backend already answered the old one and would answer the same again.
    return this.submit({ commandId: `retry-${randomBytes(12).toString('base64url')}`, type: entry.type, payload: entry.payload });
  }

  discard(commandId: string): void {
    if (!this.o.cache.command(commandId)) throw new HubError('not-found', `no command ${commandId} in the outbox`);
    this.o.cache.removeCommand(commandId);
    this.queue.delete(commandId);
    this.o.changed(true);
  }

  private receipt(entry: OutboxEntry): CommandReceipt {
    return { commandId: entry.id, status: entry.status, queuedAt: entry.queuedAt, predicted: this.o.predicted(entry.id) };
  }

  // ── what the link reports ────────────────────────────────────────────────────────────────────────────

  pending(): CommandFrame[] {
    return [...this.queue.values()];
  }

  attempted(commandId: string): void {
    this.o.cache.countAttempt(commandId);
  }

  acked(ack: CommandAck): void {
    this.o.cache.removeCommand(ack.commandId);
    this.queue.delete(ack.commandId);
    this.o.changed(true);
  }

  refused(commandId: string, error: WireErrorPayload): void {
    this.o.cache.markCommand(commandId, error.code === 'expired' ? 'expired' : 'rejected', { code: error.code, message: error.message, ...(error.reason ? { reason: error.reason } : {}) });
    this.queue.delete(commandId);
    this.o.log.warn('command refused by the backend', { commandId, code: error.code, message: error.message, ...(error.reason ? { reason: error.reason.key } : {}) });
    this.o.changed(true);
  }

  // ── what windows read ────────────────────────────────────────────────────────────────────────────────

  /** Pending commands, in order. */
  get size(): number {
    return this.queue.size;
  }

  /** Every entry, pending and refused (the outbox topic). */
  entries(): OutboxEntry[] {
    return this.o.cache.outbox();
  }

  counts(): { pending: number; rejected: number } {
    return this.o.cache.outboxCounts();
  }
}

function frameOf(commandId: string, command: CheckedCommand, queuedAt: string, expiresAt: string | null): CommandFrame {
  return { commandId, ...command, issuedAt: queuedAt, ...(expiresAt ? { expiresAt } : {}) };
}
