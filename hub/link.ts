/**
 * The hub's one connection to the backend (wire protocol v1): handshake with the last applied sequence (or the
 * snapshot being received, to resume it), snapshot into the cache, deltas in strict order, live positions,
 * the outbox sent in order and removed only on ack. Anything invalid from the backend — a bad frame, a
 * sequence going backwards, a gap, an oversized frame — is refused, logged, and the link is reset; the cache
 * is only ever changed by valid, in-order data.
 */
import { createHash } from 'node:crypto';
import { WebSocket } from 'ws';
import {
  CommandAck,
  DeltaPayload,
  MAX_FRAME_BYTES,
  PositionsPayload,
  SnapshotBegin,
  SnapshotChunk,
  SnapshotEnd,
  WIRE_PROTOCOL_VERSION,
  WelcomePayload,
  WireErrorPayload,
  collectionSchemas,
  decodeFrame,
  describeIssues,
  encodeFrame,
  validate,
  type Change,
  type OutboxEntry,
} from '../protocol';
import type { Logger } from '../node-util/logger';
import type { HubCache } from './cache/cache';

export interface LinkCallbacks {
  /** Connection facts changed (status, errors, user, clock). */
  state(patch: LinkStatePatch): void;
  /** The confirmed state changed: the changes of one delta, or everything (a snapshot was swapped in). */
  confirmed(change: { seq: number; changes: readonly Change[] } | { seq: number; reset: true }): void;
  positions(payload: PositionsPayload): void;
  acked(ack: CommandAck): void;
  refused(commandId: string, error: WireErrorPayload): void;
  notice(message: string): void;
  /** The commands to send now, in order (pending in the outbox). */
  pending(): OutboxEntry[];
}

export interface LinkStatePatch {
  status?: 'online' | 'connecting' | 'reconnecting' | 'offline';
  reconnectAttempt?: number;
  nextRetryAt?: string | null;
  lastError?: { code: string; message: string } | null;
  welcome?: WelcomePayload;
}

export interface LinkOptions {
  url: string;
  token: string;
  clientId: string;
  cache: HubCache;
  log: Logger;
  callbacks: LinkCallbacks;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How long the backend may stay silent before the link counts as dead. */
  silenceLimitMs?: number;
}

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

class ProtocolViolation extends Error {}

/** What a close (or a refusal before welcome) means, in words an operator can act on. */
function explainClose(code: number | string, reason: string): { code: string; message: string } {
  if (code === 4001 || code === 'unsupported-version') return { code: 'unsupported-version', message: `the backend does not speak protocol v${WIRE_PROTOCOL_VERSION}: ${reason}` };
  if (code === 4003 || code === 'unauthorized') return { code: 'unauthorized', message: `the backend refused the login: ${reason}` };
  if (code === 1006) return { code: 'unreachable', message: 'backend unreachable or the link dropped' };
  return { code: `closed-${code}`, message: reason || `link closed (${code})` };
}

export class BackendLink {
  private ws: WebSocket | null = null;
  private stopped = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private lastHeard = 0;
  private welcome: WelcomePayload | null = null;
  private synced = false;
  private expectedChunk = 0;
  private snapshotId: string | null = null;
  /** A delta arriving in parts (one batch larger than a frame): held until its last part, then applied whole. */
  private deltaParts: { seq: number; count: number; next: number; changes: DeltaPayload['changes'] } | null = null;
  private readonly inflight = new Set<string>();
  private sendTokens = 0;
  private sendTimer: NodeJS.Timeout | null = null;
  private readonly tokenHash: string;
  /** Frames refused from the backend (for tests and logs). */
  violations = 0;
  /** Why this side dropped the connection, so the close that follows does not hide it. */
  private resetReason: { code: string; message: string } | null = null;

