/**
 * The hub's one connection to the backend (wire protocol v1), on one of its addresses at a time (instances on
 * one database: a refused try or a dead connection moves on to the next, see AddressRotation): handshake with
 * the last applied sequence (or the snapshot being received, to resume it), snapshot chunks, deltas in strict
 * order and live positions handed to the replica (which alone writes the cache), the outbox's commands sent in
 * order and answered back to it (link-commands.ts). What it needs from the hub: link-ports.ts.
 * Anything invalid from the backend — a bad frame, a sequence going backwards, a gap, an oversized frame — is
 * refused, logged, and the link is reset; the replica is only ever handed valid, in-order data.
 */
import { hostname } from 'node:os';
import { createHash } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import {
  CommandAck,
  DeltaPayload,
  MAX_FRAME_BYTES,
  POSITIONS_BINARY,
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
  WireCloseCode,
  encodeFrame,
  type ViewPayload,
  validate,
  type CollectionName,
} from '../protocol';
import { AddressRotation, DeltaParts, ProtocolViolation, binaryPositions, explainClose } from './link-rules';
import { CommandSender } from './link-commands';
import type { LinkOptions } from './link-ports';

/**
 * The name this console gives itself at hello, kept with what it acknowledges (an alarm) and in the audit's 控制台
 * column: `ZONGZHI_CONSOLE_NAME` (a seat's name, e.g. 坐席 3), else the machine's host name.
 */
