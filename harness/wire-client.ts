/**
 * A minimal protocol-v1 client for tests and benches: real WebSocket, applies snapshot + deltas into maps,
 * checks sequence continuity, sends commands and awaits their answers.
 */
import { WebSocket } from 'ws';
import { randomBytes } from 'node:crypto';
import {
  COLLECTIONS,
  POSITIONS_BINARY,
  WIRE_PROTOCOL_VERSION,
  decodeFrame,
  decodePositionsBinary,
  encodeFrame,
  type CommandAck,
  type DeltaPayload,
  type Envelope,
  type PositionsPayload,
  type WelcomePayload,
  type WireErrorPayload,
} from '../protocol';

import { scopeKeyOf, syncStampOf } from '../backend/wire/scopes';
export interface WireClientOptions {
  url: string;
  token: string;
  clientId?: string;
  lastSeq?: number | null;
  /**
   * The welcome's syncStamp the records up to lastSeq were synced under; with a lastSeq and no stamp, the whole
   * city's (most tests resume city-wide users). A scoped user's resume passes its own (`client.welcome.syncStamp`).
   */
  syncStamp?: string;
  resumeSnapshot?: { snapshotId: string; nextIndex: number };
  /** Keep every frame received (tests that inspect the stream). */
  record?: boolean;
  /** Ask for live positions as binary frames (hello `accept: ["positions-binary"]`). */
  binaryPositions?: boolean;
  /** The console's name at hello (kept with what it acknowledges). */
  clientName?: string;
}

export class WireClient {
  readonly ws: WebSocket;
  readonly clientId: string;
  readonly collections = new Map<string, Map<string, unknown>>(COLLECTIONS.map((c) => [c, new Map()]));
  readonly frames: Envelope[] = [];
  readonly errors: WireErrorPayload[] = [];
  readonly gaps: string[] = [];
  readonly positions: PositionsPayload[] = [];
  /** Each positions frame's time, form and size on the wire (the last 100, like `positions`). */
  readonly positionFrames: Array<{ at: string; binary: boolean; bytes: number }> = [];
  welcome: WelcomePayload | null = null;
  seq = 0;
  snapshotChunksReceived = 0;
  /** Delta frames that were parts of a larger batch. */
  deltaParts = 0;
  private parts: DeltaPayload['changes'] = [];
  private partsOf: { seq: number; count: number; next: number } | null = null;
  snapshotId: string | null = null;
  synced = false;
  closed: { code: number; reason: string } | null = null;
  private readonly waiters = new Map<string, (frame: Envelope) => void>();
  private readonly syncWaiters: Array<() => void> = [];
  private stagedSnapshot: Map<string, Map<string, unknown>> | null = null;
  onPositions?: (p: PositionsPayload, receivedAt: number) => void;