  constructor(private readonly o: LinkOptions) {
    this.tokenHash = createHash('sha256').update(o.token).digest('hex');
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** How the last connection was brought up to date (snapshot, deltas or a resumed snapshot). */
  get lastSync(): WelcomePayload['sync'] | null {
    return this.welcome?.sync ?? null;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.stopHeartbeat();
    this.ws?.terminate();
    this.ws = null;
  }

  private connect(): void {
    if (this.stopped) return;
    this.resetReason = null;
    this.synced = false;
    this.welcome = null;
    this.deltaParts = null;
    this.inflight.clear();
    this.o.callbacks.state({ status: this.attempt === 0 ? 'connecting' : 'reconnecting', nextRetryAt: null });
    const ws = new WebSocket(this.o.url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 10_000, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      this.lastHeard = Date.now();
      // A cache filled under another token (another user, another scope) must not be continued from.
      const sameUser = this.o.cache.getMeta('tokenHash') === this.tokenHash;
      const staged = sameUser ? this.o.cache.stagedSnapshot() : null;
      const lastSeq = sameUser && this.o.cache.lastSeq > 0 ? this.o.cache.lastSeq : null;
      ws.send(
        encodeFrame('hello', {
          token: this.o.token,
          clientId: this.o.clientId,
          protocolVersion: WIRE_PROTOCOL_VERSION,
          lastSeq,
          ...(staged && staged.nextIndex > 0 ? { resumeSnapshot: staged } : {}),
          clientName: '综治指挥调度台',
        }),
      );
      this.startHeartbeat();
    });
    ws.on('message', (data, isBinary) => {
      if (ws !== this.ws) return;
      this.lastHeard = Date.now();
      try {
        if (isBinary) throw new ProtocolViolation('binary frame from the backend');
        this.onFrame(data.toString());
      } catch (e) {
        // Whatever went wrong with this frame, the cache only ever took valid, in-order data: reset and resync.
        if (e instanceof ProtocolViolation) {
          this.violations++;
          this.o.log.error('refused data from the backend; resetting the link', { error: e.message });
          this.resetReason = { code: 'bad-data', message: e.message };
        } else {
          this.o.log.error('failed to handle a frame from the backend; resetting the link', { error: (e as Error).stack ?? String(e) });
          this.resetReason = { code: 'internal', message: (e as Error).message };
        }
        this.o.callbacks.state({ lastError: this.resetReason });
        ws.terminate();
      }
    });
    ws.on('ping', () => (this.lastHeard = Date.now()));
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      this.onClosed(code, reason.toString());
    });
    ws.on('error', (e) => {
      this.o.log.warn('backend link error', { error: e.message });
      if (ws === this.ws && e.message.includes('Max payload size exceeded')) {
        this.violations++;
        this.resetReason = { code: 'bad-data', message: `backend sent a frame over ${MAX_FRAME_BYTES} bytes` };
        this.o.callbacks.state({ lastError: this.resetReason });
      }
    });
  }

  private onClosed(code: number, reason: string): void {
    this.stopHeartbeat();
    this.ws = null;
    this.synced = false;
    this.inflight.clear();
    if (this.stopped) return;
    const explained = this.resetReason ?? explainClose(code, reason);
    this.resetReason = null;
    // A refused version or login will not fix itself quickly: wait the longest.
    const slow = code === 4001 || code === 4003;
    const delay = slow ? (this.o.backoffMaxMs ?? 30_000) : backoffDelay(this.attempt, this.o.backoffBaseMs ?? 500, this.o.backoffMaxMs ?? 30_000);
    this.attempt++;
    const nextRetryAt = new Date(Date.now() + delay).toISOString();
    this.o.callbacks.state({ status: 'offline', reconnectAttempt: this.attempt, nextRetryAt, lastError: explained });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Drops the connection and reconnects at once (gaps, tests). */
  reset(): void {
    this.ws?.terminate();
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const limit = this.o.silenceLimitMs ?? 45_000;
    this.heartbeatTimer = setInterval(() => {
      if (!this.ws) return;
      if (Date.now() - this.lastHeard > limit) {
        this.o.log.warn('backend silent too long: dropping the link', { silentMs: Date.now() - this.lastHeard });
        this.ws.terminate();
        return;
      }
      if (this.welcome) this.ws.send(encodeFrame('ping', { clientTime: new Date().toISOString() }));
    }, Math.max(250, Math.floor(limit / 3)));
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private check<T>(schema: Parameters<typeof validate>[0], payload: unknown, what: string): T {
    const checked = validate(schema, payload);
    if (!checked.ok) throw new ProtocolViolation(`invalid ${what}: ${describeIssues(checked.issues)}`);
    return checked.value as T;
  }

  /** Collects the parts of one batch in order; returns the whole batch with its last part, else null. */
  private assembleParts(delta: DeltaPayload): DeltaPayload | null {
    const held = this.deltaParts;
    if (!delta.part) throw new ProtocolViolation(`delta ${delta.seq} while delta ${held?.seq} still had parts to come`);
    if (delta.part.index === 0 && !held) this.deltaParts = { seq: delta.seq, count: delta.part.count, next: 1, changes: [...delta.changes] };
    else if (held && held.seq === delta.seq && held.count === delta.part.count && delta.part.index === held.next) {
      held.changes.push(...delta.changes);
      held.next++;
    } else throw new ProtocolViolation(`delta part ${delta.part.index}/${delta.part.count} of ${delta.seq} out of order`);
    if (delta.part.index < delta.part.count - 1) return null;
    const changes = this.deltaParts!.changes;
    this.deltaParts = null;
    return { seq: delta.seq, at: delta.at, changes };
  }

  private onFrame(raw: string): void {
    const decoded = decodeFrame(raw);
    if (!decoded.ok) throw new ProtocolViolation(`invalid frame: ${decoded.error.message}`);
    const { type, payload } = decoded.frame;
    if (!this.welcome && type !== 'welcome' && type !== 'error' && type !== 'notice') throw new ProtocolViolation(`${type} before welcome`);
    switch (type) {
      case 'welcome': {
        const welcome = this.check<WelcomePayload>(WelcomePayload, payload, 'welcome');
        this.welcome = welcome;
        if (this.o.cache.getMeta('tokenHash') !== this.tokenHash) {
          this.o.cache.discardStagedSnapshot();
          this.o.cache.setMeta('tokenHash', this.tokenHash);
        }
        this.o.cache.setMeta('user', JSON.stringify({ ...welcome.user, districtScope: welcome.districtScope }));
        this.o.callbacks.state({ welcome, lastError: null });
        if (welcome.sync === 'deltas' && welcome.currentSeq === this.o.cache.lastSeq) this.becomeSynced();
        return;
      }
      case 'snapshot.begin': {
        const begin = this.check<{ snapshotId: string; fromIndex: number }>(SnapshotBegin, payload, 'snapshot.begin');
        this.o.cache.beginSnapshot(begin.snapshotId, begin.fromIndex);
        this.snapshotId = begin.snapshotId;
        this.expectedChunk = begin.fromIndex;
        return;
      }
      case 'snapshot.chunk': {
        const chunk = this.check<{ snapshotId: string; index: number; collection: keyof typeof collectionSchemas; items: unknown[] }>(SnapshotChunk, payload, 'snapshot.chunk');
        if (chunk.snapshotId !== this.snapshotId || chunk.index !== this.expectedChunk) {
          throw new ProtocolViolation(`snapshot chunk ${chunk.index} of ${chunk.snapshotId} out of order (expected ${this.expectedChunk} of ${this.snapshotId})`);
        }
        const schema = collectionSchemas[chunk.collection];
        for (const item of chunk.items) this.check(schema, item, `${chunk.collection} item in the snapshot`);
        this.o.cache.stageChunk(chunk.snapshotId, chunk.index, chunk.collection, chunk.items);
        this.expectedChunk++;
        return;
      }
      case 'snapshot.end': {
        const end = this.check<{ snapshotId: string; seq: number }>(SnapshotEnd, payload, 'snapshot.end');
        if (end.snapshotId !== this.snapshotId) throw new ProtocolViolation(`snapshot.end for ${end.snapshotId}, receiving ${this.snapshotId}`);
        this.o.cache.finishSnapshot(end.snapshotId, end.seq);
        this.snapshotId = null;
        this.o.callbacks.confirmed({ seq: end.seq, reset: true });
        if (end.seq >= (this.welcome?.currentSeq ?? 0)) this.becomeSynced();
        return;
      }
      case 'delta': {
        let delta = this.check<DeltaPayload>(DeltaPayload, payload, 'delta');
        if (delta.part || this.deltaParts) {
          const whole = this.assembleParts(delta);
          if (!whole) return;
          delta = whole;
        }
        const last = this.o.cache.lastSeq;
        if (delta.seq <= last) throw new ProtocolViolation(`sequence went backwards: delta ${delta.seq} after ${last}`);
        if (delta.seq !== last + 1) {
          this.o.log.warn('gap in the delta stream: reconnecting from the last applied seq', { expected: last + 1, got: delta.seq });
          throw new ProtocolViolation(`gap: expected delta ${last + 1}, got ${delta.seq}`);
        }
        for (const change of delta.changes) if (change.op === 'upsert') this.check(collectionSchemas[change.collection], change.data, `${change.collection} in delta ${delta.seq}`);
        this.o.cache.applyDelta(delta.seq, delta.changes);
        this.o.callbacks.confirmed({ seq: delta.seq, changes: delta.changes });
        if (!this.synced && delta.seq >= (this.welcome?.currentSeq ?? 0)) this.becomeSynced();
        return;
      }
      case 'staff.positions':
        this.o.callbacks.positions(this.check<PositionsPayload>(PositionsPayload, payload, 'positions'));
        return;
      case 'command.ack': {
        const ack = this.check<CommandAck>(CommandAck, payload, 'command.ack');
        this.inflight.delete(ack.commandId);
        this.o.callbacks.acked(ack);
        this.scheduleSend(0);
        return;
      }
      case 'error': {
        const error = this.check<WireErrorPayload>(WireErrorPayload, payload, 'error');
        const id = decoded.frame.id;
        if (id && this.inflight.has(id)) {
          this.inflight.delete(id);
          if (error.retryable) {
            this.o.log.warn('command not taken now; will resend', { commandId: id, code: error.code });
            this.scheduleSend(1000);
          } else this.o.callbacks.refused(id, error);
          return;
        }
        this.o.log.warn('backend reported an error', { code: error.code, message: error.message });
        if (!this.welcome) {
          // A refusal of the handshake: the close follows; say it once, explained.
          this.resetReason = explainClose(error.code, error.message);
          this.o.callbacks.state({ lastError: this.resetReason });
        } else this.o.callbacks.state({ lastError: { code: error.code, message: error.message } });
        return;
      }
      case 'pong':
        return;
      case 'notice':
        this.o.callbacks.notice(String((payload as { message?: unknown }).message ?? ''));
        return;
      default:
        // A newer backend may add frame types: note them, don't fail.
        this.o.log.debug('ignoring unknown frame type', { type });
    }
  }

  private becomeSynced(): void {
    this.synced = true;
    this.attempt = 0;
    this.o.callbacks.state({ status: 'online', reconnectAttempt: 0, nextRetryAt: null, lastError: null });
    this.scheduleSend(0);
  }

  /** Sends pending commands in order, paced to the backend's advertised command rate. */
  sendCommands(): void {
    this.scheduleSend(0);
  }

  private scheduleSend(delayMs: number): void {
    if (this.sendTimer) return;
    this.sendTimer = setTimeout(() => {
      this.sendTimer = null;
      this.pump();
    }, delayMs);
  }

  private lastRefill = Date.now();

  private pump(): void {
    const ws = this.ws;
    if (!ws || !this.synced || !this.welcome || ws.readyState !== ws.OPEN) return;
    const rate = this.welcome.limits.commandsPerSecond;
    const now = Date.now();
    this.sendTokens = Math.min(rate, this.sendTokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    const window = Math.max(1, Math.floor(rate));
    for (const entry of this.o.callbacks.pending()) {
      if (this.inflight.has(entry.id)) continue;
      if (this.inflight.size >= window || this.sendTokens < 1) {
        this.scheduleSend(Math.ceil(1000 / rate));
        return;
      }
      if (entry.expiresAt && Date.parse(entry.expiresAt) < Date.now()) {
        this.o.callbacks.refused(entry.id, { code: 'expired', message: `not sent: expired at ${entry.expiresAt}`, retryable: false });
        continue;
      }
      this.sendTokens -= 1;
      this.inflight.add(entry.id);
      this.o.cache.countAttempt(entry.id);
      ws.send(encodeFrame('command', { commandId: entry.id, type: entry.type, payload: entry.payload, issuedAt: entry.queuedAt, ...(entry.expiresAt ? { expiresAt: entry.expiresAt } : {}) }));
    }
  }
}
