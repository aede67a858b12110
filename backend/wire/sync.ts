/**
 * The handshake and bringing a client up to date: hello (token, version, one connection per client id, a
 * limit per user), then the missed deltas, a snapshot or the rest of an interrupted one, then the deltas
 * committed meanwhile, then live. Snapshots are encoded once per scope and seq and kept a while for resuming.
 */
import { randomBytes } from 'node:crypto';
import {
  COLLECTIONS,
  HelloPayload,
  MAX_FRAME_BYTES,
  POSITIONS_BINARY,
  SNAPSHOT_CHUNK_TARGET_BYTES,
  WIRE_PROTOCOL_VERSION,
  WireCloseCode,
  describeIssues,
  encodeFrame,
  utf8ByteLength,
  validate,
  type DeltaPayload,
  type BackendInstance,
  type Envelope,
  type SipAccount,
  type WelcomePayload,
} from '../../protocol';
import type { CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import type { SimClock } from '../clock';
import type { BackendStore } from '../store/types';
import type { Auth } from '../auth/sessions';
import { reportMisuse } from '../auth/api-keys';
import { wrongApp, wrongAppAudit } from '../auth/apps';
import { RefusalAudit } from './flow-control';
import { deltaFrames, fits } from './frames-out';
import type { ServerLimits } from './limits';
import type { ClientOutput, Session } from './session';
import { scopeKeyOf, syncStampOf, type AreaScopes } from './scopes';
import { hashToken } from '../users';

interface CachedSnapshot {
  id: string;
  seq: number;
  scopeKey: string;
  chunks: string[]; // encoded snapshot.chunk frames
  counts: Record<string, number>;
  createdAt: number;
}

export interface SyncOptions {
  state: CityState;
  store: BackendStore;
  /** What a hello's token is: a static token, a live sign-in session (renewed), or one that ended. */
  auth: Auth;
  clock: SimClock;
  log: Logger;
  limits: ServerLimits;
  sessions: ReadonlySet<Session>;
  out: ClientOutput;
  scopes: AreaScopes;
  sipAccountFor?: (userId: string) => SipAccount | null;
  /** Which instance this is, told in every welcome (absent: the welcome does not say). */
  instance?: BackendInstance;
  /** The viewer ticket of a connection, from its token's hash (video/viewer-tickets.ts); absent: none is sent. */
  streamTicket?: (tokenHash: string) => string;
  /**
   * Brings this instance up to what is committed (another instance's commits not read yet): a console that was
   * on an instance a little ahead resumes by deltas here, not by a snapshot.
   */
  catchUp?: () => Promise<void>;
}

export class SessionSync {
  private readonly snapshots = new Map<string, CachedSnapshot>();
  /** Refusal audits per user (sampled across all their connections). */
  private readonly refusalAudits = new Map<string, RefusalAudit>();

  constructor(private readonly o: SyncOptions) {}

  async hello(session: Session, frame: Envelope): Promise<void> {
    const { out, store, limits, state } = this.o;
    const hello = validate(HelloPayload, frame.payload);
    if (!hello.ok) return out.refuse(session, 'invalid', `bad hello: ${describeIssues(hello.issues)}`, WireCloseCode.protocolError);
    const h = hello.value;
    // Audit lines carry the wall clock (the city's clock may be simulated).
    const at = new Date().toISOString();
    if (h.protocolVersion !== WIRE_PROTOCOL_VERSION) {
      return out.refuse(session, 'unsupported-version', `client speaks protocol ${h.protocolVersion}, this server speaks ${WIRE_PROTOCOL_VERSION}`, WireCloseCode.unsupportedVersion);
    }
    const checked = await this.o.auth.check(h.token);
    if (checked && 'ended' in checked) {
      await store.audit([{ at, userId: checked.ended.userId, kind: 'login-refused', detail: { clientId: h.clientId, remote: session.remote, reason: 'session-ended', why: checked.why } }]);
      const said = checked.why === 'sign-out' ? '已退出登录' : checked.why === 'disabled' ? '账号已停用' : '已过期';
      return out.refuse(session, 'session-expired', `登录会话已结束（${said}），请重新登录 / the sign-in session ended (${checked.why}): sign in again`, WireCloseCode.sessionExpired);
    }
    if (!checked) {
      // A source system's API key is no console token: refused the same, and audited as such.
      await reportMisuse(store, h.token, 'wire hello', session.remote);
      await store.audit([{ at, userId: null, kind: 'login-refused', detail: { clientId: h.clientId, remote: session.remote } }]);
      return out.refuse(session, 'unauthorized', 'unknown or revoked token', WireCloseCode.unauthorized);
    }
    const user = checked.user;
    // A field or department-liaison account's session is no console's (backend/auth/apps.ts).
    const wrong = wrongApp(user.role, 'console');
    if (wrong) {
      await store.audit([{ at, ...wrongAppAudit(user.id, 'console', wrong.app, { clientId: h.clientId, remote: session.remote, via: 'wire' }) }]);
      return out.refuse(session, 'forbidden', wrong.message, WireCloseCode.unauthorized);
    }
    if (checked.sessionHash) session.signInSession = checked.sessionHash;
    if (session.phase !== 'handshake') return; // closed meanwhile
    // One connection per client id: a reconnecting client replaces its stale connection.
    let sameUser = 0;
    for (const other of this.o.sessions) {
      if (other === session || other.phase === 'closed') continue;
      if (other.clientId === h.clientId) out.closeSession(other, WireCloseCode.replaced, 'replaced by a newer connection from the same client');
      else if (other.actor?.id === user.id) sameUser++;
    }
    if (sameUser >= limits.connectionsPerUser) {
      out.auditLater([{ at, userId: user.id, kind: 'login-refused', detail: { clientId: h.clientId, remote: session.remote, reason: 'too-many-connections', limit: limits.connectionsPerUser } }]);
      return out.refuse(session, 'rate-limited', `user ${user.id} already has ${sameUser} connections open (limit ${limits.connectionsPerUser})`, WireCloseCode.rateLimited);
    }
    session.clientId = h.clientId;
    session.binaryPositions = h.accept?.includes(POSITIONS_BINARY) ?? false;
    session.actor = { id: user.id, name: user.name, role: user.role, districtScope: user.districtScope, console: h.clientName ?? h.clientId };
    session.phase = 'syncing';
    let refusals = this.refusalAudits.get(user.id);
    if (!refusals) this.refusalAudits.set(user.id, (refusals = new RefusalAudit((entries) => out.auditLater(entries), () => ({ realMs: Date.now(), at: new Date().toISOString() }), user.id)));
    session.refusals = refusals;
    await store.audit([{ at, userId: user.id, kind: 'login', detail: { clientId: h.clientId, clientName: h.clientName ?? null, remote: session.remote, lastSeq: h.lastSeq } }]);

    if (h.lastSeq !== null && h.lastSeq > state.seq) await this.o.catchUp?.();
    if (session.phase !== 'syncing') return; // closed meanwhile
    const scopeKey = scopeKeyOf(user.districtScope);
    const cached = h.resumeSnapshot ? this.snapshots.get(h.resumeSnapshot.snapshotId) : undefined;
    let sync: WelcomePayload['sync'];
    let catchUp: DeltaPayload[] | null = null;
    if (cached && cached.scopeKey === scopeKey && h.resumeSnapshot!.nextIndex <= cached.chunks.length) {
      sync = 'resume-snapshot';
    } else if (h.lastSeq !== null && h.lastSeq <= state.seq && h.syncStamp === syncStampOf(scopeKey)) {
      const batches = h.lastSeq === state.seq ? [] : await store.changesSince(h.lastSeq, limits.maxCatchUpBatches + 1);
      if (batches && batches.length <= limits.maxCatchUpBatches) {
        catchUp = batches.map((b) => ({ seq: b.seq, at: b.at, changes: b.changes }));
        sync = 'deltas';
      } else sync = 'snapshot';
    } else {
      // No cursor, a cursor from the future (the server's database was replaced), or records synced under another
      // area (the administrator changed it since, here, on another instance or by the command line): start over.
      sync = 'snapshot';
    }
    const welcome: WelcomePayload = {
      sessionId: session.id,
      user: { id: user.id, name: user.name, role: user.role },
      districtScope: user.districtScope,
      areaScope: this.o.scopes.describe(user.districtScope),
      serverTime: this.o.clock.now().toISOString(),
      clockRate: this.o.clock.rate,
      currentSeq: state.seq,
      sync,
      heartbeatIntervalMs: limits.heartbeatIntervalMs,
      limits: { maxFrameBytes: MAX_FRAME_BYTES, commandsPerSecond: limits.commandsPerSecond, framesPerSecond: limits.framesPerSecond },
      sip: this.o.sipAccountFor?.(user.id) ?? null,
      ...(this.o.instance ? { instance: { id: this.o.instance.id, name: this.o.instance.name } } : {}),
      syncStamp: syncStampOf(scopeKey),
      ...(this.o.streamTicket ? { streamTicket: this.o.streamTicket(checked.sessionHash ?? hashToken(h.token)) } : {}),
    };
    out.send(session, encodeFrame('welcome', welcome, frame.id));
    this.o.log.info('client connected', { session: session.id, user: user.id, clientId: h.clientId, sync, lastSeq: h.lastSeq, seq: state.seq, positions: session.binaryPositions ? 'binary' : 'json' });

    let upTo: number;
    if (sync === 'deltas') {
      // Paced by the socket like a snapshot: hours of catch-up must not pile up unread (the server cuts that off).
      for (const delta of catchUp!) {
        for (const text of deltaFrames(this.o.scopes.delta(delta, user.districtScope), this.o.log)) out.send(session, text);
        await drained(session);
      }
      upTo = catchUp!.at(-1)?.seq ?? h.lastSeq!;
    } else {
      const snapshot = sync === 'resume-snapshot' ? cached! : this.snapshotFor(scopeKey, user.districtScope);
      const fromIndex = sync === 'resume-snapshot' ? h.resumeSnapshot!.nextIndex : 0;
      upTo = await this.streamSnapshot(session, snapshot, fromIndex);
    }
    // Deltas committed while this client was syncing, newer than what it got, then live.
    // Sent as they come, so the fan-out can go on appending; the phase turns live only once none is left.
    while (session.held.length > 0 && session.phase === 'syncing') {
      const delta = session.held.shift()!;
      if (delta.seq > upTo) for (const text of deltaFrames(delta, this.o.log)) out.send(session, text);
      await drained(session);
    }
    if (session.phase === 'syncing') session.phase = 'live';
  }

  private snapshotFor(scopeKey: string, scope: string[] | null): CachedSnapshot {
    const state = this.o.state;
    for (const s of this.snapshots.values()) if (s.scopeKey === scopeKey && s.seq === state.seq) return s;
    const id = `snap-${state.seq}-${randomBytes(4).toString('hex')}`;
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
      for (const item of state.all(collection)) {
        if (!this.o.scopes.visible(scope, collection, item)) continue;
        // Within the frame limit by construction: a record larger than a frame is left out (and logged).
        const json = JSON.stringify(this.o.scopes.outgoing(scope, collection, item));
        if (!fits(collection, (item as { id: string }).id, json, this.o.log)) continue;
        const size = utf8ByteLength(json);
        if (bytes + size > SNAPSHOT_CHUNK_TARGET_BYTES && items.length > 0) flush();
        items.push(json);
        bytes += size + 1;
        counts[collection]++;
      }
      if (items.length > 0) flush();
    }
    const snapshot: CachedSnapshot = { id, seq: state.seq, scopeKey, chunks, counts, createdAt: Date.now() };
    // Keep a few recent snapshots for resumption: drop expired ones, then the oldest beyond eight.
    for (const [key, old] of this.snapshots) if (Date.now() - old.createdAt > 10 * 60_000) this.snapshots.delete(key);
    while (this.snapshots.size >= 8) this.snapshots.delete(this.snapshots.keys().next().value!);
    this.snapshots.set(id, snapshot);
    return snapshot;
  }

  /** Sends the chunks with backpressure; returns the seq the snapshot reflects. */
  private async streamSnapshot(session: Session, snapshot: CachedSnapshot, fromIndex: number): Promise<number> {
    const out = this.o.out;
    out.send(session, encodeFrame('snapshot.begin', { snapshotId: snapshot.id, seq: snapshot.seq, chunkCount: snapshot.chunks.length, counts: snapshot.counts, fromIndex }));
    const isOpen = (): boolean => session.phase !== 'closed';
    for (let i = fromIndex; i < snapshot.chunks.length && isOpen(); i++) {
      out.send(session, snapshot.chunks[i]!);
      await drained(session);
    }
    out.send(session, encodeFrame('snapshot.end', { snapshotId: snapshot.id, seq: snapshot.seq }));
    return snapshot.seq;
  }
}


/** Waits while the client has more than two chunks unread (a sync is paced by how fast the client reads). */
async function drained(session: Session): Promise<void> {
  while (session.ws.bufferedAmount > 2 * SNAPSHOT_CHUNK_TARGET_BYTES && session.phase !== 'closed') await new Promise((r) => setTimeout(r, 5));
}
