/**
 * The reference backend's WebSocket server (wire protocol v1): its HTTP server, connections, and how a client
 * is sent to and closed. Its jobs live beside it: the boundary every input is handled in (frames-in.ts), the handshake and sync
 * (sync.ts), the serial command pipeline (commands.ts), fan-out of deltas, positions and notices (fan-out.ts),
 * flow control (flow-control.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES, WireCloseCode, encodeFrame, errorFrame, type Change, type BackendInstance, type SipAccount, type StaffStatus, type WireErrorPayload } from '../../protocol';
import type { Actor, CityState, CommandContext } from '../../domain';
import { GUARDED_HTTP_OPTIONS, closeSilentConnections, describeError, guardHttp, guardUpgrade, type FailureReport } from '../../web-serving/http-guard';
import { requestPath } from '../../web-serving/request-target';
import type { Logger } from '../../node-util/logger';
import type { SimClock } from '../clock';
import type { AuditEntry, BackendStore, Watch } from '../store/types';
import { CommandPipeline, type CommandAnswer } from './commands';
import { FanOut } from './fan-out';
import { SessionFlow } from './flow-control';
import { DEFAULT_LIMITS, type ServerLimits } from './limits';
import { closeReason, type ClientOutput, type Session } from './session';
import { SessionSync } from './sync';
import { AreaScopes } from './scopes';
import { CommitTail } from './commit-tail';
import type { Auth, AuthLimits } from '../auth/sessions';
import { connectionsAuth, followUserChanges } from './connections-auth';
import { ViewAudit } from '../audit/views';
import { FrameIntake } from './frames-in';

export { DEFAULT_LIMITS, type ServerLimits };

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
  /** What else /healthz says about this instance (e.g. whether it leads). */
  health?: () => Record<string, unknown>;
  /** Which instance of the backend this is (several may serve one database), told to every client in its welcome. */
  instance?: BackendInstance;
  /** Sign-in sessions' limits and lockout (backend/auth/sessions.ts; defaults DEFAULT_AUTH_LIMITS). */
  auth?: Partial<AuthLimits>;
  /** The viewer ticket a connection's welcome carries, from its token's hash (video/viewer-tickets.ts). */
  streamTicket?: (tokenHash: string) => string;
  /** A sign-in session ended on this instance (signed out, expired): its streams are checked again at once. */
  sessionEnded?: (tokenHash: string) => void;
}

export class BackendServer implements ClientOutput {
  readonly limits: ServerLimits;
  /** Password sign-in and its sessions (the /auth routes and hello use it). */
  readonly auth: Auth;
  private readonly sessions = new Set<Session>();
  private readonly sync: SessionSync;
  private readonly pipeline: CommandPipeline;
  private readonly fanOut: FanOut;
  private readonly tail: CommitTail;
  private readonly intake: FrameIntake;
  /** Whether the store's server answers (PostgreSQL); shown in /healthz. */
  private storeUp = true;
  private http: Server | null = null;
  private wss: WebSocketServer | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  /** Users' changes announced by the store (connections-auth.ts): their connections here close at once. */
  private userChanges: Watch | null = null;
  port = 0;

