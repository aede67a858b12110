/**
 * The console's local brain: one per machine, shared by every window, plain Node (never imports electron).
 * This file only composes the hub's parts, each the one owner of its state: the replica (the backend's state,
 * cache and memory), the outbox, the connection state, the row subscriptions with the optimistic view, the
 * sessions (one per window) and the link to the backend. Data walks one way: the link hands the replica what
 * the backend sent and the outbox its answers; windows get what changed through their subscriptions.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CALL_LOG_LIMIT,
  type BuildingsLayer,
  type CallLogEntry,
  type CallLogState,
  type CityLayerName,
  type KeyPersonsAnswer,
  type RegisterLevel,
  type CommandReceipt,
  type CommandRequest,
  type ConnectionState,
  type DisplayRole,
  type EmbeddedBackendState,
  type ShowOnWallResult,
  type SipState,
  type SubscriptionUpdate,
  type WallRequest,
  type WallRequestState,
  type SignInResult,
  HubError,
  backendUrlList,
} from '../protocol';
import type { CityState } from '../domain';
import { silentLogger, type Logger } from '../node-util/logger';
import { ObservableValue } from './observable';
import { SettingsStore } from './settings-store';
import { CACHE_FILE_NAME, HubCache } from './cache/cache';
import { BackendLink } from './link';
import type { LinkOptions } from './link-ports';
import { Replica } from './replica';
import { Outbox } from './outbox';
import { Connection } from './connection';
import { Subscriptions } from './subscriptions';
import { CityLayers, type LayerSource } from './city-layers';
import { fetchKeyPersons } from './key-persons';
import { PendingViews, fetchAuditCsv, fetchAuditPage } from './audit';
import { createUser, listUsers, updateUser } from './users-admin';
import { HubSession, type SessionInfo, type SessionServices } from './sessions';
import type { OptimisticView } from './view';
import { SignIn, endSession, type SessionKeeper } from './sign-in';

export interface BackendCredentials {
  /** One address, or the instances' addresses tried in turn (failover; see link-rules.ts AddressRotation). */
  url: string | readonly string[];
  token: string;
}

export interface HubOptions {
  /** Where the hub keeps its files: settings.json and cache.sqlite. */
  dataDir: string;
  version: string;
  log?: Logger;
  /** The backend to link to (embedded or configured); without one the hub serves its cache, offline. */
  backend?: BackendCredentials | null;
  link?: Partial<Pick<LinkOptions, 'backoffBaseMs' | 'backoffMaxMs' | 'silenceLimitMs'>>;
  /** How often a subscription's changes are sent to its window at most (coalescing). */
  flushIntervalMs?: number;
  /** Keeps a password sign-in's session token across restarts (Electron's safeStorage); absent: memory only. */
  sessionKeeper?: SessionKeeper | null;
}

export class Hub {
  readonly startedAt = new Date();
  readonly settings: SettingsStore;
  readonly connection: ObservableValue<ConnectionState>;
  /** The signed-in user's SIP account from the backend (null: no SIP server, or not signed in yet). */
  readonly sipAccount: ObservableValue<SipState>;
  /** The call log, newest first (from the cache; calls are logged by the window that made or took them). */
  readonly callLog: ObservableValue<CallLogState>;
  /** The latest "show this on the wall" request, for the windows that show that wall. */
  readonly wallRequest = new ObservableValue<WallRequestState>({ seq: 0, at: this.startedAt.toISOString(), request: null, from: null, actBy: null });
  readonly log: Logger;
  readonly cache: HubCache;
  readonly clientId: string;
  private readonly replica: Replica;
  private readonly outbox: Outbox;
  private readonly status: Connection;
  private readonly rows: Subscriptions;
  private readonly layers: CityLayers;
  /** Views of events on their way to the backend's audit (audit.ts). */
  private readonly views: PendingViews;
  private readonly services: SessionServices;
  private link: BackendLink | null = null;
  private backend: BackendCredentials | null = null;
  private readonly sessions = new Set<HubSession>();
  private readonly signInState: SignIn;
  private closed = false;
  /** Starts the embedded backend again (runEmbeddedBackend sets it); null with a configured backend. */
  private backendRestart: (() => void) | null = null;

