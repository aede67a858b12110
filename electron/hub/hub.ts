import { randomBytes } from 'node:crypto';
import {
  HUB_API_VERSION,
  HubError,
  hubMethods,
  isHubMethod,
  describeIssues,
  validate,
  type ConnectionState,
  type DisplayRole,
  type HelloResult,
  type HubMethod,
  type HubReply,
  type Query,
  type SubscriptionUpdate,
} from '../../protocol';
import { ObservableValue } from './observable';
import { SettingsStore } from './settings-store';
import { silentLogger, type Logger } from '../../common/logger';

export interface HubOptions {
  /** Where the hub keeps its files (settings now; the SQLite cache and outbox with the backend link). */
  dataDir: string;
  version: string;
  log?: Logger;
}

export interface SessionInfo {
  bridge: HelloResult['bridge'];
  /** The role the window was opened for (its display), or from the browser URL. */
  displayRole: DisplayRole;
  /** For logs: which window or socket this is. */
  label: string;
}

/** A window may hold this many live subscriptions; beyond it is a leak in the renderer, refused loudly. */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 256;

/**
 * The console's local brain: one per machine, shared by every window, plain Node (never imports electron).
 * Windows reach it through sessions, one per window or browser-host socket.
 */
export class Hub {
  readonly startedAt = new Date();
  readonly settings: SettingsStore;
  readonly connection: ObservableValue<ConnectionState>;
  readonly log: Logger;
  private readonly sessions = new Set<HubSession>();

  constructor(readonly options: HubOptions) {
    this.log = options.log ?? silentLogger;
    this.settings = new SettingsStore(options.dataDir, this.log);
    this.connection = new ObservableValue<ConnectionState>({
      status: 'offline',
      since: this.startedAt.toISOString(),
      backendUrl: this.settings.settings.value.backendUrl,
      pendingCommands: 0,
      rejectedCommands: 0,
      reconnectAttempt: 0,
      nextRetryAt: null,
      // Until the backend link lands (hub issue) the hub has no backend to talk to; it says so instead of pretending.
      lastError: { code: 'no-backend-link', message: 'this hub build has no backend link yet' },
      commandLevel: null,
    });
  }

  openSession(info: SessionInfo, push: (update: SubscriptionUpdate) => void): HubSession {
    const session = new HubSession(this, info, push);
    this.sessions.add(session);
    this.log.info('session opened', { bridge: info.bridge, label: info.label, displayRole: info.displayRole });
    return session;
  }

  /** @internal called by HubSession.close */
  forget(session: HubSession): void {
    this.sessions.delete(session);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Records where the backend runs (embedded or configured); the link to it arrives with the hub issue. */
  setBackend(url: string | null, detail: string): void {
    this.connection.set({
      ...this.connection.value,
      backendUrl: url,
      lastError: { code: 'no-backend-link', message: detail },
    });
  }

  close(): void {
    for (const session of [...this.sessions]) session.close();
  }
}

export class HubSession {
  private readonly subscriptions = new Map<string, () => void>();
  private closed = false;

  constructor(
    private readonly hub: Hub,
    readonly info: SessionInfo,
    private readonly push: (update: SubscriptionUpdate) => void,
  ) {}

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
        // The contract is fixed now; the outbox that makes commands safe offline arrives with the backend link.
        throw new HubError('unavailable', 'commands need the backend link and outbox, which this hub build does not have yet');
    }
  }

  private subscribe(query: Query): string {
    if (this.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SESSION) {
      throw new HubError('unavailable', `too many subscriptions in this window (${MAX_SUBSCRIPTIONS_PER_SESSION}); a view is leaking them`);
    }
    const subscriptionId = `sub-${randomBytes(6).toString('hex')}`;
    const source = query.topic === 'connection' ? this.hub.connection : this.hub.settings.settings;
    // Deliver after the reply has been sent, so the client knows the id before the first snapshot arrives.
    let stop: (() => void) | null = null;
    const timer = setImmediate(() => {
      if (this.closed || !this.subscriptions.has(subscriptionId)) return;
      stop = (source as ObservableValue<unknown>).subscribe((data) =>
        this.push({ kind: 'snapshot', subscriptionId, topic: query.topic, data }),
      );
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
