/**
 * One session per window (an Electron window over IPC, or a browser-host socket): a Hub API call is validated
 * against the method table where it enters, then run by that method's own handler, typed from the same table
 * (a mapped type over it, as domain/commands does for commands), so params and results need no casts. The
 * session holds its window's subscriptions: topics (connection, settings, wall, sip, calls) here, rows in
 * subscriptions.ts.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import {
  HUB_API_VERSION,
  HubError,
  describeIssues,
  hubMethods,
  isHubMethod,
  validate,
  type BuildingsLayer,
  type CallLogEntry,
  type CallLogState,
  type CityLayerName,
  type DisplayRole,
  type HelloResult,
  type HubMethod,
  type HubReply,
  type KeyPersonsAnswer,
  type AuditCsv,
  type AuditPage,
  type AuditQuery,
  type RegisterLevel,
  type HubResult,
  type Query,
  type ShowOnWallResult,
  type SipState,
  type SubscriptionUpdate,
  type Topic,
  type TopicData,
  type WallRequest,
  type SignInResult,
  type AdminUserList,
  type AdminUserRow,
  type ApiKeyList,
  type ApiKeyRow,
  type CreateApiKeyRequest,
  type CreatedApiKey,
  type CreateUserRequest,
  type UpdateUserRequest,
  REPLAY_REFUSAL,
} from '../protocol';
import { maskCall } from '../domain';
import type { Logger } from '../node-util/logger';
import { ObservableValue } from './observable';
import type { SettingsStore } from './settings-store';
import type { Outbox } from './outbox';
import type { RowQuery, RowSubscriber, Subscriptions } from './subscriptions';
import type { ReplaySession } from './replay/session';
import type { WallLayouts } from './wall-layouts';

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

/** What sessions use of the hub (hub.ts composes it). */
export interface SessionServices {
  readonly version: string;
  readonly startedAt: Date;
  readonly log: Logger;
  readonly settings: SettingsStore;
  readonly topics: { readonly [T in Exclude<Topic, 'voice'>]: ObservableValue<TopicData[T]> };
  /** The window that sounds the console's alarms (hub.ts elects it as windows come and go), and how many could. */
  readonly voice: ObservableValue<{ session: HubSession | null; windows: number }>;
  /** A window started (true) or stopped listening for the voice: only windows that listen (an alarm bar) are elected. */
  voiceListening(session: HubSession, on: boolean): void;
  readonly rows: Subscriptions;
  /** The console's replay (hub/replay/): while active, row subscriptions but the outbox's are served by its rows. */
  readonly replay: ReplaySession;
  readonly outbox: Outbox;
  cityLayer(layer: CityLayerName): Promise<BuildingsLayer>;
  /** The 重点人员 register of one area from the backend, masked for a demo window (never cached). */
  keyPersons(target: { level: RegisterLevel; id: string }, demo: boolean): Promise<KeyPersonsAnswer>;
  /** The audit from the backend (a page, or the CSV file), never cached. */
  readAudit(query: AuditQuery): Promise<AuditPage>;
  exportAudit(query: AuditQuery): Promise<AuditCsv>;
  /** A window opened an event: the view goes to the backend's audit (masked windows and cards say no personal data). */
  recordView(id: string, demo: boolean, summary: boolean): void;
  showOnWall(from: HubSession, request: WallRequest): ShowOnWallResult;
  logCall(entry: CallLogEntry): void;
  /** What the video walls remember (wall-layouts.ts). */
  readonly walls: WallLayouts;
  restartBackend(): void;
  signIn(user: string, password: string): Promise<SignInResult>;
  signOut(): Promise<void>;
  /** 用户管理 at the backend (users-admin.ts): never cached. */
  listUsers(): Promise<AdminUserList>;
  createUser(user: CreateUserRequest): Promise<AdminUserRow>;
  updateUser(id: string, change: UpdateUserRequest): Promise<AdminUserRow>;
  /** 接入密钥 at the backend (api-keys-admin.ts): never cached, a new key never kept. */
  listApiKeys(): Promise<ApiKeyList>;
  createApiKey(key: CreateApiKeyRequest): Promise<CreatedApiKey>;
  revokeApiKey(id: string): Promise<ApiKeyRow>;
  forget(session: HubSession): void;
}