  constructor(readonly options: HubOptions) {
    this.log = options.log ?? silentLogger;
    mkdirSync(options.dataDir, { recursive: true });
    this.settings = new SettingsStore(options.dataDir, this.log);
    this.cache = new HubCache(join(options.dataDir, CACHE_FILE_NAME), this.log);
    this.callLog = new ObservableValue<CallLogState>({ entries: this.cache.recentCalls(CALL_LOG_LIMIT) });
    let clientId = this.cache.getMeta('clientId');
    if (!clientId) {
      clientId = `hub-${randomBytes(9).toString('base64url')}`;
      this.cache.setMeta('clientId', clientId);
    }
    this.clientId = clientId;
    this.replica = new Replica(this.cache, {
      confirmed: (change) => {
        this.status.confirmed(change.seq);
        this.rows.confirmedChanged(change);
      },
      positions: (payload) => this.rows.positionsArrived(payload),
    });
    this.outbox = new Outbox({
      cache: this.cache,
      log: this.log,
      now: () => this.status.serverNow(),
      queued: (frame) => this.rows.predict(frame),
      predicted: (commandId) => this.rows.predicted(commandId),
      changed: (rebase) => {
        this.status.outboxCounts(this.outbox.counts());
        this.rows.outboxChanged(rebase);
      },
      wake: () => this.link?.sendCommands(),
    });
    this.status = new Connection({
      replica: this.replica,
      startedAt: this.startedAt,
      backendUrls: backendUrlList(options.backend?.url ?? this.settings.settings.value.backendUrl),
      linking: Boolean(options.backend),
      counts: this.outbox.counts(),
      notice: this.cache.notice ?? this.settings.startupNotice,
      welcomed: () => this.rows.rebaseSoon(),
    });
    this.connection = this.status.state;
    this.signInState = new SignIn({ clientId, keeper: options.sessionKeeper ?? null, show: (signIn) => this.status.patch({ signIn }) });
    this.sipAccount = this.status.sip;
    this.rows = new Subscriptions({
      replica: this.replica,
      outbox: this.outbox,
      flushIntervalMs: options.flushIntervalMs,
      actor: () => this.status.actor(),
      serverNow: () => this.status.serverNow(),
      viewerSignedIn: () => this.connection.value.user?.role === 'viewer',
    });
    this.layers = new CityLayers(this.replica, () => this.backendSource());
    this.views = new PendingViews((view) => this.link?.sendView(view) ?? false, this.log, () => this.connection.value.user?.id ?? null);
    this.services = {
      version: options.version,
      startedAt: this.startedAt,
      log: this.log,
      settings: this.settings,
      topics: { connection: this.connection, settings: this.settings.settings, wall: this.wallRequest, sip: this.sipAccount, calls: this.callLog },
      rows: this.rows,
      outbox: this.outbox,
      cityLayer: (layer) => this.cityLayer(layer),
      keyPersons: (target, demo) => this.keyPersons(target, demo),
      readAudit: (query) => fetchAuditPage(this.backendSource(), query),
      exportAudit: (query) => fetchAuditCsv(this.backendSource(), query),
      recordView: (id, demo) => this.recordView(id, demo),
      showOnWall: (from, request) => this.showOnWall(from, request),
      logCall: (entry) => this.logCall(entry),
      restartBackend: () => this.restartBackend(),
      signIn: (user, password) => this.signIn(user, password),
      signOut: () => this.signOut(),
      listUsers: () => listUsers(this.backendSource()),
      createUser: (user) => createUser(this.backendSource(), user),
      updateUser: (id, change) => updateUser(this.backendSource(), id, change),
      forget: (session) => void this.sessions.delete(session),
    };
    if (options.backend) this.connectTo(options.backend);
  }

  /** The confirmed state (the replica's, in memory). */
  get confirmed(): CityState {
    return this.replica.confirmed;
  }

  /** What windows see: the confirmed state with the pending commands' guesses on top. */
  get view(): OptimisticView {
    return this.rows.view;
  }

  /** The link, for tests and diagnostics. */
  get backendLink(): BackendLink | null {
    return this.link;
  }