  constructor(private readonly options: BackendServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    const { state, store, clock, log } = options;
    const scopes = new AreaScopes(state);
    this.fanOut = new FanOut({ state, sessions: this.sessions, out: this, log, limits: this.limits, scopes });
    this.pipeline = new CommandPipeline({ state, store, clock, log, locate: options.locate, newId: options.newId, publish: (seq, at, changes) => this.fanOut.publish(seq, at, changes) });
    this.tail = new CommitTail({
      store,
      state,
      log,
      publish: (seq, at, changes) => this.fanOut.publish(seq, at, changes),
      reloaded: () => {
        for (const session of this.sessions) this.closeSession(session, WireCloseCode.serverShutdown, 'this instance reloaded the city: sync again');
      },
      link: (up, detail) => {
        this.storeUp = up;
        if (up) log.info('database connection is back', { detail });
        else log.warn('database connection lost: commands wait until it is back', { detail });
      },
    });
    this.auth = connectionsAuth({ store, log, sessions: this.sessions, out: this, ...(options.auth ? { limits: options.auth } : {}), ...(options.sessionEnded ? { sessionEnded: options.sessionEnded } : {}) });
    const views = new ViewAudit({ state, now: () => clock.now(), write: (entries) => this.auditLater(entries) });
    this.sync = new SessionSync({ state, store, clock, log, auth: this.auth, limits: this.limits, sessions: this.sessions, out: this, scopes, ...(options.sipAccountFor ? { sipAccountFor: options.sipAccountFor } : {}), ...(options.instance ? { instance: options.instance } : {}), ...(options.streamTicket ? { streamTicket: options.streamTicket } : {}), catchUp: () => this.tail.poke() });
    this.intake = new FrameIntake({ out: this, log, clock, limits: this.limits, sync: this.sync, pipeline: this.pipeline, views });
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

  /**
   * Closes a user's open connections (an administrator changed their rights: backend/admin-users.ts); how many
   * were open, those already closing counted too (the store's announcement of the same change may come first).
   */
  closeUser(userId: string, code: number, reason: string): number {
    const open = [...this.sessions].filter((s) => s.actor?.id === userId && s.phase !== 'closed');
    for (const s of open) this.closeSession(s, code, reason);
    return open.length;
  }

  async start(): Promise<void> {
    const log = this.options.log;
    const failed = (what: string): FailureReport => (fields, error) => log.error(`${what} failed`, { ...fields, error: describeError(error) });
    const http = createServer(
      GUARDED_HTTP_OPTIONS,
      guardHttp(failed('HTTP request'), (req, res) => {
        if (req.url === '/healthz') {
          const memory = process.memoryUsage();
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, seq: this.state.seq, store: this.storeUp ? 'up' : 'down', tailFailures: this.tail.failing, ...this.options.health?.(), sessions: this.sessions.size, serverTime: this.options.clock.now(), rss: memory.rss, heapUsed: memory.heapUsed }));
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
      guardUpgrade(failed('WebSocket upgrade'), (req, socket, head) => {
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
      http.listen(this.options.port ?? 0, '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
    // After listening, a server error (too many open files while accepting a flood) is logged, never fatal.
    http.on('error', (e) => log.error('HTTP server error', { error: e.message }));
    this.port = (http.address() as AddressInfo).port;
    this.heartbeat = setInterval(() => this.beat(), this.limits.heartbeatIntervalMs);
    this.heartbeat.unref();
    this.tail.start();
    this.auth.start();
    this.userChanges = followUserChanges({ store: this.options.store, log, sessions: this.sessions, out: this });
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
      binaryPositions: false,
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
      this.intake.receive(session, data, isBinary);
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      session.phase = 'closed';
      this.sessions.delete(session);
      session.refusals?.flush();
      if (session.actor) this.auditLater([{ at: new Date().toISOString(), userId: session.actor.id, kind: 'disconnect', detail: { session: session.id, clientId: session.clientId } }]);
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

  /** Audit lines written without waiting; a failed write is logged, never an unhandled rejection. */
  auditLater(entries: AuditEntry[]): void {
    this.options.store.audit(entries).catch((e: unknown) => this.options.log.error('audit write failed', { kinds: entries.map((e) => e.kind), error: (e as Error).message }));
  }

  send(session: Session, text: string | Buffer): void {
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

  sendError(session: Session, error: WireErrorPayload, id?: string): void {
    this.send(session, errorFrame(error, id));
  }

  refuse(session: Session, code: WireErrorPayload['code'], message: string, closeCode: number): void {
    this.sendError(session, { code, message, retryable: false });
    this.closeSession(session, closeCode, message);
  }

  /** Closes with a code and reason; input after that is dropped, and a peer that does not close is cut off. */
  closeSession(session: Session, code: number, reason: string): void {
    if (session.closing) return;
    session.closing = true;
    session.ws.close(code, closeReason(reason));
    setTimeout(() => session.ws.terminate(), 3000).unref();
  }

  // ── commands and broadcasts ──────────────────────────────────────────────────────────────────────────

  /** Runs one command through the serial pipeline (also the simulator's way in: actor "system" / "sim:*"). */
  submit(actor: Actor, commandId: string, type: string, payload: unknown, expiresAt?: string): Promise<CommandAnswer> {
    return this.pipeline.submit(actor, commandId, type, payload, expiresAt);
  }

  /** Commits the server's own changes (simulator, KPI refresh) as one batch, sequenced with the commands. */
  commitSystemChanges(build: () => Change[]): Promise<number | null> {
    return this.pipeline.commitSystemChanges(build);
  }

  /** Plans and commits one batch in the pipeline's order (see CommandPipeline.commitPlanned). */
  commitPlanned<R>(work: (state: CityState) => Promise<{ result: R; changes: Change[] | null }>): Promise<{ result: R; seq: number | null }> {
    return this.pipeline.commitPlanned(work);
  }

  /** Live positions to every live client (presence, not sequenced). */
  broadcastPositions(at: string, items: Array<{ id: string; lon: number; lat: number; status: StaffStatus; districtId: string }>, whole?: Buffer): void {
    this.fanOut.positions(at, items, whole);
  }

  /** Tells every client something (e.g. a scenario started). */
  notice(level: 'info' | 'warning', message: string): void {
    this.fanOut.notice(level, message);
  }

  async close(reason = 'server shutting down'): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.auth.stop();
    await this.userChanges?.close();
    await this.tail.close();
    for (const session of this.sessions) {
      this.send(session, encodeFrame('notice', { level: 'warning', message: reason }));
      session.ws.close(WireCloseCode.serverShutdown, reason);
    }
    // Wait for the sockets to finish closing (their handlers write audit lines) before the store closes.
    const deadline = Date.now() + 2000;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const session of this.sessions) session.ws.terminate();
    await this.pipeline.drained();
    this.wss?.close();
    this.http?.closeAllConnections();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
  }
}

