/**
 * The link's command sending: the outbox's commands sent in order over the open, synced connection, paced to
 * the backend's advertised command rate (a token bucket, at most one rate's worth in flight), each answer —
 * an ack, a refusal, or a retryable error that sends it again later — handed back to the outbox.
 */
import { encodeFrame, type CommandAck, type WireErrorPayload } from '../protocol';
import type { WebSocket } from 'ws';
import type { Logger } from '../node-util/logger';
import type { LinkOutbox } from './link-ports';

/** The connection commands go out on, with the backend's command rate; null while not open and synced. */
export type CommandChannel = () => { ws: WebSocket; commandsPerSecond: number } | null;

export class CommandSender {
  private readonly inflight = new Set<string>();
  private sendTokens = 0;
  private sendTimer: NodeJS.Timeout | null = null;
  private lastRefill = Date.now();

  constructor(
    private readonly outbox: LinkOutbox,
    private readonly log: Logger,
    private readonly channel: CommandChannel,
  ) {}

  /** A new or lost connection: nothing is in flight on it. */
  forget(): void {
    this.inflight.clear();
  }

  stop(): void {
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.sendTimer = null;
  }

  acked(ack: CommandAck): void {
    this.inflight.delete(ack.commandId);
    this.outbox.acked(ack);
    this.schedule(0);
  }

  /** An error frame answering a command in flight (by its id): handled here, true; else false. */
  answered(id: string | undefined, error: WireErrorPayload): boolean {
    if (!id || !this.inflight.has(id)) return false;
    this.inflight.delete(id);
    if (error.retryable) {
      this.log.warn('command not taken now; will resend', { commandId: id, code: error.code });
      this.schedule(1000);
    } else this.outbox.refused(id, error);
    return true;
  }

  schedule(delayMs: number): void {
    if (this.sendTimer) return;
    this.sendTimer = setTimeout(() => {
      this.sendTimer = null;
      this.pump();
    }, delayMs);
  }

  private pump(): void {
    const open = this.channel();
    if (!open) return;
    const { ws, commandsPerSecond: rate } = open;
    const now = Date.now();
    this.sendTokens = Math.min(rate, this.sendTokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    const window = Math.max(1, Math.floor(rate));
    for (const frame of this.outbox.pending()) {
      if (this.inflight.has(frame.commandId)) continue;
      if (this.inflight.size >= window || this.sendTokens < 1) {
        this.schedule(Math.ceil(1000 / rate));
        return;
      }
      if (frame.expiresAt && Date.parse(frame.expiresAt) < Date.now()) {
        this.outbox.refused(frame.commandId, { code: 'expired', message: `not sent: expired at ${frame.expiresAt}`, retryable: false });
        continue;
      }
      this.sendTokens -= 1;
      this.inflight.add(frame.commandId);
      this.outbox.attempted(frame.commandId);
      ws.send(encodeFrame('command', frame));
    }
  }
}