  /**
   * Links to a backend (replacing any previous link). `demo`: the embedded backend's demo user, signed in
   * automatically with its static token (the windows say so).
   */
  connectTo(backend: BackendCredentials, how: { session?: boolean; demo?: boolean } = {}): void {
    this.link?.stop();
    this.backend = backend;
    if (!how.session) this.status.patch({ signIn: { state: 'token', demo: how.demo === true, expiresAt: null } });
    const urls = backendUrlList(backend.url);
    this.status.patch({ backendUrl: urls[0] ?? null, backendUrls: urls, instance: null, status: 'connecting', lastError: null });
    this.link = new BackendLink({
      urls,
      token: backend.token,
      clientId: this.clientId,
      replica: this.replica,
      outbox: this.outbox,
      log: this.log,
      ...this.options.link,
      callbacks: {
        state: (patch) => {
          this.status.linkState(patch);
          if (patch.status === 'online') this.views.flush();
        },
        notice: (message) => this.status.patch({ notice: { code: 'backend', keptAs: null, detail: message } }),
        sessionEnded: () => this.signInState.forget('expired'),
      },
    });
    this.link.start();
  }

  /**
   * A configured backend without a static token: the kept session (Electron) if there is one, else the
   * windows ask for a sign-in (the picture from the cache stays behind it).
   */
  requireSignIn(url: string | readonly string[]): void {
    const kept = this.signInState.kept;
    if (kept) {
      this.status.patch({ signIn: { state: 'signed-in', demo: false, expiresAt: null } });
      return this.connectTo({ url, token: kept }, { session: true });
    }
    this.backend = { url, token: '' };
    this.unavailable(url, 'sign-in-required', 'nobody is signed in at this console');
    this.status.patch({ signIn: { state: 'required', demo: false, expiresAt: null } });
  }

  /** Signs the console in with a password (sign-in.ts); linked as that user once the backend says yes. */
  async signIn(user: string, password: string): Promise<SignInResult> {
    const urls = backendUrlList(this.backend?.url ?? this.settings.settings.value.backendUrl);
    const { result, token, replaced } = await this.signInState.signIn(urls, user, password, (userId) => this.seatSwitchRefusal(userId));
    if (token) this.connectTo({ url: this.backend?.url ?? urls, token }, { session: true });
    // A seat switch: the outgoing officer's session ends at the backend (after the link moved to the new one).
    if (replaced) await endSession(replaced.url, replaced.token);
    return result;
  }

  /**
   * A seat switch while the outbox still holds commands queued by the previous user (the last one the backend
   * welcomed): refused, so that none of them goes out in the incoming user's name; they are sent (the previous
   * user signs in again) or discarded first. The same user signing in again (an expired session) is welcome.
   */
  private seatSwitchRefusal(userId: string): SignInResult | null {
    const previous = this.connection.value.user;
    const pending = this.outbox.size;
    if (!previous || previous.id === userId || pending === 0) return null;
    return {
      ok: false,
      reason: 'outbox-pending',
      message: `${pending} command(s) queued by ${previous.name} (${previous.id}) are not sent yet: send them (sign in as ${previous.id}) or discard them first`,
      lockedUntil: null,
      pendingCommands: pending,
    };
  }

  /** Signs the console's user out: the session ends at the backend, the link closes, the cache stays. */
  async signOut(): Promise<void> {
    const url = this.link?.url ?? null;
    const backend = this.backend;
    this.link?.stop();
    this.link = null;
    await this.signInState.signOut(url);
    if (backend) this.backend = { url: backend.url, token: '' };
    this.status.linkState({ status: 'offline', reconnectAttempt: 0, nextRetryAt: null, lastError: { code: 'signed-out', message: 'signed out: nobody is signed in at this console' } });
  }

  /** No backend can be linked (none configured, no login, embedded one failed): offline, with the reason. */
  unavailable(backendUrl: string | readonly string[] | null, code: string, message: string, extra: Partial<ConnectionState> = {}): void {
    this.link?.stop();
    this.link = null;
    const urls = backendUrlList(backendUrl);
    // As for a link that dropped: `since` and the last sync move, and the stopped link's retry plan is gone.
    this.status.linkState({ status: 'offline', reconnectAttempt: 0, nextRetryAt: null, lastError: { code, message } }, { backendUrl: urls[0] ?? null, backendUrls: urls, instance: null, ...extra });
  }