function consoleName(): string {
  const seat = process.env.ZONGZHI_CONSOLE_NAME?.trim();
  return `综治指挥调度台 · ${seat || hostname()}`.slice(0, 100);
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
  private deltaParts = new DeltaParts();
  private readonly commands: CommandSender;
  private readonly tokenHash: string;
  private readonly rotation: AddressRotation;
  /** Frames refused from the backend (for tests and logs). */
  violations = 0;
  /** Why this side dropped the connection, so the close that follows does not hide it. */
  private resetReason: { code: string; message: string } | null = null;

  constructor(private readonly o: LinkOptions) {
    this.tokenHash = createHash('sha256').update(o.token).digest('hex');
    this.rotation = new AddressRotation(o.urls, { baseMs: o.backoffBaseMs ?? 500, maxMs: o.backoffMaxMs ?? 30_000 });
    this.commands = new CommandSender(o.outbox, o.log, () => {
      const ws = this.ws;
      if (!ws || !this.synced || !this.welcome || ws.readyState !== ws.OPEN) return null;
      return { ws, commandsPerSecond: this.welcome.limits.commandsPerSecond };
    });
  }

  /** The address the link is on, or trying now. */
  get url(): string {
    return this.rotation.current;
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
    this.commands.stop();
    this.stopHeartbeat();
    this.ws?.terminate();
    this.ws = null;
  }

  private connect(): void {
    if (this.stopped) return;
    this.resetReason = null;
    this.synced = false;
    this.welcome = null;
    this.deltaParts = new DeltaParts();
    this.commands.forget();
    const url = this.rotation.current;
    this.o.callbacks.state({ status: this.attempt === 0 ? 'connecting' : 'reconnecting', nextRetryAt: null, url });
    const ws = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 10_000, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      this.lastHeard = Date.now();
      const { lastSeq, staged, syncStamp } = this.o.replica.resumePoint(this.tokenHash);
      ws.send(
        encodeFrame('hello', {
          token: this.o.token,
          clientId: this.o.clientId,
          protocolVersion: WIRE_PROTOCOL_VERSION,
          lastSeq,
          ...(syncStamp ? { syncStamp } : {}),
          ...(staged && staged.nextIndex > 0 ? { resumeSnapshot: staged } : {}),
          clientName: consoleName(),
          accept: [POSITIONS_BINARY],
        }),
      );
      this.startHeartbeat();
    });
    ws.on('message', (data, isBinary) => {
      if (ws !== this.ws) return;
      this.lastHeard = Date.now();
      try {
        if (isBinary) this.onBinary(data);
        else this.onFrame(data.toString());
      } catch (e) {
        // Whatever went wrong with this frame, the replica only ever took valid, in-order data: reset and resync.
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
    this.commands.forget();
    if (this.stopped) return;
    const explained = this.resetReason ?? explainClose(code, reason);
    this.resetReason = null;
    if (code === WireCloseCode.sessionExpired) {
      // Retrying cannot help: the same token is refused until someone signs in again. The outbox keeps its commands.
      this.stopped = true;
      this.o.callbacks.state({ status: 'offline', reconnectAttempt: 0, nextRetryAt: null, lastError: { code: 'session-expired', message: reason || 'the sign-in session ended' } });
      this.o.callbacks.sessionEnded?.(reason);
      return;
    }
    // The next address soon (another instance may well be up); the back-off only after a full round failed.
    const delay = this.rotation.failed(code === 4001 || code === 4003).delayMs;
    this.attempt++;
    const nextRetryAt = new Date(Date.now() + delay).toISOString();
    this.o.callbacks.state({ status: 'offline', reconnectAttempt: this.attempt, nextRetryAt, lastError: explained });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Drops the connection and reconnects (gaps, tests): to the next address when there are several. */
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

  /** A binary frame: live positions, the one binary frame v1 has (asked for in hello), checked like any frame. */
  private onBinary(data: RawData): void {
    if (!this.welcome) throw new ProtocolViolation('binary frame before welcome');
    this.o.replica.applyPositions(binaryPositions(data));
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
        this.o.replica.welcomed(this.tokenHash, welcome);
        this.o.callbacks.state({ welcome, lastError: null });
        if (welcome.sync === 'deltas' && welcome.currentSeq === this.o.replica.lastSeq) this.becomeSynced();
        return;
      }
      case 'snapshot.begin': {
        const begin = this.check<{ snapshotId: string; fromIndex: number }>(SnapshotBegin, payload, 'snapshot.begin');
        this.o.replica.beginSnapshot(begin.snapshotId, begin.fromIndex);
        this.snapshotId = begin.snapshotId;
        this.expectedChunk = begin.fromIndex;
        return;
      }
      case 'snapshot.chunk': {
        const chunk = this.check<{ snapshotId: string; index: number; collection: CollectionName; items: unknown[] }>(SnapshotChunk, payload, 'snapshot.chunk');
        if (chunk.snapshotId !== this.snapshotId || chunk.index !== this.expectedChunk) {
          throw new ProtocolViolation(`snapshot chunk ${chunk.index} of ${chunk.snapshotId} out of order (expected ${this.expectedChunk} of ${this.snapshotId})`);
        }
        const schema = collectionSchemas[chunk.collection];
        for (const item of chunk.items) this.check(schema, item, `${chunk.collection} item in the snapshot`);
        this.o.replica.stageChunk(chunk.snapshotId, chunk.index, chunk.collection, chunk.items);
        this.expectedChunk++;
        return;
      }
      case 'snapshot.end': {
        const end = this.check<{ snapshotId: string; seq: number }>(SnapshotEnd, payload, 'snapshot.end');
        if (end.snapshotId !== this.snapshotId) throw new ProtocolViolation(`snapshot.end for ${end.snapshotId}, receiving ${this.snapshotId}`);
        this.o.replica.finishSnapshot(end.snapshotId, end.seq);
        this.snapshotId = null;
        if (end.seq >= (this.welcome?.currentSeq ?? 0)) this.becomeSynced();
        return;
      }
      case 'delta': {
        let delta = this.check<DeltaPayload>(DeltaPayload, payload, 'delta');
        if (delta.part || this.deltaParts.holding) {
          const whole = this.deltaParts.add(delta);
          if (!whole) return;
          delta = whole;
        }
        const last = this.o.replica.lastSeq;
        if (delta.seq <= last) throw new ProtocolViolation(`sequence went backwards: delta ${delta.seq} after ${last}`);
        if (delta.seq !== last + 1) {
          this.o.log.warn('gap in the delta stream: reconnecting from the last applied seq', { expected: last + 1, got: delta.seq });
          throw new ProtocolViolation(`gap: expected delta ${last + 1}, got ${delta.seq}`);
        }
        for (const change of delta.changes) if (change.op === 'upsert') this.check(collectionSchemas[change.collection], change.data, `${change.collection} in delta ${delta.seq}`);
        this.o.replica.applyDelta(delta.seq, delta.changes);
        if (!this.synced && delta.seq >= (this.welcome?.currentSeq ?? 0)) this.becomeSynced();
        return;
      }
      case 'staff.positions':
        this.o.replica.applyPositions(this.check<PositionsPayload>(PositionsPayload, payload, 'positions'));
        return;
      case 'command.ack': {
        this.commands.acked(this.check<CommandAck>(CommandAck, payload, 'command.ack'));
        return;
      }
      case 'error': {
        const error = this.check<WireErrorPayload>(WireErrorPayload, payload, 'error');
        if (this.commands.answered(decoded.frame.id, error)) return;
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
    this.rotation.succeeded();
    this.o.callbacks.state({ status: 'online', reconnectAttempt: 0, nextRetryAt: null, lastError: null });
    this.commands.schedule(0);
  }

  /** Sends one view frame (audit/views on the backend) now; false when the link is not signed in and open. */
  sendView(view: ViewPayload): boolean {
    const ws = this.ws;
    if (!ws || !this.welcome || ws.readyState !== ws.OPEN) return false;
    ws.send(encodeFrame('view', view));
    return true;
  }

  /** Sends pending commands in order, paced to the backend's advertised command rate (link-commands.ts). */
  sendCommands(): void {
    this.commands.schedule(0);
  }
}
