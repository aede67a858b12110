/**
 * The reference backend's WebSocket server (wire protocol v1). One serialized command pipeline over an
 * in-memory state that the store makes durable before anything is acknowledged or broadcast.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  COLLECTIONS,
  CommandFrame,
  HelloPayload,
  MAX_FRAME_BYTES,
  PingPayload,
  SNAPSHOT_CHUNK_TARGET_BYTES,
  STAFF_STATUS_CODES,
  WIRE_PROTOCOL_VERSION,
  WireCloseCode,
  decodeFrame,
  describeIssues,
  encodeFrame,
  errorFrame,
  utf8ByteLength,
  validate,
  type Change,
  type CollectionName,
  type CommandAck,
  type DeltaPayload,
  type Envelope,
  type StaffStatus,
  type SipAccount,
  type WelcomePayload,
  type WireErrorPayload,
} from '../protocol';
import { CommandError, executeCommand, type Actor, type CommandContext } from '../domain';
import { GUARDED_HTTP_OPTIONS, closeSilentConnections, describeInput, guardHttp, guardUpgrade, requestPath } from '../common/http-guard';
import { deltaFrames, fits } from './wire-out';
import { RefusalAudit, SessionFlow, type Admission } from './flow-control';
import type { CityState } from '../domain';
import type { SimClock } from './clock';
import type { AuditEntry, BackendStore, CommandRecord } from './store/types';
import { hashToken } from './users';
import type { Logger } from '../common/logger';

export interface ServerLimits {
  heartbeatIntervalMs: number;
  commandsPerSecond: number;
  framesPerSecond: number;
  /** Seconds a client has to say hello. */
  helloTimeoutMs: number;
  /** Catch-up by deltas up to this many batches; beyond it a snapshot is cheaper. */
  maxCatchUpBatches: number;
  /** A client whose send buffer exceeds this skips position frames until it drains (they supersede). */
  positionsBackpressureBytes: number;
  /** A client that lets this much pile up unread is cut off (it reconnects and catches up by deltas). */
  maxBufferedBytes: number;
  /** Connections one user may hold at once (a console holds one; a few for consoles on several desks). */
  connectionsPerUser: number;
  /** Commands of one connection waiting for the serial pipeline at once. */
  maxQueuedCommands: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  heartbeatIntervalMs: 15_000,
  // A console replaying its offline queue sends hundreds of commands at once: legitimate, so allowed;
  // floods beyond several times this still close the connection.
  commandsPerSecond: 200,
  framesPerSecond: 400,
  helloTimeoutMs: 5_000,
  maxCatchUpBatches: 20_000,
  positionsBackpressureBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  connectionsPerUser: 8,
  maxQueuedCommands: 400,
};

export interface BackendServerOptions {
  store: BackendStore;
  state: CityState;
  clock: SimClock;
  log: Logger;
  locate: CommandContext['locate'];
  newId: CommandContext['newId'];
  port?: number;
  limits?: Partial<ServerLimits>;
  /** Extra HTTP routes (the field client page, city assets). Return true when handled. */
  httpRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Extra WebSocket endpoints (live video). Return true when the upgrade was taken. */
  upgradeRoutes?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /** The SIP account a signed-in user gets in the welcome (null or absent: no SIP server). */
  sipAccountFor?: (userId: string) => SipAccount | null;
  /** Called on stop, before the HTTP server closes (ends what the extra routes started). */
  onStop?: () => void | Promise<void>;
}

type Phase = 'handshake' | 'syncing' | 'live' | 'closed';

interface Session {
  id: string;
  ws: WebSocket;
  phase: Phase;
  clientId: string | null;
  actor: Actor | null;
  /** Deltas that happened while this client was being brought up to date. */
  held: DeltaPayload[];
  flow: SessionFlow;
  refusals: RefusalAudit | null;
  /** The server has decided to close it: what it still sends is dropped unread (a flood must not cost CPU). */
  closing: boolean;
  strikes: number;
  alive: boolean;
  remote: string;
}

interface CachedSnapshot {
  id: string;
  seq: number;
  scopeKey: string;
  chunks: string[]; // encoded snapshot.chunk frames
  counts: Record<string, number>;
  createdAt: number;
}