/**
 * A window may hold this many live subscriptions; beyond it is a leak in the renderer (or a page asking for the
 * same data over and over), refused loudly. Measured: a combined window holds 9–14 at once (each workspace in
 * turn); the renderer has 41 subscribe calls in all, so even all of them at once leave three times the room.
 */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 128;

/**
 * One handler per Hub API method: the mapped type over the method table makes each answer that method's
 * result, and `takes` gives each its params as that method's schema validated them.
 */
type Handlers = { [M in HubMethod]: (session: HubSession, params: unknown, method: M) => HubResult<M> | Promise<HubResult<M>> };

function takes<S extends z.ZodType, R>(schema: S, run: (session: HubSession, params: z.output<S>) => R): (session: HubSession, params: unknown, method: HubMethod) => R {
  return (session, params, method) => {
    const checked = validate(schema, params);
    if (!checked.ok) throw new HubError('invalid-params', `invalid params for ${method}: ${describeIssues(checked.issues)}`, checked.issues);
    return run(session, checked.value);
  };
}

const handlers: Handlers = {
  hello: takes(hubMethods.hello.params, (s) => ({
    apiVersion: HUB_API_VERSION,
    hubVersion: s.services.version,
    bridge: s.info.bridge,
    displayRole: s.info.displayRole,
    hubStartedAt: s.services.startedAt.toISOString(),
  })),
  getSettings: takes(hubMethods.getSettings.params, (s) => s.services.settings.settings.value),
  updateSettings: takes(hubMethods.updateSettings.params, (s, patch) => s.services.settings.update(patch)),
  subscribe: takes(hubMethods.subscribe.params, (s, { query }) => ({ subscriptionId: s.subscribe(query) })),
  unsubscribe: takes(hubMethods.unsubscribe.params, (s, { subscriptionId }) => {
    s.unsubscribe(subscriptionId);
    return {};
  }),
  submitCommand: takes(hubMethods.submitCommand.params, (s, request) => live(s).outbox.submit(request)),
  retryCommand: takes(hubMethods.retryCommand.params, (s, { commandId }) => live(s).outbox.retry(commandId)),
  discardCommand: takes(hubMethods.discardCommand.params, (s, { commandId }) => {
    s.services.outbox.discard(commandId);
    return {};
  }),
  getCityLayer: takes(hubMethods.getCityLayer.params, (s, { layer }) => s.services.cityLayer(layer)),
  keyPersons: takes(hubMethods.keyPersons.params, (s, { target }) => s.services.keyPersons(target, s.info.demo === true)),
  // A demo / inspection screen never reads the audit: its lines carry what the screen masks (reporters, phones).
  readAudit: takes(hubMethods.readAudit.params, (s, query) => {
    if (s.info.demo) throw new HubError('unauthorized', '演示屏幕不能查阅审计日志 / a demo screen does not read the audit');
    return s.services.readAudit(query);
  }),
  exportAudit: takes(hubMethods.exportAudit.params, (s, query) => {
    if (s.info.demo) throw new HubError('unauthorized', '演示屏幕不能导出审计日志 / a demo screen does not export the audit');
    return s.services.exportAudit(query);
  }),
  recordView: takes(hubMethods.recordView.params, (s, { id, summary }) => {
    live(s).recordView(id, s.info.demo === true, summary === true);
    return {};
  }),
  showOnWall: takes(hubMethods.showOnWall.params, (s, request) => live(s).showOnWall(s, request)),
  getWall: takes(hubMethods.getWall.params, (s, { wall }) => s.services.walls.read(wall)),
  // A demo / inspection screen's own wall remembers its layout (camera ids, no personal data: it is that screen's
  // state); the named layouts (预案布局) are the console's, shared by every window: a demo screen only reads them.
  saveWall: takes(hubMethods.saveWall.params, (s, { wall, state }) => {
    s.services.walls.save(wall, state);
    return {};
  }),
  saveWallPreset: takes(hubMethods.saveWallPreset.params, (s, preset) => {
    if (s.info.demo) throw new HubError('unauthorized', '演示屏不能保存预案布局 / a demo screen does not save named layouts');
    return { presets: s.services.walls.savePreset(preset) };
  }),
  deleteWallPreset: takes(hubMethods.deleteWallPreset.params, (s, { name }) => {
    if (s.info.demo) throw new HubError('unauthorized', '演示屏不能删除预案布局 / a demo screen does not delete named layouts');
    return { presets: s.services.walls.deletePreset(name) };
  }),
  logCall: takes(hubMethods.logCall.params, (s, entry) => {
    // Demo / inspection screens make no calls; a window only logs its own user's calls.
    if (s.info.demo) throw new HubError('unauthorized', 'a demo screen makes no calls');
    // Logged during a replay too: a call that ends then (answered, or begun before) is a live fact, not a command from the past.
    s.services.logCall(entry);
    return {};
  }),
  restartBackend: takes(hubMethods.restartBackend.params, (s) => {
    // An inspection screen shows; it does not run the console.
    if (s.info.demo) throw new HubError('unauthorized', 'a demo screen does not start the backend');
    s.services.restartBackend();
    return {};
  }),
  signIn: takes(hubMethods.signIn.params, (s, { user, password }) => {
    // A demo screen stays signed in as its viewer: it does not change the console's user.
    if (s.info.demo) throw new HubError('unauthorized', 'a demo screen does not sign in');
    return s.services.signIn(user, password);
  }),
  signOut: takes(hubMethods.signOut.params, async (s) => {
    if (s.info.demo) throw new HubError('unauthorized', 'a demo screen does not sign out');
    await s.services.signOut();
    return {};
  }),
  // A demo screen administers nobody (the backend decides for everyone else).
  listUsers: takes(hubMethods.listUsers.params, (s) => (s.info.demo ? demoRefused() : s.services.listUsers())),
  createUser: takes(hubMethods.createUser.params, (s, user) => (s.info.demo ? demoRefused() : s.services.createUser(user))),
  updateUser: takes(hubMethods.updateUser.params, (s, { id, change }) => (s.info.demo ? demoRefused() : s.services.updateUser(id, change))),
  listApiKeys: takes(hubMethods.listApiKeys.params, (s) => (s.info.demo ? demoRefused() : s.services.listApiKeys())),
  createApiKey: takes(hubMethods.createApiKey.params, (s, key) => (s.info.demo ? demoRefused() : s.services.createApiKey(key))),
  revokeApiKey: takes(hubMethods.revokeApiKey.params, (s, { id }) => (s.info.demo ? demoRefused() : s.services.revokeApiKey(id))),
  // 复盘回放: one replay for the console, driven from any window (a demo screen follows it too).
  // A demo screen follows the replay; it does not drive the console into one (nor out of it).
  replayStart: takes(hubMethods.replayStart.params, (s, params) => notDemo(s).replay.start(params)),
  replaySeek: takes(hubMethods.replaySeek.params, (s, { at }) => notDemo(s).replay.seek(at)),
  replayPlay: takes(hubMethods.replayPlay.params, (s, { speed }) => notDemo(s).replay.play(speed)),
  replayStop: takes(hubMethods.replayStop.params, (s) => notDemo(s).replay.stop()),
  replayTracks: takes(hubMethods.replayTracks.params, (s, { from, to, staffIds }) => s.services.replay.tracks(from, to, staffIds)),
  // The 复盘 report's calls: the backend masks them for a masked role; the hub masks them again for a demo screen.
  eventCalls: takes(hubMethods.eventCalls.params, async (s, { eventId, from, to, limit }) => {
    const answer = await s.services.replay.calls(eventId, from, to, limit);
    return s.info.demo ? { ...answer, calls: answer.calls.map(maskCall) } : answer;
  }),
};

