/**
 * The truth about the backend link, with one owner: the connection state every window shows in its status bar
 * (status, since when, retries, errors, user, server clock, last seq and sync, outbox counts, the embedded
 * backend) and the signed-in user's SIP account. The link's reports, the replica's progress and the outbox's
 * counts come in here; the rest of the hub reads the actor and the server clock from it.
 */
import { serverNowMs, type ConnectionState, type HubNotice, type SipState } from '../protocol';
import type { Actor } from '../domain';
import { ObservableValue } from './observable';
import type { LinkStatePatch } from './link-ports';
import type { Replica } from './replica';

export interface ConnectionOptions {
  replica: Replica;
  startedAt: Date;
  /** The backend's addresses, when one is given at start (the first is tried first). */
  backendUrls: string[];
  linking: boolean;
  counts: { pending: number; rejected: number };
  notice: HubNotice | null;
  /** A welcome arrived (a new user, scope or clock: the guesses are made again). */
  welcomed(): void;
}

export class Connection {
  readonly state: ObservableValue<ConnectionState>;
  /** The signed-in user's SIP account from the backend (null: no SIP server, or not signed in yet). */
  readonly sip = new ObservableValue<SipState>({ account: null });
  private lastSyncedWrite = 0;

  constructor(private readonly o: ConnectionOptions) {
    const known = o.replica.knownUser();
    const lastSyncedAt = o.replica.lastSyncedAt;
    this.state = new ObservableValue<ConnectionState>({
      status: o.linking ? 'connecting' : 'offline',
      // Offline since the cache was last in step with the backend (a cold start shows how old the picture is).
      since: lastSyncedAt ?? o.startedAt.toISOString(),
      backendUrl: o.backendUrls[0] ?? null,
      backendUrls: o.backendUrls,
      instance: null,
      pendingCommands: o.counts.pending,
      rejectedCommands: o.counts.rejected,
      reconnectAttempt: 0,
      nextRetryAt: null,
      lastError: o.linking ? null : { code: 'no-backend', message: 'no backend configured or started' },
      commandLevel: o.replica.confirmed.get('commandLevel', 'current')?.level ?? null,
      user: known ? { id: known.id, name: known.name, role: known.role } : null,
      districtScope: known?.districtScope ?? null,
      areaScope: known?.areaScope ?? null,
      streamTicket: null,
      serverClock: null,
      lastSeq: o.replica.lastSeq,
      lastSyncedAt,
      notice: o.notice,
      embeddedBackend: null,
      signIn: { state: 'token', demo: false, expiresAt: null },
    });
  }

  get value(): ConnectionState {
    return this.state.value;
  }

  patch(patch: Partial<ConnectionState>): void {
    this.state.set({ ...this.state.value, ...patch });
  }

  /** What the link reports (and `extra`, facts the hub adds, e.g. why no link is possible). */
  linkState(patch: LinkStatePatch, extra: Partial<ConnectionState> = {}): void {
    const current = this.state.value;
    const next: Partial<ConnectionState> = {};
    if (patch.status) {
      next.status = patch.status;
      const wasOnline = current.status === 'online';
      const isOnline = patch.status === 'online';
      if (wasOnline !== isOnline) next.since = new Date().toISOString();
      if (isOnline) next.lastSyncedAt = this.markSynced(true);
      if (wasOnline && !isOnline) {
        this.markSynced(true);
        // The link went: which instance answers next (behind a load balancer, maybe another) is not known yet.
        next.instance = null;
      }
    }
    // Another address: the instance that answered on the last one is no longer the one we are on.
    if (patch.url !== undefined && patch.url !== current.backendUrl) {
      next.backendUrl = patch.url;
      next.instance = null;
    }
    if (patch.reconnectAttempt !== undefined) next.reconnectAttempt = patch.reconnectAttempt;
    if (patch.nextRetryAt !== undefined) next.nextRetryAt = patch.nextRetryAt;
    if (patch.lastError !== undefined) next.lastError = patch.lastError;
    if (patch.welcome) {
      const w = patch.welcome;
      next.user = w.user;
      next.districtScope = w.districtScope;
      next.areaScope = w.areaScope ?? null;
      next.streamTicket = w.streamTicket ?? null;
      next.instance = w.instance ?? null;
      next.serverClock = { serverTime: w.serverTime, localTime: new Date().toISOString(), clockRate: w.clockRate };
      // Memory only: the password is never written to the cache (a new one comes with every login).
      this.sip.set({ account: w.sip ?? null });
      this.o.welcomed();
    }
    this.patch({ ...next, ...extra });
  }

  /** The replica moved to `seq`: the level it holds now, and (while online) the cache is in step. */
  confirmed(seq: number): void {
    const level = this.o.replica.confirmed.get('commandLevel', 'current')?.level ?? null;
    const patch: Partial<ConnectionState> = { lastSeq: seq };
    if (level !== this.state.value.commandLevel) patch.commandLevel = level;
    if (this.state.value.status === 'online') patch.lastSyncedAt = this.markSynced();
    this.patch(patch);
  }

  outboxCounts(counts: { pending: number; rejected: number }): void {
    this.patch({ pendingCommands: counts.pending, rejectedCommands: counts.rejected });
  }

  private markSynced(force = false): string {
    const now = new Date().toISOString();
    if (force || Date.now() - this.lastSyncedWrite > 5000) {
      this.o.replica.recordSynced(now);
      this.lastSyncedWrite = Date.now();
    }
    return now;
  }

  actor(): Actor | null {
    const { user, districtScope } = this.state.value;
    return user ? { id: user.id, name: user.name, role: user.role, districtScope } : null;
  }

  /** Server time now, from the last welcome's clock (the backend may run faster than real time). */
  serverNow(): Date {
    return new Date(serverNowMs(this.state.value.serverClock));
  }
}
