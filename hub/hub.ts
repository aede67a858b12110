/**
 * The console's local brain: one per machine, shared by every window, plain Node (never imports electron).
 * This file only composes the hub's parts, each the one owner of its state: the replica (the backend's state,
 * cache and memory), the outbox, the connection state, the row subscriptions with the optimistic view, the
 * sessions (one per window) and the link to the backend (which one, as whom: backend-access.ts). Data walks one way: the link hands the replica what
 * the backend sent and the outbox its answers; windows get what changed through their subscriptions.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
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
import { MASKED_ROLES, type CityState } from '../domain';
import { silentLogger, type Logger } from '../node-util/logger';
import { ObservableValue } from './observable';
import { SettingsStore } from './settings-store';
import { CACHE_FILE_NAME, HubCache } from './cache/cache';
import type { BackendLink } from './link';
import type { LinkOptions } from './link-ports';
import { BackendAccess, type BackendCredentials } from './backend-access';
import { Replica } from './replica';
import { Outbox } from './outbox';
import { CallLog } from './call-log';
import { Connection } from './connection';
import { Subscriptions, type SubscriptionsOptions } from './subscriptions';
import { ReplaySession } from './replay/session';
import { historyReads } from './replay/fetch';
import { CityLayers, type LayerSource } from './city-layers';
import { fetchKeyPersons } from './key-persons';
import { PendingViews, fetchAuditCsv, fetchAuditPage } from './audit';
import { AttachmentCache } from './attachments';
import { createUser, listUsers, updateUser } from './users-admin';
import { createApiKey, listApiKeys, revokeApiKey } from './api-keys-admin';
import { HubSession, type SessionInfo, type SessionServices } from './sessions';
import { WallLayouts } from './wall-layouts';
import type { OptimisticView } from './view';
import type { SessionKeeper } from './sign-in';

/** Which window sounds the alarms: the first kind open, in this order (hub.electVoice). */
const VOICE_ORDER: readonly DisplayRole[] = ['dispatch', 'combined', 'map', 'kpi', 'video'];