  constructor(private readonly options: WireClientOptions) {
    this.clientId = options.clientId ?? `test-${randomBytes(6).toString('hex')}`;
    this.seq = options.lastSeq ?? 0;
    this.ws = new WebSocket(options.url);
    this.ws.on('open', () => {
      this.ws.send(
        encodeFrame('hello', {
          token: options.token,
          clientId: this.clientId,
          protocolVersion: WIRE_PROTOCOL_VERSION,
          lastSeq: options.lastSeq ?? null,
          ...(options.lastSeq !== undefined && options.lastSeq !== null ? { syncStamp: options.syncStamp ?? syncStampOf(scopeKeyOf(null)) } : {}),
          ...(options.resumeSnapshot ? { resumeSnapshot: options.resumeSnapshot } : {}),
          ...(options.binaryPositions ? { accept: [POSITIONS_BINARY] } : {}),
          ...(options.clientName ? { clientName: options.clientName } : {}),
        }),
      );
    });
    this.ws.on('message', (data, isBinary) => {
      const bytes = data as Buffer;
      if (!isBinary) return this.onMessage(bytes.toString(), bytes.byteLength);
      // Protocol v1 has one binary frame, live positions, and only for a client that asked.
      if (!this.options.binaryPositions) throw new Error('server sent a binary frame to a client that did not ask');
      const decoded = decodePositionsBinary(bytes);
      if (!decoded.ok) throw new Error(`server sent a bad binary frame: ${decoded.error.message}`);
      this.positionFrame(decoded.payload.at, true, bytes.byteLength);
      this.onPositionsPayload(decoded.payload);
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.syncWaiters.splice(0)) w();
    });
    this.ws.on('error', () => {});
  }

  private onMessage(raw: string, byteLength: number): void {
    const decoded = decodeFrame(raw);
    if (!decoded.ok) throw new Error(`server sent a bad frame: ${decoded.error.message}`);
    const frame = decoded.frame;
    if (this.options.record) this.frames.push(frame);
    const p = frame.payload as Record<string, unknown>;
    switch (frame.type) {
      case 'welcome':
        this.welcome = frame.payload as WelcomePayload;
        if (this.welcome.sync === 'deltas' && this.welcome.currentSeq === this.seq) this.markSynced();
        break;
      case 'snapshot.begin':
        this.snapshotId = p.snapshotId as string;
        if ((p.fromIndex as number) === 0 || !this.stagedSnapshot) this.stagedSnapshot = new Map(COLLECTIONS.map((c) => [c, new Map()]));
        break;
      case 'snapshot.chunk': {
        const target = this.stagedSnapshot!.get(p.collection as string)!;
        for (const item of p.items as Array<{ id: string }>) target.set(item.id, item);
        this.snapshotChunksReceived = (p.index as number) + 1;
        break;
      }
      case 'snapshot.end':
        for (const [name, map] of this.stagedSnapshot!) this.collections.set(name, map);
        this.stagedSnapshot = null;
        this.seq = p.seq as number;
        this.markSynced();
        break;
      case 'delta': {
        let delta = frame.payload as DeltaPayload;
        // A batch larger than a frame comes in parts with one seq: applied whole with its last part.
        if (delta.part || this.partsOf) {
          // Parts come in order, all with one seq and count; anything else is a gap like a missing seq.
          const held = this.partsOf;
          const next = delta.part && (delta.part.index === 0 ? !held : held && held.seq === delta.seq && held.count === delta.part.count && held.next === delta.part.index);
          if (!delta.part || !next) {
            this.gaps.push(`delta ${delta.seq} part ${delta.part ? `${delta.part.index}/${delta.part.count}` : 'none'} out of order`);
            this.partsOf = null;
            this.parts = [];
            break;
          }
          if (delta.part.index === 0) this.partsOf = { seq: delta.seq, count: delta.part.count, next: 0 };
          this.partsOf!.next++;
          this.parts.push(...delta.changes);
          this.deltaParts++;
          if (delta.part.index < delta.part.count - 1) break;
          delta = { seq: delta.seq, at: delta.at, changes: this.parts };
          this.parts = [];
          this.partsOf = null;
        }
        if (delta.seq !== this.seq + 1) this.gaps.push(`expected ${this.seq + 1}, got ${delta.seq}`);
        this.seq = delta.seq;
        for (const change of delta.changes) {
          const map = this.collections.get(change.collection)!;
          if (change.op === 'upsert') map.set(change.id, change.data);
          else map.delete(change.id);
        }
        if (this.welcome && this.seq >= this.welcome.currentSeq) this.markSynced();
        break;
      }
      case 'staff.positions':
        this.positionFrame((frame.payload as PositionsPayload).at, false, byteLength);
        this.onPositionsPayload(frame.payload as PositionsPayload);
        break;
      case 'error':
        this.errors.push(frame.payload as WireErrorPayload);
        break;
    }
    if (frame.id && (frame.type === 'command.ack' || frame.type === 'error' || frame.type === 'pong')) {
      this.waiters.get(frame.id)?.(frame);
      this.waiters.delete(frame.id);
    }
  }

  private onPositionsPayload(payload: PositionsPayload): void {
    this.positions.push(payload);
    this.onPositions?.(payload, Date.now());
    if (this.positions.length > 100) this.positions.shift();
  }

  private positionFrame(at: string, binary: boolean, bytes: number): void {
    this.positionFrames.push({ at, binary, bytes });
    if (this.positionFrames.length > 100) this.positionFrames.shift();
  }

  private markSynced(): void {
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** Resolves when the initial snapshot or catch-up is complete (or the socket closed). */
  waitSynced(timeoutMs = 20_000): Promise<void> {
    if (this.synced || this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not synced after ${timeoutMs} ms (seq ${this.seq})`)), timeoutMs);
      this.syncWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.ws.once('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /** Sends a command and resolves with its ack, or rejects with the error payload. */
  command(type: string, payload: unknown, commandId = `cmd-${randomBytes(8).toString('hex')}`, expiresAt?: string): Promise<CommandAck> {
    return new Promise((resolve, reject) => {
      this.waiters.set(commandId, (frame) => (frame.type === 'command.ack' ? resolve(frame.payload as CommandAck) : reject(Object.assign(new Error((frame.payload as WireErrorPayload).message), { wire: frame.payload as WireErrorPayload }))));
      this.ws.send(encodeFrame('command', { commandId, type, payload, issuedAt: new Date().toISOString(), ...(expiresAt ? { expiresAt } : {}) }));
    });
  }

  sendRaw(text: string | Buffer): void {
    this.ws.send(text);
  }

  get<T>(collection: string, id: string): T | undefined {
    return this.collections.get(collection)?.get(id) as T | undefined;
  }

  all<T>(collection: string): T[] {
    return [...(this.collections.get(collection)?.values() ?? [])] as T[];
  }

  close(): void {
    this.ws.close();
  }
}

/** Waits until the predicate holds, polling. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The clients a test file opens on its backend, each synced before use, all closed at the end (`closeAll` in afterAll). */
export function clientPool(url: () => string): { connect(token: string, options?: Omit<WireClientOptions, 'url' | 'token'>): Promise<WireClient>; closeAll(): void } {
  const clients: WireClient[] = [];
  return {
    async connect(token, options = {}) {
      const client = new WireClient({ url: url(), token, ...options });
      clients.push(client);
      await client.waitSynced();
      return client;
    },
    closeAll() {
      for (const c of clients.splice(0)) c.close();
    },
  };
}
