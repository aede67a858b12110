import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CALL_LOG_LIMIT,
  type CallLogEntry,
  type CallLogState,
  BuildingsLayer,
  HUB_API_VERSION,
  HubError,
  STAFF_STATUS_CODES,
  hubMethods,
  isHubMethod,
  serverNowMs,
  describeIssues,
  validate,
  type Change,
  type CityLayerName,
  type CollectionFilter,
  type CollectionName,
  type CommandReceipt,
  type CommandRequest,
  type ConnectionState,
  type DisplayRole,
  type EmbeddedBackendState,
  type HelloResult,
  type HubMethod,
  type HubReply,
  type OutboxEntry,
  type PositionsPayload,
  type Query,
  type ShowOnWallResult,
  type SipState,
  type SubscriptionUpdate,
  type WallRequest,
  type WallRequestState,
} from '../protocol';
import { maskPayload, maskRow, timelineId, type Actor, type CityState } from '../domain';
import { ObservableValue } from './observable';
import { SettingsStore } from './settings-store';
import { silentLogger, type Logger } from '../node-util/logger';
import { CACHE_FILE_NAME, HubCache } from './cache/cache';
import { BackendLink, type LinkOptions, type LinkStatePatch } from './link';
import { OptimisticView, parseCommandPayload } from './view';
import { gridLocator } from './locate';
import { nextPage, type SnapshotPages } from './snapshot-pages';

export interface BackendCredentials {
  url: string;
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
}

export interface SessionInfo {
  bridge: HelloResult['bridge'];
  /** The role the window was opened for (its display), or from the browser URL. */
  displayRole: DisplayRole;
  /** For logs: which window or socket this is. */
  label: string;
  /** A demo / inspection screen (迎检演示): personal data is masked before it reaches this window. */
  demo?: boolean;
  /** True while the window has a lot unread (browser host): row changes and result pages wait, coalescing. */
  congested?: () => boolean;
}

/**
 * A window may hold this many live subscriptions; beyond it is a leak in the renderer (or a page asking for the
 * same data over and over), refused loudly. Measured: a combined window holds 9–14 at once (each workspace in
 * turn); the renderer has 41 subscribe calls in all, so even all of them at once leave three times the room.
 */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 128;

type RowKind = 'collection' | 'positions' | 'outbox';

/** One window's subscription to rows, with what it holds and what is waiting to be sent. */
interface RowSubscription {
  id: string;
  session: HubSession;
  kind: RowKind;
  collection?: CollectionName;
  filter?: CollectionFilter;
  /** Ids the window holds now. */
  held: Set<string>;
  upserts: Map<string, Record<string, unknown>>;
  removes: Set<string>;
  /** Send the whole result next time instead of a patch. */
  reset: boolean;
  /** The whole result being sent page by page (patches wait until it is through). */
  pages: SnapshotPages | null;
  timer: NodeJS.Timeout | null;
}

const OPEN_STATUSES = new Set(['new', 'accepted', 'dispatched', 'handling', 'handled', 'followed-up']);

function matches(filter: CollectionFilter | undefined, row: Record<string, unknown>): boolean {
  if (!filter) return true;
  if (filter.ids && !filter.ids.includes(row.id as string)) return false;
  if (filter.districtIds && !filter.districtIds.includes(row.districtId as string)) return false;
  if (filter.gridIds && !filter.gridIds.includes(row.gridId as string)) return false;
  if (filter.statuses && !filter.statuses.includes(row.status as never)) return false;
  if (filter.sources && !filter.sources.includes(row.source as never)) return false;
  if (filter.categories && !filter.categories.includes(row.category as string)) return false;
  if (filter.eventIds && !filter.eventIds.includes(row.eventId as string)) return false;
  if (filter.openOnly && !OPEN_STATUSES.has(row.status as string)) return false;
  return true;
}

/**
 * The console's local brain: one per machine, shared by every window, plain Node (never imports electron).
 * Windows reach it through sessions, one per window or browser-host socket.
 */