export type { BackendCredentials };

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
  /** The window that sounds the alarms (electVoice). */
  private readonly alarmVoice = new ObservableValue<{ session: HubSession | null; windows: number }>({ session: null, windows: 0 });
  /** The windows listening for the voice (their alarm bar is up), with how many subscriptions each holds. */
  private readonly voiceListeners = new Map<HubSession, number>();
  /** The latest "show this on the wall" request, for the windows that show that wall. */
  readonly wallRequest = new ObservableValue<WallRequestState>({ seq: 0, at: this.startedAt.toISOString(), request: null, from: null, actBy: null });
  readonly log: Logger;
  readonly cache: HubCache;
  readonly clientId: string;
  /** Attachments for the windows, fetched from the backend and kept for offline viewing (attachments.ts). */
  readonly attachments: AttachmentCache;
  private readonly replica: Replica;
  private readonly outbox: Outbox;
  /** The call log: kept here, sent to the backend (call-log.ts). */
  private readonly calls: CallLog;
  private readonly status: Connection;
  private readonly rows: Subscriptions;
  /** 复盘回放: the console's one replay, every window following it (replay/session.ts). */
  readonly replay: ReplaySession;
  private readonly layers: CityLayers;
  /** Views of events on their way to the backend's audit (audit.ts). */
  private readonly views: PendingViews;
  private readonly services: SessionServices;
  /** Which backend the hub links to, and as whom (backend-access.ts). */
  private readonly access: BackendAccess;
  private readonly sessions = new Set<HubSession>();
  private closed = false;

  constructor(readonly options: HubOptions) {
    this.log = options.log ?? silentLogger;
    mkdirSync(options.dataDir, { recursive: true });
    this.settings = new SettingsStore(options.dataDir, this.log);
    this.cache = new HubCache(join(options.dataDir, CACHE_FILE_NAME), this.log);
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
        this.replay.liveChanged();
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
      wake: () => this.access.link?.sendCommands(),
    });
    this.calls = new CallLog({ cache: this.cache, submit: (request) => this.outbox.submit(request), connection: () => this.connection.value, log: this.log });
    this.callLog = this.calls.state;
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
    this.sipAccount = this.status.sip;
    const rowsOptions: Omit<SubscriptionsOptions, 'replica' | 'outbox'> = {
      flushIntervalMs: options.flushIntervalMs,
      actor: () => this.status.actor(),
      serverNow: () => this.status.serverNow(),
      viewerSignedIn: () => { const role = this.connection.value.user?.role; return role !== undefined && MASKED_ROLES.has(role); },
    };
    this.rows = new Subscriptions({ ...rowsOptions, replica: this.replica, outbox: this.outbox });
    this.replay = new ReplaySession({ live: () => this.replica.confirmed, reads: historyReads(() => this.backendSource()), cityNow: () => this.status.serverNow().getTime(), rows: rowsOptions, reroute: () => { for (const s of this.sessions) s.reroute(); }, log: this.log });
    this.replay.endOnUserChange(this.connection);
    this.layers = new CityLayers(this.replica, () => this.backendSource());
    this.attachments = new AttachmentCache({
      db: this.cache.db,
      backend: () => this.backendSource(),
      maxBytes: () => this.settings.settings.value.attachmentCacheMiB * 1024 * 1024,
      viewer: () => {
        const user = this.connection.value.user;
        return { userId: user?.id ?? null, masked: user !== null && user !== undefined && MASKED_ROLES.has(user.role) };
      },
      log: this.log,
    });
    this.views = new PendingViews((view) => this.access.link?.sendView(view) ?? false, this.log, () => this.connection.value.user?.id ?? null);
    this.access = new BackendAccess({
      clientId,
      replica: this.replica,
      outbox: this.outbox,
      status: this.status,
      views: this.views,
      log: this.log,
      ...(options.link ? { link: options.link } : {}),
      sessionKeeper: options.sessionKeeper ?? null,
      configuredUrl: () => this.settings.settings.value.backendUrl,
    });
    this.services = {
      version: options.version,
      startedAt: this.startedAt,
      log: this.log,
      settings: this.settings,
      topics: { connection: this.connection, settings: this.settings.settings, wall: this.wallRequest, sip: this.sipAccount, calls: this.callLog, replay: this.replay.state },
      voice: this.alarmVoice,
      voiceListening: (session, on) => {
        const n = (this.voiceListeners.get(session) ?? 0) + (on ? 1 : -1);
        if (n > 0) this.voiceListeners.set(session, n);
        else this.voiceListeners.delete(session);
        this.electVoice();
      },
      rows: this.rows,
      replay: this.replay,
      outbox: this.outbox,
      cityLayer: (layer) => this.cityLayer(layer),
      keyPersons: (target, demo) => this.keyPersons(target, demo),
      readAudit: (query) => fetchAuditPage(this.backendSource(), query),
      exportAudit: (query) => fetchAuditCsv(this.backendSource(), query),
      recordView: (id, demo, summary) => this.recordView(id, demo, summary),
      showOnWall: (from, request) => this.showOnWall(from, request),
      logCall: (entry) => this.logCall(entry),
      walls: new WallLayouts(this.cache.db, this.log),
      restartBackend: () => this.restartBackend(),
      signIn: (user, password) => this.signIn(user, password),
      signOut: () => this.signOut(),
      listUsers: () => listUsers(this.backendSource()),
      createUser: (user) => createUser(this.backendSource(), user),
      updateUser: (id, change) => updateUser(this.backendSource(), id, change),
      listApiKeys: () => listApiKeys(this.backendSource()),
      createApiKey: (key) => createApiKey(this.backendSource(), key),
      revokeApiKey: (id) => revokeApiKey(this.backendSource(), id),
      forget: (session) => {
        this.sessions.delete(session);
        this.voiceListeners.delete(session);
        this.electVoice();
      },
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
    return this.access.link;
  }

  // ── the backend linked, and as whom (backend-access.ts) ──────────────────────────────────────────────

  /**
   * Links to a backend (replacing any previous link). `demo`: the embedded backend's demo user, signed in
   * automatically with its static token (the windows say so).
   */
  connectTo(backend: BackendCredentials, how: { session?: boolean; demo?: boolean } = {}): void {
    this.access.connectTo(backend, how);
  }

  /** A configured backend without a static token: the kept session (Electron), else the windows ask for a sign-in. */
  requireSignIn(url: string | readonly string[]): void {
    this.access.requireSignIn(url);
  }

  /** Signs the console in with a password; refused while the previous user's commands wait in the outbox. */
  signIn(user: string, password: string): Promise<SignInResult> {
    return this.access.signIn(user, password);
  }

  /** Signs the console's user out: the session ends at the backend, the link closes, the cache stays. */
  signOut(): Promise<void> {
    return this.access.signOut();
  }

  /** No backend can be linked (none configured, no login, embedded one failed): offline, with the reason. */
  unavailable(backendUrl: string | readonly string[] | null, code: string, message: string, extra: Partial<ConnectionState> = {}): void {
    this.access.unavailable(backendUrl, code, message, extra);
  }

  /** The embedded backend's supervisor state, shown with the connection (a failure takes the link down). */
  setEmbeddedBackend(state: EmbeddedBackendState): void {
    this.access.setEmbeddedBackend(state);
  }

  setBackendRestart(restart: (() => void) | null): void {
    this.access.setBackendRestart(restart);
  }

  /** A person's 重试: the embedded backend starts again now. */
  restartBackend(): void {
    this.access.restartBackend();
  }

  private backendSource(): LayerSource | null {
    return this.access.source();
  }

  /** The 重点人员 register of one area (key-persons.ts): from the backend each time, never cached. */
  keyPersons(target: { level: RegisterLevel; id: string }, demo = false): Promise<KeyPersonsAnswer> {
    return fetchKeyPersons(this.backendSource(), target, demo);
  }

  /**
   * A window opened event `id` (audit.ts): told to the backend, which audits the view. Personal data counts as
   * shown when the event has a reporter and the window sees it unmasked (not a demo screen nor a viewer or inspector account)
   * in its detail (a map card, `summary`, shows no reporter).
   */
  recordView(id: string, demo = false, summary = false): void {
    const event = this.rows.view.get('events', id);
    if (!event) throw new HubError('not-found', `没有这个事件：${id} / no event ${id}`);
    const role = this.connection.value.user?.role;
    const masked = demo || summary || (role !== undefined && MASKED_ROLES.has(role));
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

  /**
   * One window sounds the console's alarms: of the windows whose alarm bar listens (a bridge or a window that failed
   * to start never does), the desk, else a single-window console, else a map, KPI or video wall (a demo screen only
   * when nothing else listens); the oldest of its kind. Elected again as windows come, go or crash.
   */
  private electVoice(): void {
    const rank = (s: HubSession): number => (s.info.demo ? VOICE_ORDER.length : 0) + VOICE_ORDER.indexOf(s.info.displayRole);
    let best: HubSession | null = null;
    for (const s of this.sessions) if (this.voiceListeners.has(s) && (best === null || rank(s) < rank(best))) best = s;
    const now = this.alarmVoice.value;
    if (now.session !== best || now.windows !== this.voiceListeners.size) this.alarmVoice.set({ session: best, windows: this.voiceListeners.size });
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

  /** A finished call: in the console's call log, and on its way to the backend (call-log.ts). */
  logCall(entry: CallLogEntry): void {
    this.calls.add(entry);
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
    this.access.stop();
    this.replay.close();
    this.rows.close();
    this.replica.close();
    this.cache.close();
  }
}
