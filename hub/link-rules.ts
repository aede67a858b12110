/**
 * What the backend link decides without a socket: which address to try next and the pause before it, what a
 * close means in words an operator can act on, a delta's parts joined in order, a binary positions frame read
 * and checked. Kept apart so link.ts reads as the connection.
 */
import { WIRE_PROTOCOL_VERSION, decodePositionsBinary, type DeltaPayload, type PositionsPayload } from '../protocol';

/** Data from the backend that is refused: the link is reset and the replica keeps what it had. */
export class ProtocolViolation extends Error {}

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The backend's addresses, tried in turn (failover between instances on one database): a try that fails, or a
 * connection that dies, moves on to the next address after a moment (spreadDelay); only when every address has
 * failed since the last sync (a full round) does the link pause, with the back-off of that round. One address:
 * every failure is a full round, the back-off as for a single backend. A refused version or login will not fix
 * itself quickly: a round of nothing else waits the longest.
 */
export class AddressRotation {
  private index = 0;
  /** Addresses that failed since the last sync or the last full round. */
  private failedInRound = 0;
  /** Full rounds failed since the last sync: the back-off's attempt. */
  private rounds = 0;
  /** Every failure of this round was a refused version or login. */
  private onlyRefusals = true;

  constructor(
    readonly urls: readonly string[],
    private readonly backoff: { baseMs: number; maxMs: number; random?: () => number },
  ) {
    if (urls.length === 0) throw new Error('no backend address to link to');
  }

  /** The address to try now. */
  get current(): string {
    return this.urls[this.index]!;
  }

  /** Synced on the current address: the next failure starts a new round there. */
  succeeded(): void {
    this.failedInRound = 0;
    this.rounds = 0;
    this.onlyRefusals = true;
  }

  /**
   * The current address refused or its connection died (`refused`: it refused our version or login): moves to
   * the next one, to be tried after `delayMs`. `round`: the number of the full round that just failed (0 for
   * the first), or null while addresses of this round are left to try.
   */
  failed(refused = false): { url: string; delayMs: number; round: number | null } {
    const { baseMs, maxMs, random = Math.random } = this.backoff;
    this.index = (this.index + 1) % this.urls.length;
    this.failedInRound++;
    this.onlyRefusals &&= refused;
    if (this.failedInRound < this.urls.length) return { url: this.current, delayMs: spreadDelay(baseMs, random), round: null };
    const round = this.rounds++;
    const delayMs = this.onlyRefusals ? maxMs : backoffDelay(round, baseMs, maxMs, random);
    this.failedInRound = 0;
    this.onlyRefusals = true;
    return { url: this.current, delayMs, round };
  }
}

/**
 * The pause before the next address of a round: a moment, at most a quarter of the back-off's base (125 ms by
 * default), spread so that the consoles an instance dropped all at once do not reach the next one in one burst.
 */
export function spreadDelay(baseMs: number, random: () => number = Math.random): number {
  return Math.round(random() * (baseMs / 4));
}

/** What a close (or a refusal before welcome) means, in words an operator can act on. */
export function explainClose(code: number | string, reason: string): { code: string; message: string } {
  if (code === 4001 || code === 'unsupported-version') return { code: 'unsupported-version', message: `the backend does not speak protocol v${WIRE_PROTOCOL_VERSION}: ${reason}` };
  if (code === 4003 || code === 'unauthorized') return { code: 'unauthorized', message: `the backend refused the login: ${reason}` };
  if (code === 1006) return { code: 'unreachable', message: 'backend unreachable or the link dropped' };
  return { code: `closed-${code}`, message: reason || `link closed (${code})` };
}

/** A batch larger than a frame, arriving in consecutive parts: held until its last part, then handed on whole. */
export class DeltaParts {
  private held: { seq: number; count: number; next: number; changes: DeltaPayload['changes'] } | null = null;

  get holding(): boolean {
    return this.held !== null;
  }

  /** Collects the parts of one batch in order; returns the whole batch with its last part, else null. */
  add(delta: DeltaPayload): DeltaPayload | null {
    const held = this.held;
    if (!delta.part) throw new ProtocolViolation(`delta ${delta.seq} while delta ${held?.seq} still had parts to come`);
    if (delta.part.index === 0 && !held) this.held = { seq: delta.seq, count: delta.part.count, next: 1, changes: [...delta.changes] };
    else if (held && held.seq === delta.seq && held.count === delta.part.count && delta.part.index === held.next) {
      held.changes.push(...delta.changes);
      held.next++;
    } else throw new ProtocolViolation(`delta part ${delta.part.index}/${delta.part.count} of ${delta.seq} out of order`);
    if (delta.part.index < delta.part.count - 1) return null;
    const changes = this.held?.changes ?? [];
    this.held = null;
    return { seq: delta.seq, at: delta.at, changes };
  }
}

/**
 * A binary frame from the backend: live positions (the hello asked for them that way), decoded and checked
 * into the payload the staff.positions JSON frame carries. Anything else is refused like a bad JSON frame.
 */
export function binaryPositions(data: Uint8Array | ArrayBuffer | readonly Uint8Array[]): PositionsPayload {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
  const decoded = decodePositionsBinary(bytes);
  if (!decoded.ok) throw new ProtocolViolation(`invalid binary positions frame: ${decoded.error.message}`);
  return decoded.payload;
}