export class Hub {
  readonly startedAt = new Date();
  readonly settings: SettingsStore;
  readonly connection: ObservableValue<ConnectionState>;
  /** The signed-in user's SIP account from the backend (null: no SIP server, or not signed in yet). */
  readonly sipAccount = new ObservableValue<SipState>({ account: null });
  /** The call log, newest first (from the cache; calls are logged by the window that made or took them). */
  readonly callLog: ObservableValue<CallLogState>;
  /** The latest "show this on the wall" request, for the windows that show that wall. */
  readonly wallRequest = new ObservableValue<WallRequestState>({ seq: 0, at: this.startedAt.toISOString(), request: null, from: null, actBy: null });
  readonly log: Logger;
  readonly cache: HubCache;
  readonly confirmed: CityState;
  readonly view: OptimisticView;
  readonly clientId: string;
  private link: BackendLink | null = null;
  private backend: BackendCredentials | null = null;
  private readonly layerFetches = new Map<CityLayerName, Promise<BuildingsLayer>>();
  private readonly sessions = new Set<HubSession>();
  private readonly rowSubs = new Set<RowSubscription>();
  /** The one subscription per session whose result is being sent page by page. */
  private readonly paging = new Map<HubSession, RowSubscription>();
  private readonly dirty = new Map<string, [CollectionName, string]>();
  private needRebase = false;
  private resetAll = false;
  private processScheduled = false;
  private locate: ReturnType<typeof gridLocator> | null = null;
  private positionsTimer: NodeJS.Timeout | null = null;
  private lastSyncedWrite = 0;
  private lastRebaseAt = 0;
  private rebaseTimer: NodeJS.Timeout | null = null;
  /** When each staff position was last reported (server time, ms): volatile like the positions. */
  private readonly positionTimes = new Map<string, number>();
  private closed = false;
  /** Starts the embedded backend again (runEmbeddedBackend sets it); null with a configured backend. */
  private backendRestart: (() => void) | null = null;

  constructor(readonly options: HubOptions) {
    this.log = options.log ?? silentLogger;
    mkdirSync(options.dataDir, { recursive: true });
    this.settings = new SettingsStore(options.dataDir, this.log);
    this.cache = new HubCache(join(options.dataDir, CACHE_FILE_NAME), this.log);
    this.callLog = new ObservableValue<CallLogState>({ entries: this.cache.recentCalls(CALL_LOG_LIMIT) });
    this.confirmed = this.cache.loadState();
    this.view = new OptimisticView(this.confirmed);
    let clientId = this.cache.getMeta('clientId');
    if (!clientId) {
      clientId = `hub-${randomBytes(9).toString('base64url')}`;
      this.cache.setMeta('clientId', clientId);
    }
    this.clientId = clientId;
    const user = this.cache.getMeta('user');
    const known = user ? (JSON.parse(user) as { id: string; name: string; role: NonNullable<ConnectionState['user']>['role']; districtScope: string[] | null }) : null;
    const counts = this.cache.outboxCounts();
    const lastSyncedAt = this.cache.getMeta('lastSyncedAt');
    this.connection = new ObservableValue<ConnectionState>({
      status: options.backend ? 'connecting' : 'offline',
      // Offline since the cache was last in step with the backend (a cold start shows how old the picture is).
      since: lastSyncedAt ?? this.startedAt.toISOString(),
      backendUrl: options.backend?.url ?? this.settings.settings.value.backendUrl,
      pendingCommands: counts.pending,
      rejectedCommands: counts.rejected,
      reconnectAttempt: 0,
      nextRetryAt: null,
      lastError: options.backend ? null : { code: 'no-backend', message: 'no backend configured or started' },
      commandLevel: this.confirmed.get('commandLevel', 'current')?.level ?? null,
      user: known ? { id: known.id, name: known.name, role: known.role } : null,
      districtScope: known?.districtScope ?? null,
      serverClock: null,
      lastSeq: this.cache.lastSeq,
      lastSyncedAt,
      notice: this.cache.notice ?? this.settings.startupNotice,
      embeddedBackend: null,
    });
    this.rebase();
    // Live positions are volatile: kept in memory, written to the cache now and then for cold starts.
    this.positionsTimer = setInterval(() => this.cache.savePositions(this.confirmed), 30_000);
    this.positionsTimer.unref();
    if (options.backend) this.connectTo(options.backend);
  }