/** Collections filtered by the user's district scope (分级授权). */
const SCOPED: ReadonlySet<CollectionName> = new Set(['staff', 'cameras', 'resources', 'events', 'timeline']);

function visible(scope: string[] | null, collection: CollectionName, data: unknown): boolean {
  if (scope === null || !SCOPED.has(collection)) return true;
  return scope.includes((data as { districtId: string }).districtId);
}

const scopeKeyOf = (scope: string[] | null): string => (scope === null ? '*' : [...scope].sort().join(','));

export class BackendServer {
  readonly limits: ServerLimits;
  private readonly sessions = new Set<Session>();
  private readonly snapshots = new Map<string, CachedSnapshot>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly inflight = new Map<string, Promise<{ frame: string; ack?: CommandAck }>>();
  private http: Server | null = null;
  private wss: WebSocketServer | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  port = 0;

  constructor(private readonly options: BackendServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  get state(): CityState {
    return this.options.state;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Who is signed in now (one row per session): the field client offers these as 指挥中心 to call. */
  signedInUsers(): { id: string; name: string; role: string }[] {
    return [...this.sessions].flatMap((s) => (s.actor && s.phase !== 'closed' ? [{ id: s.actor.id, name: s.actor.name, role: s.actor.role }] : []));
  }

  async start(): Promise<void> {
    const log = this.options.log;
    const http = createServer(
      GUARDED_HTTP_OPTIONS,
      guardHttp(log, 'backend', (req, res) => {
        if (req.url === '/healthz') {
          const memory = process.memoryUsage();
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, seq: this.state.seq, sessions: this.sessions.size, serverTime: this.options.clock.now(), rss: memory.rss, heapUsed: memory.heapUsed }));
          return;
        }
        if (this.options.httpRoutes?.(req, res)) return;
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      }),
    );
    // One HTTP server, several WebSocket endpoints: the protocol at /ws, the extra routes (video) beside it.
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    wss.on('connection', (ws, req) => this.accept(ws, req));
    http.on(
      'upgrade',
      guardUpgrade(log, 'backend', (req, socket, head) => {
        if (requestPath(req) === '/ws') wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
        else if (!this.options.upgradeRoutes?.(req, socket, head)) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        }
      }),
    );
    closeSilentConnections(http);
    http.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      socket.destroy();
    });
    this.http = http;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.port = (http.address() as AddressInfo).port;
    this.heartbeat = setInterval(() => this.beat(), this.limits.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  // ── connections ──────────────────────────────────────────────────────────────────────────────────────

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const session: Session = {
      id: randomBytes(6).toString('hex'),
      ws,
      phase: 'handshake',
      clientId: null,
      actor: null,
      held: [],
      flow: new SessionFlow(this.limits),
      refusals: null,
      closing: false,
      strikes: 0,
      alive: true,
      remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
    };
    this.sessions.add(session);
    const helloTimer = setTimeout(() => {
      if (session.phase === 'handshake') this.refuse(session, 'unauthorized', 'no hello within the time limit', WireCloseCode.unauthorized);
    }, this.limits.helloTimeoutMs);
    ws.on('pong', () => (session.alive = true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (session.closing) return;
      const raw = isBinary ? null : rawText(data);
      this.guard(session, raw ?? '', () => (raw === null ? this.fail(session, { code: 'malformed', message: 'binary frames are not part of protocol v1', retryable: false }) : this.onFrame(session, raw)));
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      session.phase = 'closed';
      this.sessions.delete(session);
      session.refusals?.flush();
      if (session.actor) this.auditLater([{ at: this.options.clock.now().toISOString(), userId: session.actor.id, kind: 'disconnect', detail: { session: session.id, clientId: session.clientId } }]);
    });
    ws.on('error', (e) => this.options.log.warn('socket error', { session: session.id, error: e.message }));
  }

  private beat(): void {
    for (const session of this.sessions) {
      if (!session.alive) {
        this.options.log.warn('heartbeat missed: dropping connection', { session: session.id });
        session.ws.terminate();
        continue;
      }
      session.alive = false;
      session.ws.ping();
    }
  }

  /**
   * The boundary every frame is handled in: whatever handling it throws (now or later) becomes a refusal for
   * this client alone — an error frame naming the frame's id or command id when one can be read, else close
   * 1011 — logged once with the client and the input's shape, never its text. The process keeps serving.
   */
  private guard(session: Session, raw: string, work: () => void | Promise<void>): void {
    const failed = (e: unknown): void => {
      const id = correlationId(raw);
      this.options.log.error('frame handling failed', { session: session.id, user: session.actor?.id ?? null, remote: session.remote, input: describeInput(raw), id, error: (e as Error)?.stack?.split('\n').slice(0, 6).join(' | ') ?? String(e) });
      try {
        if (id) this.sendError(session, { code: 'internal', message: 'the server could not handle this frame', retryable: false }, id);
        else this.closeSession(session, 1011, 'internal error');
      } catch {
        session.ws.terminate();
      }
    };
    try {
      const result = work();
      if (result) result.catch(failed);
    } catch (e) {
      failed(e);
    }
  }

  /** Audit lines written without waiting; a failed write is logged, never an unhandled rejection. */
  private auditLater(entries: AuditEntry[]): void {
    this.options.store.audit(entries).catch((e: unknown) => this.options.log.error('audit write failed', { kinds: entries.map((e) => e.kind), error: (e as Error).message }));
  }

  private send(session: Session, text: string | Buffer): void {
    if (session.phase === 'closed' || session.ws.readyState !== session.ws.OPEN) return;
    // A client that stopped reading cannot hold the server's memory hostage: cut it off; it catches up by deltas.
    if (session.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.options.log.warn('client does not read: connection dropped', { session: session.id, user: session.actor?.id ?? null, buffered: session.ws.bufferedAmount });
      session.phase = 'closed';
      session.ws.terminate();
      return;
    }
    session.ws.send(text);
  }

  private sendError(session: Session, error: WireErrorPayload, id?: string): void {
    this.send(session, errorFrame(error, id));
  }

  /** A protocol error: answer it; repeated ones (a broken client) end the connection. */
  private fail(session: Session, error: WireErrorPayload, id?: string): void {
    this.sendError(session, error, id);
    session.strikes++;
    if (session.strikes >= 20) this.closeSession(session, WireCloseCode.protocolError, 'too many invalid frames');
  }

  private refuse(session: Session, code: WireErrorPayload['code'], message: string, closeCode: number): void {
    this.sendError(session, { code, message, retryable: false });
    this.closeSession(session, closeCode, message);
  }

  /** Closes with a code and reason; input after that is dropped, and a peer that does not close is cut off. */
  private closeSession(session: Session, code: number, reason: string): void {
    if (session.closing) return;
    session.closing = true;
    session.ws.close(code, closeReason(reason));
    setTimeout(() => session.ws.terminate(), 3000).unref();
  }

  /** A frame or command over the client's budget: refused naming it; a client that keeps on is closed (4029). */
  private rateLimited(session: Session, admission: Exclude<Admission, 'ok'>, frame: Envelope | null, commandId: string | null): void {
    const message =
      admission === 'frames'
        ? `more than ${this.limits.framesPerSecond} frames per second; send it again later`
        : admission === 'queue'
          ? `more than ${this.limits.maxQueuedCommands} commands of this connection are waiting; send it again later`
          : `more than ${this.limits.commandsPerSecond} commands per second; send it again later`;
    const type = frame?.type === 'command' ? (commandTypeOf(frame.payload) ?? null) : null;
    if (frame?.type === 'command') session.refusals?.note({ commandId, type, code: `rate-limited:${admission}` });
    if (session.flow.refused()) {
      this.options.log.warn('flood: connection closed', { session: session.id, user: session.actor?.id ?? null, remote: session.remote });
      this.refuse(session, 'rate-limited', `flood: too many frames past the limit (${this.limits.framesPerSecond}/s, ${this.limits.commandsPerSecond} commands/s); connection closed`, WireCloseCode.rateLimited);
      return;
    }
    this.sendError(session, { code: 'rate-limited', message, retryable: true, ...(frame ? { inReplyTo: frame.type } : {}) }, commandId ?? frame?.id);
  }

  private async onFrame(session: Session, raw: string): Promise<void> {
    // Decoded before the budget is checked (bounded work: the size and depth are refused before parsing), so
    // that a refusal can name what it refuses.
    const decoded = decodeFrame(raw);
    const commandId = decoded.ok && decoded.frame.type === 'command' ? commandIdOf(decoded.frame.payload) : null;
    const admission = session.flow.admit(decoded.ok && decoded.frame.type === 'command' && session.phase !== 'handshake');
    if (admission !== 'ok') return this.rateLimited(session, admission, decoded.ok ? decoded.frame : null, commandId);
    if (!decoded.ok) {
      if (decoded.error.code === 'unsupported-version') {
        this.refuse(session, 'unsupported-version', decoded.error.message, WireCloseCode.unsupportedVersion);
        return;
      }
      return this.fail(session, { code: decoded.error.code, message: decoded.error.message, retryable: false, ...(decoded.error.issues ? { issues: decoded.error.issues } : {}) });
    }
    const frame = decoded.frame;
    if (session.phase === 'handshake') {
      if (frame.type !== 'hello') return this.refuse(session, 'unauthorized', `the first frame must be hello, got ${frame.type}`, WireCloseCode.unauthorized);
      return this.onHello(session, frame);
    }
    switch (frame.type) {
      case 'ping': {
        const ping = validate(PingPayload, frame.payload);
        if (!ping.ok) return this.fail(session, { code: 'invalid', message: describeIssues(ping.issues), inReplyTo: 'ping', retryable: false });
        this.send(session, encodeFrame('pong', { clientTime: ping.value.clientTime, serverTime: this.options.clock.now().toISOString() }, frame.id));
        return;
      }
      case 'command':
        return this.onCommand(session, frame);
      case 'hello':
        return this.fail(session, { code: 'invalid', message: 'already said hello', inReplyTo: 'hello', retryable: false });
      default:
        return this.fail(session, { code: 'unknown-type', message: `unknown frame type ${frame.type}`, inReplyTo: frame.type, retryable: false });
    }
  }

  // ── handshake and sync ───────────────────────────────────────────────────────────────────────────────

  private async onHello(session: Session, frame: Envelope): Promise<void> {
    const hello = validate(HelloPayload, frame.payload);
    if (!hello.ok) return this.refuse(session, 'invalid', `bad hello: ${describeIssues(hello.issues)}`, WireCloseCode.protocolError);
    const h = hello.value;
    const at = this.options.clock.now().toISOString();
    if (h.protocolVersion !== WIRE_PROTOCOL_VERSION) {
      return this.refuse(session, 'unsupported-version', `client speaks protocol ${h.protocolVersion}, this server speaks ${WIRE_PROTOCOL_VERSION}`, WireCloseCode.unsupportedVersion);
    }
    const user = await this.options.store.findUserByTokenHash(hashToken(h.token));
    if (!user) {
      await this.options.store.audit([{ at, userId: null, kind: 'login-refused', detail: { clientId: h.clientId, remote: session.remote } }]);
      return this.refuse(session, 'unauthorized', 'unknown or revoked token', WireCloseCode.unauthorized);
    }
    if (session.phase !== 'handshake') return; // closed meanwhile
    // One connection per client id: a reconnecting client replaces its stale connection.
    let sameUser = 0;
    for (const other of this.sessions) {
      if (other === session || other.phase === 'closed') continue;
      if (other.clientId === h.clientId) this.closeSession(other, WireCloseCode.replaced, 'replaced by a newer connection from the same client');
      else if (other.actor?.id === user.id) sameUser++;
    }
    if (sameUser >= this.limits.connectionsPerUser) {
      this.auditLater([{ at, userId: user.id, kind: 'login-refused', detail: { clientId: h.clientId, remote: session.remote, reason: 'too-many-connections', limit: this.limits.connectionsPerUser } }]);
      return this.refuse(session, 'rate-limited', `user ${user.id} already has ${sameUser} connections open (limit ${this.limits.connectionsPerUser})`, WireCloseCode.rateLimited);
    }
    session.clientId = h.clientId;
    session.actor = { id: user.id, name: user.name, role: user.role, districtScope: user.districtScope };
    session.phase = 'syncing';
    session.refusals = new RefusalAudit((entries) => this.auditLater(entries), () => ({ realMs: Date.now(), at: this.options.clock.now().toISOString() }), { userId: user.id, session: session.id });
    await this.options.store.audit([{ at, userId: user.id, kind: 'login', detail: { clientId: h.clientId, clientName: h.clientName ?? null, remote: session.remote, lastSeq: h.lastSeq } }]);

    const scopeKey = scopeKeyOf(user.districtScope);
    const cached = h.resumeSnapshot ? this.snapshots.get(h.resumeSnapshot.snapshotId) : undefined;
    let sync: WelcomePayload['sync'];
    let catchUp: DeltaPayload[] | null = null;
    if (cached && cached.scopeKey === scopeKey && h.resumeSnapshot!.nextIndex <= cached.chunks.length) {
      sync = 'resume-snapshot';
    } else if (h.lastSeq !== null && h.lastSeq <= this.state.seq) {
      const batches = h.lastSeq === this.state.seq ? [] : await this.options.store.changesSince(h.lastSeq, this.limits.maxCatchUpBatches + 1);
      if (batches && batches.length <= this.limits.maxCatchUpBatches) {
        catchUp = batches.map((b) => ({ seq: b.seq, at: b.at, changes: b.changes }));
        sync = 'deltas';
      } else sync = 'snapshot';
    } else {
      // No cursor, or a cursor from the future (the server's database was replaced): start over.
      sync = 'snapshot';
    }
    const welcome: WelcomePayload = {
      sessionId: session.id,
      user: { id: user.id, name: user.name, role: user.role },
      districtScope: user.districtScope,
      serverTime: this.options.clock.now().toISOString(),
      clockRate: this.options.clock.rate,
      currentSeq: this.state.seq,
      sync,
      heartbeatIntervalMs: this.limits.heartbeatIntervalMs,
      limits: { maxFrameBytes: MAX_FRAME_BYTES, commandsPerSecond: this.limits.commandsPerSecond, framesPerSecond: this.limits.framesPerSecond },
      sip: this.options.sipAccountFor?.(user.id) ?? null,
    };
    this.send(session, encodeFrame('welcome', welcome, frame.id));
    this.options.log.info('client connected', { session: session.id, user: user.id, clientId: h.clientId, sync, lastSeq: h.lastSeq, seq: this.state.seq });

    let upTo: number;
    if (sync === 'deltas') {
      for (const delta of catchUp!) for (const text of deltaFrames(this.scoped(delta, session), this.options.log)) this.send(session, text);
      upTo = catchUp!.at(-1)?.seq ?? h.lastSeq!;
    } else {
      const snapshot = sync === 'resume-snapshot' ? cached! : this.snapshotFor(scopeKey, user.districtScope);
      const fromIndex = sync === 'resume-snapshot' ? h.resumeSnapshot!.nextIndex : 0;
      upTo = await this.streamSnapshot(session, snapshot, fromIndex);
    }
    // Deltas committed while this client was syncing, newer than what it got, then live.
    for (const delta of session.held) if (delta.seq > upTo) for (const text of deltaFrames(delta, this.options.log)) this.send(session, text);
    session.held = [];
    if (session.phase === 'syncing') session.phase = 'live';
  }

  private snapshotFor(scopeKey: string, scope: string[] | null): CachedSnapshot {
    for (const s of this.snapshots.values()) if (s.scopeKey === scopeKey && s.seq === this.state.seq) return s;
    const id = `snap-${this.state.seq}-${randomBytes(4).toString('hex')}`;
    const chunks: string[] = [];
    const counts: Record<string, number> = {};
    for (const collection of COLLECTIONS) {
      let items: string[] = [];
      let bytes = 0;
      counts[collection] = 0;
      const flush = (): void => {
        chunks.push(`{"v":1,"type":"snapshot.chunk","payload":{"snapshotId":"${id}","index":${chunks.length},"collection":"${collection}","items":[${items.join(',')}]}}`);
        items = [];
        bytes = 0;
      };
      for (const item of this.state.all(collection)) {
        if (!visible(scope, collection, item)) continue;
        // Within the frame limit by construction: a record larger than a frame is left out (and logged).
        const json = JSON.stringify(item);
        if (!fits(collection, (item as { id: string }).id, json, this.options.log)) continue;
        const size = utf8ByteLength(json);
        if (bytes + size > SNAPSHOT_CHUNK_TARGET_BYTES && items.length > 0) flush();
        items.push(json);
        bytes += size + 1;
        counts[collection]++;
      }
      if (items.length > 0) flush();
    }
    const snapshot: CachedSnapshot = { id, seq: this.state.seq, scopeKey, chunks, counts, createdAt: Date.now() };
    // Keep a few recent snapshots for resumption: drop expired ones, then the oldest beyond eight.
    for (const [key, old] of this.snapshots) if (Date.now() - old.createdAt > 10 * 60_000) this.snapshots.delete(key);
    while (this.snapshots.size >= 8) this.snapshots.delete(this.snapshots.keys().next().value!);
    this.snapshots.set(id, snapshot);
    return snapshot;
  }

  /** Sends the chunks with backpressure; returns the seq the snapshot reflects. */
  private async streamSnapshot(session: Session, snapshot: CachedSnapshot, fromIndex: number): Promise<number> {
    this.send(session, encodeFrame('snapshot.begin', { snapshotId: snapshot.id, seq: snapshot.seq, chunkCount: snapshot.chunks.length, counts: snapshot.counts, fromIndex }));
    const isOpen = (): boolean => session.phase !== 'closed';
    for (let i = fromIndex; i < snapshot.chunks.length && isOpen(); i++) {
      this.send(session, snapshot.chunks[i]!);
      while (session.ws.bufferedAmount > 2 * SNAPSHOT_CHUNK_TARGET_BYTES && isOpen()) await new Promise((r) => setTimeout(r, 5));
    }
    this.send(session, encodeFrame('snapshot.end', { snapshotId: snapshot.id, seq: snapshot.seq }));
    return snapshot.seq;
  }

  /**
   * The delta as a scoped user may see it. An upsert carries its district; a removal's district comes from
   * `removedDistricts` (read from the state before the batch was applied). A removal whose district is not
   * known (catch-up from the log) is passed on: removing an id the client does not hold is harmless.
   */
  private scoped(delta: DeltaPayload, session: Session, removedDistricts?: ReadonlyMap<string, string>): DeltaPayload {
    const scope = session.actor?.districtScope ?? null;
    if (scope === null) return delta;
    return {
      ...delta,
      changes: delta.changes.filter((change) => {
        if (!SCOPED.has(change.collection)) return true;
        const district = change.op === 'upsert' ? (change.data as { districtId: string }).districtId : removedDistricts?.get(`${change.collection}:${change.id}`);
        return district === undefined || scope.includes(district);
      }),
    };
  }

  // ── commands ─────────────────────────────────────────────────────────────────────────────────────────

  private async onCommand(session: Session, frame: Envelope): Promise<void> {
    const parsed = validate(CommandFrame, frame.payload);
    if (!parsed.ok) return this.fail(session, { code: 'invalid', message: `bad command frame: ${describeIssues(parsed.issues)}`, inReplyTo: 'command', issues: parsed.issues, retryable: false }, commandIdOf(frame.payload) ?? frame.id);
    const command = parsed.value;
    session.flow.queued++;
    try {
      const { frame: reply } = await this.submit(session.actor!, command.commandId, command.type, command.payload, command.expiresAt);
      this.send(session, reply);
    } finally {
      session.flow.queued--;
    }
  }

  /**
   * Runs one command through the serialized pipeline. A command id seen before returns its first answer and
   * changes nothing (replays are harmless). Also used by the simulator (actor "system" / "sim:*").
   */
  submit(actor: Actor, commandId: string, type: string, payload: unknown, expiresAt?: string): Promise<{ frame: string; ack?: CommandAck }> {
    const running = this.inflight.get(commandId);
    if (running) return running.then((r) => ({ frame: r.ack ? encodeFrame('command.ack', { ...r.ack, duplicate: true }, commandId) : r.frame, ...(r.ack ? { ack: { ...r.ack, duplicate: true } } : {}) }));
    const work = this.queue.then(() => this.run(actor, commandId, type, payload, expiresAt));
    this.queue = work.catch(() => undefined);
    this.inflight.set(commandId, work);
    void work.finally(() => this.inflight.delete(commandId));
    return work;
  }

  private async run(actor: Actor, commandId: string, type: string, payload: unknown, expiresAt?: string): Promise<{ frame: string; ack?: CommandAck }> {
    const store = this.options.store;
    const previous = await store.findCommand(commandId);
    if (previous) {
      if (previous.userId !== actor.id) {
        return { frame: errorFrame({ code: 'conflict', message: `command id ${commandId} was already used by another user`, inReplyTo: 'command', retryable: false }, commandId) };
      }
      if (previous.outcome.status === 'applied') {
        const ack: CommandAck = { commandId, seq: previous.outcome.seq, result: previous.outcome.result, duplicate: true };
        return { frame: encodeFrame('command.ack', ack, commandId), ack };
      }
      return { frame: errorFrame({ code: previous.outcome.code as WireErrorPayload['code'], message: previous.outcome.message, inReplyTo: 'command', retryable: false }, commandId) };
    }
    const now = this.options.clock.now();
    const at = now.toISOString();
    const reject = async (code: 'invalid' | 'forbidden' | 'conflict' | 'expired', message: string): Promise<{ frame: string }> => {
      const record: CommandRecord = { commandId, userId: actor.id, type, outcome: { status: 'rejected', code, message }, at };
      await store.recordRejected(record, { at, userId: actor.id, kind: 'command-rejected', detail: { commandId, type, code, message: message.slice(0, 2000) } });
      return { frame: errorFrame({ code, message, inReplyTo: 'command', retryable: false }, commandId) };
    };
    // Expiry is judged on real time: it protects decisions made on stale screens, whatever the sim speed.
    if (expiresAt && Date.parse(expiresAt) < Date.now()) return reject('expired', `command expired at ${expiresAt}`);
    let outcome;
    try {
      outcome = executeCommand({ state: this.state, actor, now, newId: this.options.newId, locate: this.options.locate }, type, payload);
    } catch (e) {
      if (e instanceof CommandError) return reject(e.code, e.message);
      this.options.log.error('command handler crashed', { commandId, type, error: (e as Error).stack });
      return { frame: errorFrame({ code: 'internal', message: 'internal error while running the command', inReplyTo: 'command', retryable: true }, commandId) };
    }
    const seq = this.state.seq + 1;
    await store.commit({
      seq,
      at,
      changes: outcome.changes,
      command: { commandId, userId: actor.id, type, outcome: { status: 'applied', seq, result: outcome.result }, at },
      // The validated payload (unknown keys stripped, every field within its schema's limits), never the raw one.
      audit: [{ at, userId: actor.id, kind: 'command', detail: { commandId, type, payload: outcome.payload, seq } }],
    });
    this.publish(seq, at, outcome.changes);
    const ack: CommandAck = { commandId, seq, result: outcome.result, duplicate: false };
    return { frame: encodeFrame('command.ack', ack, commandId), ack };
  }

  /**
   * Commits changes made by the server itself (simulator, KPI refresh) as one batch through the same
   * pipeline, so they are sequenced with the commands.
   */
  commitSystemChanges(build: () => Change[]): Promise<number | null> {
    const work = this.queue.then(async () => {
      const changes = build();
      if (changes.length === 0) return null;
      const seq = this.state.seq + 1;
      const at = this.options.clock.now().toISOString();
      await this.options.store.commit({ seq, at, changes });
      this.publish(seq, at, changes);
      return seq;
    });
    this.queue = work.catch(() => undefined);
    return work;
  }

  private publish(seq: number, at: string, changes: Change[]): void {
    const removedDistricts = new Map<string, string>();
    for (const change of changes) {
      if (change.op !== 'remove' || !SCOPED.has(change.collection)) continue;
      const district = (this.state.get(change.collection, change.id) as { districtId?: string } | undefined)?.districtId;
      if (district) removedDistricts.set(`${change.collection}:${change.id}`, district);
    }
    this.state.apply(changes);
    this.state.seq = seq;
    const delta: DeltaPayload = { seq, at, changes };
    // Encoded once per scope (split into parts when larger than a frame), the same text to every client of it.
    const encoded = new Map<string, string[]>();
    for (const session of this.sessions) {
      try {
        if (session.phase === 'syncing') session.held.push(this.scoped(delta, session, removedDistricts));
        else if (session.phase === 'live') {
          const key = scopeKeyOf(session.actor?.districtScope ?? null);
          let frames = encoded.get(key);
          if (!frames) encoded.set(key, (frames = deltaFrames(this.scoped(delta, session, removedDistricts), this.options.log)));
          for (const text of frames) this.send(session, text);
        }
      } catch (e) {
        // Committed is committed: a client that cannot be sent to is dropped (it catches up), the others go on.
        this.options.log.error('delta could not be sent to a client', { session: session.id, seq, error: (e as Error).message });
        session.ws.terminate();
      }
    }
  }

  // ── positions (ephemeral presence) ────────────────────────────────────────────────────────────────────

  /** Sends live positions to every live client, one encoding per scope, skipping clients that lag behind. */
  broadcastPositions(at: string, items: Array<{ id: string; lon: number; lat: number; status: StaffStatus; districtId: string }>): void {
    // Encoded once per scope to UTF-8 bytes and the same buffer sent to every socket of that scope.
    const frames = new Map<string, Buffer[]>();
    const code = (s: StaffStatus): number => STAFF_STATUS_CODES.indexOf(s);
    for (const session of this.sessions) {
      if (session.phase !== 'live' || !session.actor) continue;
      if (session.ws.bufferedAmount > this.limits.positionsBackpressureBytes) continue;
      const scope = session.actor.districtScope;
      const key = scopeKeyOf(scope);
      let encoded = frames.get(key);
      if (!encoded) {
        const rows = items.filter((i) => scope === null || scope.includes(i.districtId)).map((i) => [i.id, i.lon, i.lat, code(i.status)] as const);
        encoded = [];
        // Stay well under the frame limit: ~40 bytes a row.
        const perFrame = Math.floor(MAX_FRAME_BYTES / 64);
        for (let i = 0; i < rows.length; i += perFrame) encoded.push(Buffer.from(encodeFrame('staff.positions', { at, items: rows.slice(i, i + perFrame) }), 'utf8'));
        frames.set(key, encoded);
      }
      for (const bytes of encoded) if (session.ws.readyState === session.ws.OPEN) session.ws.send(bytes, { binary: false });
    }
  }

  /** Tells every client something (e.g. a scenario started). */
  notice(level: 'info' | 'warning', message: string): void {
    const text = encodeFrame('notice', { level, message });
    for (const session of this.sessions) if (session.phase === 'live') this.send(session, text);
  }

  async close(reason = 'server shutting down'): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const session of this.sessions) {
      this.send(session, encodeFrame('notice', { level: 'warning', message: reason }));
      session.ws.close(WireCloseCode.serverShutdown, reason);
    }
    // Wait for the sockets to finish closing (their handlers write audit lines) before the store closes.
    const deadline = Date.now() + 2000;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const session of this.sessions) session.ws.terminate();
    await this.queue;
    this.wss?.close();
    await this.options.onStop?.();
    this.http?.closeAllConnections();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

const ID_SHAPE = /^[0-9a-zA-Z_-]{8,64}$/;

function commandIdOf(payload: unknown): string | null {
  const id = typeof payload === 'object' && payload !== null ? (payload as { commandId?: unknown }).commandId : undefined;
  return typeof id === 'string' && ID_SHAPE.test(id) ? id : null;
}

function commandTypeOf(payload: unknown): string | null {
  const type = typeof payload === 'object' && payload !== null ? (payload as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type.slice(0, 64) : null;
}

/**
 * The id to answer a frame that could not be handled: its command id, else its frame id — read from the text
 * with a bounded pattern (the frame may be what failed to parse), null when none is there.
 */
function correlationId(raw: string): string | null {
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