  /**
   * The embedded backend's supervisor state (see backend-supervisor.ts), shown with the connection. A failed
   * start or an exit takes the link down at once, with the reason, rather than leaving it to find out.
   */
  setEmbeddedBackend(state: EmbeddedBackendState): void {
    const error = state.lastError;
    if ((state.state === 'retrying' || state.state === 'failed') && error) {
      this.unavailable(null, 'embedded-failed', `${error.code}: ${error.message}`, { embeddedBackend: state });
    } else this.status.patch({ embeddedBackend: state });
  }

  setBackendRestart(restart: (() => void) | null): void {
    this.backendRestart = restart;
  }

  /** A person's 重试: the embedded backend starts again now. */
  restartBackend(): void {
    if (!this.backendRestart) throw new HubError('unavailable', 'this console links to a configured backend: there is no embedded backend to start');
    this.backendRestart();
  }

  /** The linked backend's address now and its token (null: none linked). */
  private backendSource(): LayerSource | null {
    if (!this.backend?.token) return null;
    const urls = backendUrlList(this.backend.url);
    return { url: this.link?.url ?? urls[0]!, urls, token: this.backend.token };
  }

  /** The 重点人员 register of one area (key-persons.ts): from the backend each time, never cached. */
  keyPersons(target: { level: RegisterLevel; id: string }, demo = false): Promise<KeyPersonsAnswer> {
    return fetchKeyPersons(this.backendSource(), target, demo);
  }

  /**
   * A window opened event `id` (audit.ts): told to the backend, which audits the view. Personal data counts as
   * shown when the event has a reporter and the window sees it unmasked (not a demo screen nor a viewer account).
   */
  recordView(id: string, demo = false): void {
    const event = this.rows.view.get('events', id);
    if (!event) throw new HubError('not-found', `没有这个事件：${id} / no event ${id}`);
    const masked = demo || this.connection.value.user?.role === 'viewer';
    this.views.add({ what: 'event', id, personal: !masked && event.reporter !== null, openedAt: new Date().toISOString() });
  }

  /** A static city layer (city-layers.ts). */
  cityLayer(layer: CityLayerName): Promise<BuildingsLayer> {
    return this.layers.get(layer);
  }

  /** Server time now, from the last welcome's clock (the backend may run faster than real time). */
  serverNow(): Date {
    return this.status.serverNow();
  }

  // ── commands (the outbox checks and queues them; these are for in-process callers) ───────────────────

  submitCommand(request: CommandRequest): CommandReceipt {
    return this.outbox.submit(request);
  }

  retryCommand(commandId: string): CommandReceipt {
    return this.outbox.retry(commandId);
  }

  discardCommand(commandId: string): void {
    this.outbox.discard(commandId);
  }

  // ── windows ──────────────────────────────────────────────────────────────────────────────────────────

  openSession(info: SessionInfo, push: (update: SubscriptionUpdate) => void): HubSession {
    const session = new HubSession(this.services, info, push);
    this.sessions.add(session);
    this.log.info('session opened', { bridge: info.bridge, label: info.label, displayRole: info.displayRole });
    return session;
  }

  /** Passes a wall request to every window; answers how many other windows show that wall. */
  showOnWall(from: HubSession, request: WallRequest): ShowOnWallResult {
    const seq = this.wallRequest.value.seq + 1;
    const others = [...this.sessions].filter((session) => session !== from);
    const count = (role: DisplayRole): number => others.filter((session) => session.info.displayRole === role).length;
    // A call goes to the desk's phone; with no desk open, a single-window console's.
    const actBy: DisplayRole = request.wall === 'dispatch' && count('dispatch') === 0 && count('combined') > 0 ? 'combined' : request.wall;
    this.wallRequest.set({ seq, at: new Date().toISOString(), request, from: from.info.displayRole, actBy });
    return { walls: count(actBy) };
  }

  logCall(entry: CallLogEntry): void {
    this.cache.addCall(entry, CALL_LOG_LIMIT);
    if (this.callLog.value.entries.some((e) => e.id === entry.id)) return;
    this.callLog.set({ entries: [entry, ...this.callLog.value.entries].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, CALL_LOG_LIMIT) });
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Live subscriptions of all windows together (GET /healthz on the browser host reports it). */
  get subscriptionCount(): number {
    let count = 0;
    for (const session of this.sessions) count += session.subscriptionCount;
    return count;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const session of [...this.sessions]) session.close();
    this.link?.stop();
    this.rows.close();
    this.replica.close();
    this.cache.close();
  }
}