  /** Links to a backend (replacing any previous link). */
  connectTo(backend: BackendCredentials): void {
    this.link?.stop();
    this.backend = backend;
    this.patchConnection({ backendUrl: backend.url, status: 'connecting', lastError: null });
    this.link = new BackendLink({
      url: backend.url,
      token: backend.token,
      clientId: this.clientId,
      cache: this.cache,
      log: this.log,
      ...this.options.link,
      callbacks: {
        state: (patch) => this.onLinkState(patch),
        confirmed: (change) => this.onConfirmed(change),
        positions: (payload) => this.onPositions(payload),
        acked: (ack) => {
          this.cache.removeCommand(ack.commandId);
          this.outboxChanged();
        },
        refused: (commandId, error) => {
          this.cache.markCommand(commandId, error.code === 'expired' ? 'expired' : 'rejected', { code: error.code, message: error.message });
          this.log.warn('command refused by the backend', { commandId, code: error.code, message: error.message });
          this.outboxChanged();
        },
        notice: (message) => this.patchConnection({ notice: message }),
        pending: () => this.cache.pendingCommands(),
      },
    });
    this.link.start();
  }

  /**
   * A static city layer: from the cache when it came from this backend (or no backend is linked: offline start),
   * else fetched once over HTTP with the link's token, validated, and cached. Concurrent asks share one fetch.
   */
  cityLayer(layer: CityLayerName): Promise<BuildingsLayer> {
    const running = this.layerFetches.get(layer);
    if (running) return running;
    const job = this.loadCityLayer(layer).finally(() => this.layerFetches.delete(layer));
    this.layerFetches.set(layer, job);
    return job;
  }