function notDemo(s: HubSession): SessionServices {
  if (s.info.demo) throw new HubError('unauthorized', '演示屏不能操作回放 / a demo screen does not drive the replay');
  return s.services;
}

/** What acts on the live city (commands, calls, wall requests, view records): refused while the console replays. */
function live(s: HubSession): SessionServices {
  if (s.services.replay.active) throw new HubError('unauthorized', REPLAY_REFUSAL);
  return s.services;
}

function demoRefused(): never {
  throw new HubError('unauthorized', '演示屏不能管理用户 / a demo screen does not administer users');
}

export class HubSession implements RowSubscriber {
  private readonly subscriptions = new Map<string, () => void>();
  /** The row subscriptions' queries, to move them between the live rows and a replay's (reroute). */
  private readonly rowQueries = new Map<string, RowQuery>();
  private closed = false;

  constructor(
    readonly services: SessionServices,
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
      return { ok: true, result: await this.run(method, params ?? {}) };
    } catch (e) {
      if (e instanceof HubError) return { ok: false, error: e.toShape() };
      this.services.log.error('hub call failed', { method: String(method), error: (e as Error).stack ?? String(e) });
      return { ok: false, error: { code: 'internal', message: (e as Error).message || 'internal error' } };
    }
  }

  private run<M extends HubMethod>(method: M, params: unknown): HubResult<M> | Promise<HubResult<M>> {
    const handler: Handlers[M] = handlers[method];
    return handler(this, params, method);
  }

  subscribe(query: Query): string {
    if (this.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SESSION) {
      throw new HubError('unavailable', `too many subscriptions in this window (${MAX_SUBSCRIPTIONS_PER_SESSION}); a view is leaking them`);
    }
    const subscriptionId = `sub-${randomBytes(6).toString('hex')}`;
    if (query.topic === 'collection' || query.topic === 'positions' || query.topic === 'outbox') {
      this.subscriptions.set(subscriptionId, this.rowsFor(query).add(this, subscriptionId, query));
      this.rowQueries.set(subscriptionId, query);
      return subscriptionId;
    }
    const topic = query.topic;
    const listen = (listener: (data: unknown) => void): (() => void) => {
      // Demo / inspection screens never get credentials (nobody calls from them).
      if (topic === 'sip' && this.info.demo) return new ObservableValue<SipState>({ account: null }).subscribe(listener);
      if (topic === 'calls' && this.info.demo) return new ObservableValue<CallLogState>({ entries: [] }).subscribe(listener);
      if (topic === 'voice') {
        this.services.voiceListening(this, true);
        const off = this.services.voice.subscribe(({ session, windows }) => listener({ voice: session === this, windows }));
        return () => {
          off();
          this.services.voiceListening(this, false);
        };
      }
      return this.services.topics[topic].subscribe(listener);
    };
    // Deliver after the reply has been sent, so the client knows the id before the first snapshot arrives.
    let stop: (() => void) | null = null;
    const timer = setImmediate(() => {
      if (this.closed || !this.subscriptions.has(subscriptionId)) return;
      stop = listen((data) => this.push({ kind: 'snapshot', subscriptionId, topic, data }));
    });
    this.subscriptions.set(subscriptionId, () => {
      clearImmediate(timer);
      stop?.();
    });
    return subscriptionId;
  }

  unsubscribe(subscriptionId: string): void {
    const stop = this.subscriptions.get(subscriptionId);
    if (!stop) throw new HubError('not-found', `no subscription ${subscriptionId} in this session`);
    stop();
    this.subscriptions.delete(subscriptionId);
    this.rowQueries.delete(subscriptionId);
  }

  private rowsFor(query: RowQuery): Subscriptions {
    return this.services.replay.rowsFor(query) ?? this.services.rows;
  }

  /**
   * Replay started or stopped: every collection and positions subscription moves, with its id, to the rows that
   * serve it now; its first flush there is a whole result, which the window takes as a reset.
   */
  reroute(): void {
    if (this.closed) return;
    for (const [id, query] of this.rowQueries) {
      if (query.topic === 'outbox') continue;
      this.subscriptions.get(id)?.();
      this.subscriptions.set(id, this.rowsFor(query).add(this, id, query));
    }
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.subscriptions.values()) stop();
    this.subscriptions.clear();
    this.rowQueries.clear();
    this.services.forget(this);
    this.services.log.info('session closed', { label: this.info.label });
  }
}
