/**
 * Flow control a client can act on. Every refusal names the command it refuses (the client knows exactly
 * which to send again); a client that keeps sending past its refusals is flooding and gets closed (4029) with
 * the reason; each connection holds a bounded number of commands waiting for the serial pipeline, so one
 * connection cannot queue unbounded work (and memory) in front of everyone else; refusals are audited, one
 * line each up to a sample per minute and a count for the rest.
 */
import { TokenBucket } from '../rate-limit';
import type { AuditEntry } from '../store/types';

export interface FlowLimits {
  commandsPerSecond: number;
  framesPerSecond: number;
  /** Commands of one connection waiting for (or in) the pipeline at once. */
  maxQueuedCommands: number;
}

export type Admission = 'ok' | 'frames' | 'commands' | 'queue';

/** One connection's budgets. */
export class SessionFlow {
  private readonly frames: TokenBucket;
  private readonly commands: TokenBucket;
  /** Refusals a client may run into before it counts as a flood: a burst of a second's frames, refilled slowly. */
  private readonly refusals: TokenBucket;
  queued = 0;

  constructor(private readonly limits: FlowLimits) {
    this.frames = new TokenBucket(limits.framesPerSecond, limits.framesPerSecond * 2);
    this.commands = new TokenBucket(limits.commandsPerSecond, limits.commandsPerSecond * 2);
    this.refusals = new TokenBucket(limits.framesPerSecond / 10, limits.framesPerSecond);
  }

  /** Whether a frame (and, when it is one, a command) may go on now. */
  admit(isCommand: boolean): Admission {
    if (!this.frames.take()) return 'frames';
    if (!isCommand) return 'ok';
    if (this.queued >= this.limits.maxQueuedCommands) return 'queue';
    return this.commands.take() ? 'ok' : 'commands';
  }

  /** Counts one refusal; true when the client has gone on sending past its budget (a flood: close it). */
  refused(): boolean {
    return !this.refusals.take();
  }
}

/**
 * Audits refusals of one user (all their connections: reconnecting after each close must not multiply the
 * sample): the first `sample` a minute one by one, the rest as a count per minute.
 */
export class RefusalAudit {
  private windowStart = 0;
  private written = 0;
  private skipped = 0;
  private skippedKinds: Record<string, number> = {};

  constructor(
    private readonly write: (entries: AuditEntry[]) => void,
    private readonly now: () => { realMs: number; at: string },
    private readonly userId: string | null,
    private readonly sample = 10,
    private readonly windowMs = 60_000,
  ) {}

  note(detail: { session: string; commandId: string | null; type: string | null; code: string }): void {
    const { realMs, at } = this.now();
    if (realMs - this.windowStart >= this.windowMs) {
      this.flush(at);
      this.windowStart = realMs;
    }
    if (this.written < this.sample) {
      this.written++;
      this.write([{ at, userId: this.userId, kind: 'command-refused', detail }]);
      return;
    }
    this.skipped++;
    this.skippedKinds[detail.code] = (this.skippedKinds[detail.code] ?? 0) + 1;
  }

  /** Writes the count of what the sample left out (at the end of a minute, and when the connection ends). */
  flush(at = this.now().at): void {
    if (this.skipped > 0) {
      this.write([{ at, userId: this.userId, kind: 'command-refused', detail: { sampled: true, count: this.skipped, byCode: this.skippedKinds } }]);
    }
    this.written = 0;
    this.skipped = 0;
    this.skippedKinds = {};
  }
}