  private async loadCityLayer(layer: CityLayerName): Promise<BuildingsLayer> {
    const key = `layer:${layer}`;
    const cached = this.cache.getMeta(key);
    if (cached) {
      const { url, data } = JSON.parse(cached) as { url: string; data: unknown };
      const checked = validate(BuildingsLayer, data);
      if (checked.ok && (this.backend === null || this.backend.url === url)) return checked.value;
    }
    const backend = this.backend;
    if (!backend) throw new HubError('unavailable', `the ${layer} layer is not cached and no backend is linked`);
    const url = `${backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '')}/city/${layer}`;
    let response: Response;
    try {
      response = await fetch(url, { headers: { Authorization: `Bearer ${backend.token}` }, signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      throw new HubError('unavailable', `could not fetch the ${layer} layer from ${url}: ${(e as Error).message}`);
    }
    if (!response.ok) throw new HubError('unavailable', `the backend answered ${response.status} for ${url}`);
    const checked = validate(BuildingsLayer, await response.json().catch(() => null));
    if (!checked.ok) throw new HubError('unavailable', `the backend sent an invalid ${layer} layer: ${describeIssues(checked.issues)}`);
    this.cache.setMeta(key, JSON.stringify({ url: backend.url, data: checked.value }));
    return checked.value;
  }

  /** No backend can be linked (none configured, no login, embedded one failed): offline, with the reason. */
  unavailable(backendUrl: string | null, code: string, message: string, extra: Partial<ConnectionState> = {}): void {
    this.link?.stop();
    this.link = null;
    // As for a link that dropped: `since` and the last sync move, and the stopped link's retry plan is gone.
    this.onLinkState({ status: 'offline', reconnectAttempt: 0, nextRetryAt: null, lastError: { code, message } }, { backendUrl, ...extra });
  }

  /**
   * The embedded backend's supervisor state (see backend-supervisor.ts), shown with the connection. A failed
   * start or an exit takes the link down at once, with the reason, rather than leaving it to find out.
   */
  setEmbeddedBackend(state: EmbeddedBackendState): void {
    const error = state.lastError;
    if ((state.state === 'retrying' || state.state === 'failed') && error) {
      this.unavailable(null, 'embedded-failed', `${error.code}: ${error.message}`, { embeddedBackend: state });
    } else this.patchConnection({ embeddedBackend: state });
  }

  setBackendRestart(restart: (() => void) | null): void {
    this.backendRestart = restart;
  }

  /** A person's 重试: the embedded backend starts again now. */
  restartBackend(): void {
    if (!this.backendRestart) throw new HubError('unavailable', 'this console links to a configured backend: there is no embedded backend to start');
    this.backendRestart();
  }

  /** The link, for tests and diagnostics. */
  get backendLink(): BackendLink | null {
    return this.link;
  }

  private patchConnection(patch: Partial<ConnectionState>): void {
    this.connection.set({ ...this.connection.value, ...patch });
  }

  private onLinkState(patch: LinkStatePatch, extra: Partial<ConnectionState> = {}): void {
    const current = this.connection.value;
    const next: Partial<ConnectionState> = {};
    if (patch.status) {
      next.status = patch.status;
      const wasOnline = current.status === 'online';
      const isOnline = patch.status === 'online';
      if (wasOnline !== isOnline) next.since = new Date().toISOString();
      if (isOnline) next.lastSyncedAt = this.markSynced(true);
      if (wasOnline && !isOnline) this.markSynced(true);
    }
    if (patch.reconnectAttempt !== undefined) next.reconnectAttempt = patch.reconnectAttempt;
    if (patch.nextRetryAt !== undefined) next.nextRetryAt = patch.nextRetryAt;
    if (patch.lastError !== undefined) next.lastError = patch.lastError;
    if (patch.welcome) {
      const w = patch.welcome;
      next.user = w.user;
      next.districtScope = w.districtScope;
      next.serverClock = { serverTime: w.serverTime, localTime: new Date().toISOString(), clockRate: w.clockRate };
      // Memory only: the password is never written to the cache (a new one comes with every login).
      this.sipAccount.set({ account: w.sip ?? null });
      this.needRebase = true;
      this.scheduleProcess();
    }
    this.patchConnection({ ...next, ...extra });
  }

  private markSynced(force = false): string {
    const now = new Date().toISOString();
    if (force || Date.now() - this.lastSyncedWrite > 5000) {
      this.cache.setMeta('lastSyncedAt', now);
      this.lastSyncedWrite = Date.now();
    }
    return now;
  }

  private onConfirmed(change: { seq: number; changes: readonly Change[] } | { seq: number; reset: true }): void {
    if ('reset' in change) {
      const fresh = this.cache.loadState();
      for (const [name, map] of Object.entries(fresh.collections)) {
        const target = this.confirmed.collections[name as CollectionName] as Map<string, unknown>;
        target.clear();
        for (const [id, value] of map) target.set(id, value);
      }
      this.confirmed.seq = change.seq;
      this.locate = null;
      this.resetAll = true;
    } else {
      this.confirmed.apply(change.changes);
      this.confirmed.seq = change.seq;
      for (const c of change.changes) {
        this.dirty.set(`${c.collection}\u0000${c.id}`, [c.collection, c.id]);
        if (c.collection === 'grids') this.locate = null;
      }
    }
    const level = this.confirmed.get('commandLevel', 'current')?.level ?? null;
    const patch: Partial<ConnectionState> = { lastSeq: change.seq };
    if (level !== this.connection.value.commandLevel) patch.commandLevel = level;
    if (this.connection.value.status === 'online') patch.lastSyncedAt = this.markSynced();
    this.patchConnection(patch);
    this.needRebase = true;
    this.scheduleProcess();
  }

  private onPositions(payload: PositionsPayload): void {
    const rows = new Map<string, Record<string, unknown>>();
    const t = Date.parse(payload.at);
    for (const [id, lon, lat, s] of payload.items) {
      const staff = this.confirmed.collections.staff.get(id);
      if (staff) {
        staff.position = [lon, lat];
        this.positionTimes.set(id, t);
      }
      rows.set(id, { id, p: [lon, lat], s, t });
    }
    for (const sub of this.rowSubs) {
      if (sub.kind !== 'positions') continue;
      for (const [id, row] of rows) {
        sub.upserts.set(id, row);
        sub.held.add(id);
      }
      this.scheduleFlush(sub);
    }
  }

  private actor(): Actor | null {
    const user = this.connection.value.user;
    return user ? { id: user.id, name: user.name, role: user.role, districtScope: this.connection.value.districtScope } : null;
  }

  /** Server time now, from the last welcome's clock (the backend may run faster than real time). */
  serverNow(): Date {
    return new Date(serverNowMs(this.connection.value.serverClock));
  }

  private rebase(): Array<[CollectionName, string]> {
    this.locate ??= gridLocator(this.confirmed);
    return this.view.rebuild(this.cache.pendingCommands(), this.actor(), this.serverNow(), this.locate);
  }

  private scheduleProcess(): void {
    if (this.processScheduled || this.closed) return;
    this.processScheduled = true;
    setImmediate(() => {
      this.processScheduled = false;
      this.process();
    });
  }

  /** Brings every row subscription up to date with what changed since the last run. */
  private process(): void {
    if (this.closed) return;
    if (this.needRebase) {
      // A rebase replays the whole queue: with a long queue (an offline backlog draining), at most every 100 ms.
      const wait = this.connection.value.pendingCommands > 50 ? this.lastRebaseAt + 100 - Date.now() : 0;
      if (wait > 0) {
        if (!this.rebaseTimer) {
          this.rebaseTimer = setTimeout(() => {
            this.rebaseTimer = null;
            this.scheduleProcess();
          }, wait);
        }
      } else {
        this.needRebase = false;
        this.lastRebaseAt = Date.now();
        for (const pair of this.rebase()) this.dirty.set(`${pair[0]}\u0000${pair[1]}`, pair);
      }
    }
    const resetAll = this.resetAll;
    this.resetAll = false;
    const dirty = [...this.dirty.values()];
    this.dirty.clear();
    for (const sub of this.rowSubs) {
      if (sub.kind !== 'collection') continue;
      if (resetAll) {
        sub.reset = true;
        this.scheduleFlush(sub);
        continue;
      }
      let touched = false;
      for (const [collection, id] of dirty) {
        if (collection !== sub.collection) continue;
        this.touch(sub, id);
        touched = true;
      }
      if (touched) this.scheduleFlush(sub);
    }
  }

  /** Demo screens, and every window of a console logged in with the demo (viewer) account, see masked data. */
  private masked(session: HubSession): boolean {
    return session.info.demo === true || this.connection.value.user?.role === 'viewer';
  }

  private viewRow(collection: CollectionName, id: string, masked: boolean): Record<string, unknown> | undefined {
    const found = this.view.get(collection, id) as Record<string, unknown> | undefined;
    if (!found) return undefined;
    const row = masked ? maskRow(collection, found) : found;
    return this.view.isGuess(collection, id) ? { ...row, pending: true } : row;
  }

  private touch(sub: RowSubscription, id: string): void {
    const row = this.viewRow(sub.collection!, id, this.masked(sub.session));
    if (row && matches(sub.filter, row)) {
      sub.upserts.set(id, row);
      sub.removes.delete(id);
      sub.held.add(id);
    } else if (sub.held.has(id)) {
      sub.held.delete(id);
      sub.upserts.delete(id);
      sub.removes.add(id);
    }
  }

  /** The whole current result of a row subscription. */
  private rowsOf(sub: RowSubscription): Array<Record<string, unknown>> {
    const masked = this.masked(sub.session);
    if (sub.kind === 'outbox') {
      const entries = this.cache.outbox();
      return (masked ? entries.map((e) => ({ ...e, payload: maskPayload(e.payload) })) : entries) as unknown as Array<Record<string, unknown>>;
    }
    if (sub.kind === 'positions') {
      const rows: Array<Record<string, unknown>> = [];
      for (const staff of this.confirmed.all('staff')) {
        if (staff.position && staff.status !== 'offline') {
          rows.push({ id: staff.id, p: staff.position, s: STAFF_STATUS_CODES.indexOf(staff.status), t: this.positionTimes.get(staff.id) ?? Date.parse(staff.updatedAt) });
        }
      }
      return rows;
    }
    const collection = sub.collection!;
    const rows: Array<Record<string, unknown>> = [];
    const seen = new Set<string>();
    for (const id of this.candidateIds(collection, sub.filter)) {
      seen.add(id);
      const row = this.viewRow(collection, id, masked);
      if (row && matches(sub.filter, row)) rows.push(row);
    }
    for (const [c, id] of this.view.guessedKeys()) {
      if (c !== collection || seen.has(id)) continue;
      const row = this.viewRow(collection, id, masked);
      if (row && matches(sub.filter, row)) rows.push(row);
    }
    return rows;
  }

  /**
   * The ids a filter can match, without building every row of the collection: a subscription to one event
   * (ids) or to its history (eventIds: the history's ids follow from the event's timelineCount) reads those
   * rows only, not the whole collection (~40,000 history records at 30 days).
   */
  private candidateIds(collection: CollectionName, filter: CollectionFilter | undefined): Iterable<string> {
    if (filter?.ids) return filter.ids;
    if (collection === 'timeline' && filter?.eventIds) {
      return filter.eventIds.flatMap((eventId) => Array.from({ length: this.view.get('events', eventId)?.timelineCount ?? 0 }, (_, i) => timelineId(eventId, i)));
    }
    return this.confirmed.collections[collection].keys();
  }

  private scheduleFlush(sub: RowSubscription, delayMs = this.options.flushIntervalMs ?? 100): void {
    if (sub.timer || this.closed) return;
    sub.timer = setTimeout(() => {
      sub.timer = null;
      this.flush(sub);
    }, delayMs);
  }

  private flush(sub: RowSubscription): void {
    if (!sub.session.owns(sub.id)) return;
    // A window with a lot unread gets nothing more for now: its changes keep coalescing in upserts/removes.
    if (sub.session.congested()) return this.scheduleFlush(sub);
    const topic = sub.kind === 'collection' ? `collection:${sub.collection}` : sub.kind;
    if (sub.reset && !sub.pages) {
      // One result in pages per session at a time: each holds its rows until they are sent.
      const busy = this.paging.get(sub.session);
      if (busy && busy !== sub) return this.scheduleFlush(sub);
      sub.reset = false;
      const rows = this.rowsOf(sub);
      sub.held = new Set(rows.map((r) => r.id as string));
      sub.upserts.clear();
      sub.removes.clear();
      sub.pages = { rows, next: 0 };
    }
    if (sub.pages) {
      const { data, more } = nextPage(sub.pages);
      sub.session.push({ kind: 'snapshot', subscriptionId: sub.id, topic, data, ...(more ? { more } : {}) });
      if (more) {
        this.paging.set(sub.session, sub);
        this.scheduleFlush(sub, 0);
        return;
      }
      sub.pages = null;
      if (this.paging.get(sub.session) === sub) this.paging.delete(sub.session);
      if (sub.reset || sub.upserts.size > 0 || sub.removes.size > 0) this.scheduleFlush(sub);
      return;
    }
    if (sub.upserts.size === 0 && sub.removes.size === 0) return;
    const upserts = [...sub.upserts.values()];
    const removes = [...sub.removes];
    sub.upserts.clear();
    sub.removes.clear();
    sub.session.push({ kind: 'patch', subscriptionId: sub.id, topic, upserts, removes });
  }

  /** @internal a session opens a row subscription: the first result goes out right after the reply. */
  addRowSubscription(session: HubSession, id: string, query: Extract<Query, { topic: 'collection' | 'positions' | 'outbox' }>): () => void {
    const sub: RowSubscription = {
      id,
      session,
      kind: query.topic,
      ...(query.topic === 'collection' ? { collection: query.collection, ...(query.filter ? { filter: query.filter } : {}) } : {}),
      held: new Set(),
      upserts: new Map(),
      removes: new Set(),
      reset: true,
      pages: null,
      timer: null,
    };
    this.rowSubs.add(sub);
    setImmediate(() => this.flush(sub));
    return () => {
      if (sub.timer) clearTimeout(sub.timer);
      this.rowSubs.delete(sub);
      if (this.paging.get(session) === sub) this.paging.delete(session);
    };
  }

  private outboxChanged(rebase = true): void {
    const counts = this.cache.outboxCounts();
    this.patchConnection({ pendingCommands: counts.pending, rejectedCommands: counts.rejected });
    for (const sub of this.rowSubs) {
      if (sub.kind !== 'outbox') continue;
      const rows = this.rowsOf(sub);
      const now = new Set(rows.map((r) => r.id as string));
      for (const row of rows) sub.upserts.set(row.id as string, row);
      for (const id of sub.held) if (!now.has(id)) sub.removes.add(id);
      sub.held = now;
      this.scheduleFlush(sub);
    }
    if (rebase) this.needRebase = true;
    this.scheduleProcess();
  }

  // ── commands ─────────────────────────────────────────────────────────────────────────────────────────

  submitCommand(request: CommandRequest): CommandReceipt {
    const parsed = parseCommandPayload(request.type, request.payload);
    if (!parsed.ok) throw new HubError('invalid-params', `invalid ${request.type} command: ${parsed.problem}`);
    const existing = this.cache.command(request.commandId);
    if (existing) return this.receipt(existing); // submitting the same id twice queues it once
    const queuedAt = this.serverNow().toISOString();
    this.cache.addCommand({ id: request.commandId, type: request.type, payload: parsed.payload, queuedAt, expiresAt: request.expiresAt ?? null });
    // Predict it on top of the queue now (the receipt says whether the guess could be made); windows get the
    // change with the next flush.
    this.locate ??= gridLocator(this.confirmed);
    const entry = this.cache.command(request.commandId)!;
    for (const pair of this.view.append(entry, this.actor(), this.serverNow(), this.locate)) this.dirty.set(`${pair[0]}\u0000${pair[1]}`, pair);
    this.outboxChanged(false);
    this.link?.sendCommands();
    return this.receipt(this.cache.command(request.commandId)!);
  }

  private receipt(entry: OutboxEntry): CommandReceipt {
    return {
      commandId: entry.id,
      status: entry.status === 'pending' ? 'pending' : entry.status,
      queuedAt: entry.queuedAt,
      predicted: this.view.predictions.get(entry.id)?.predicted ?? false,
    };
  }

  retryCommand(commandId: string): CommandReceipt {
    const entry = this.cache.command(commandId);
    if (!entry) throw new HubError('not-found', `no command ${commandId} in the outbox`);
    if (entry.status === 'pending') throw new HubError('invalid-params', `command ${commandId} is still pending`);
    this.cache.removeCommand(commandId);
    // A new id: the backend already answered the old one and would answer the same again.
    return this.submitCommand({ commandId: `retry-${randomBytes(12).toString('base64url')}`, type: entry.type, payload: entry.payload });
  }

  discardCommand(commandId: string): void {
    if (!this.cache.command(commandId)) throw new HubError('not-found', `no command ${commandId} in the outbox`);
    this.cache.removeCommand(commandId);
    this.outboxChanged();
  }

  // ── sessions ─────────────────────────────────────────────────────────────────────────────────────────

  openSession(info: SessionInfo, push: (update: SubscriptionUpdate) => void): HubSession {
    const session = new HubSession(this, info, push);
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

  /** @internal called by HubSession.close */
  forget(session: HubSession): void {
    this.sessions.delete(session);
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
    if (this.positionsTimer) clearInterval(this.positionsTimer);
    if (this.rebaseTimer) clearTimeout(this.rebaseTimer);
    this.cache.savePositions(this.confirmed);
    this.cache.close();
  }
}

export class HubSession {
  private readonly subscriptions = new Map<string, () => void>();
  private closed = false;

  constructor(
    private readonly hub: Hub,
    readonly info: SessionInfo,
    readonly push: (update: SubscriptionUpdate) => void,
  ) {}

  owns(subscriptionId: string): boolean {
    return !this.closed && this.subscriptions.has(subscriptionId);
  }

  congested(): boolean {
    return this.info.congested?.() ?? false;
  }

  /** Validates and runs one call. Never throws: errors come back as a typed reply. */
  async handle(method: unknown, params: unknown): Promise<HubReply> {
    try {
      if (this.closed) throw new HubError('unavailable', 'session is closed');
      if (!isHubMethod(method)) throw new HubError('unknown-method', `unknown Hub API method ${JSON.stringify(method)}`);
      const checked = validate(hubMethods[method].params, params ?? {});
      if (!checked.ok) {
        throw new HubError('invalid-params', `invalid params for ${method}: ${describeIssues(checked.issues)}`, checked.issues);
      }
      return { ok: true, result: await this.run(method, checked.value) };
    } catch (e) {
      if (e instanceof HubError) return { ok: false, error: e.toShape() };
      this.hub.log.error('hub call failed', { method: String(method), error: (e as Error).stack ?? String(e) });
      return { ok: false, error: { code: 'internal', message: (e as Error).message || 'internal error' } };
    }
  }

  private async run(method: HubMethod, params: unknown): Promise<unknown> {
    switch (method) {
      case 'hello': {
        const result: HelloResult = {
          apiVersion: HUB_API_VERSION,
          hubVersion: this.hub.options.version,
          bridge: this.info.bridge,
          displayRole: this.info.displayRole,
          hubStartedAt: this.hub.startedAt.toISOString(),
        };
        return result;
      }
      case 'getSettings':
        return this.hub.settings.settings.value;
      case 'updateSettings':
        return this.hub.settings.update(params);
      case 'subscribe':
        return { subscriptionId: this.subscribe((params as { query: Query }).query) };
      case 'unsubscribe': {
        const { subscriptionId } = params as { subscriptionId: string };
        const stop = this.subscriptions.get(subscriptionId);
        if (!stop) throw new HubError('not-found', `no subscription ${subscriptionId} in this session`);
        stop();
        this.subscriptions.delete(subscriptionId);
        return {};
      }
      case 'submitCommand':
        return this.hub.submitCommand(params as CommandRequest);
      case 'retryCommand':
        return this.hub.retryCommand((params as { commandId: string }).commandId);
      case 'discardCommand':
        this.hub.discardCommand((params as { commandId: string }).commandId);
        return {};
      case 'getCityLayer':
        return this.hub.cityLayer((params as { layer: CityLayerName }).layer);
      case 'showOnWall':
        return this.hub.showOnWall(this, params as WallRequest);
      case 'logCall':
        // Demo / inspection screens make no calls; a window only logs its own user's calls.
        if (this.info.demo) throw new HubError('unauthorized', 'a demo screen makes no calls');
        this.hub.logCall(params as CallLogEntry);
        return {};
      case 'restartBackend':
        // An inspection screen shows; it does not run the console.
        if (this.info.demo) throw new HubError('unauthorized', 'a demo screen does not start the backend');
        this.hub.restartBackend();
        return {};
    }
  }

  private subscribe(query: Query): string {
    if (this.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SESSION) {
      throw new HubError('unavailable', `too many subscriptions in this window (${MAX_SUBSCRIPTIONS_PER_SESSION}); a view is leaking them`);
    }
    const subscriptionId = `sub-${randomBytes(6).toString('hex')}`;
    if (query.topic === 'collection' || query.topic === 'positions' || query.topic === 'outbox') {
      this.subscriptions.set(subscriptionId, this.hub.addRowSubscription(this, subscriptionId, query));
      return subscriptionId;
    }
    const sources = { connection: this.hub.connection, settings: this.hub.settings.settings, wall: this.hub.wallRequest, sip: this.hub.sipAccount, calls: this.hub.callLog };
    let source = sources[query.topic] as unknown as ObservableValue<unknown>;
    // Demo / inspection screens never get credentials (nobody calls from them).
    if ((query.topic === 'sip' || query.topic === 'calls') && this.info.demo) source = new ObservableValue<unknown>(query.topic === 'sip' ? { account: null } : { entries: [] });
    // Deliver after the reply has been sent, so the client knows the id before the first snapshot arrives.
    let stop: (() => void) | null = null;
    const timer = setImmediate(() => {
      if (this.closed || !this.subscriptions.has(subscriptionId)) return;
      stop = source.subscribe((data) => this.push({ kind: 'snapshot', subscriptionId, topic: query.topic, data }));
    });
    this.subscriptions.set(subscriptionId, () => {
      clearImmediate(timer);
      stop?.();
    });
    return subscriptionId;
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.subscriptions.values()) stop();
    this.subscriptions.clear();
    this.hub.forget(this);
    this.hub.log.info('session closed', { label: this.info.label });
  }
}
