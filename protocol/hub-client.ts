/**
 * The renderer-side Hub API built on a raw transport. Both bridges (IPC via preload, WebSocket via the browser
 * host) use this, so they behave identically; only the transport differs. Replies are validated here: the
 * renderer trusts nothing that crosses the process boundary.
 */
import {
  HubError,
  hubMethods,
  type HubApi,
  type HubMethod,
  type HubParams,
  type HubResult,
  type HubTransport,
  type Query,
  type RowsChange,
  type SubscriptionUpdate,
  type Topic,
  type TopicData,
  type UpdateListener,
  ConnectionState,
  Settings,
  WallRequestState,
  SipState,
  CallLogState,
  AlarmVoiceState,
  ReplayState,
} from './hub-api/index';
import { describeIssues, validate } from './validate';

const topicSchemas = { connection: ConnectionState, settings: Settings, wall: WallRequestState, sip: SipState, calls: CallLogState, voice: AlarmVoiceState, replay: ReplayState } as const;

export function createHubClient(transport: HubTransport, bridge: HubApi['bridge']): HubApi {
  type Entry = {
    topic: string;
    deliver: (data: unknown) => void;
    patch?: (upserts: Array<Record<string, unknown>>, removes: string[]) => void;
    fail: (error: HubError) => void;
  };
  const subscriptions = new Map<string, Entry>();
  // Updates can arrive before subscribe()'s reply names the id: keep them until the listener is known.
  const early = new Map<string, SubscriptionUpdate[]>();
  // The pages of a large result received so far, per subscription (delivered as one with the last page).
  const pages = new Map<string, unknown[]>();

  function route(update: SubscriptionUpdate): void {
    const entry = subscriptions.get(update.subscriptionId);
    if (!entry) {
      const list = early.get(update.subscriptionId) ?? [];
      if (list.length < 100) list.push(update);
      early.set(update.subscriptionId, list);
      return;
    }
    if (update.kind === 'error') {
      entry.fail(HubError.from(update.error));
      return;
    }
    if (update.kind === 'snapshot') {
      const earlier = pages.get(update.subscriptionId);
      let data: unknown = update.data;
      if (earlier && Array.isArray(data)) {
        for (const row of data as unknown[]) earlier.push(row);
        data = earlier;
      }
      if (update.more && Array.isArray(data)) {
        pages.set(update.subscriptionId, data as unknown[]);
        return;
      }
      pages.delete(update.subscriptionId);
      entry.deliver(data);
    } else entry.patch?.(update.upserts, update.removes);
  }
  const stopUpdates = transport.onUpdate(route);

  async function call<M extends HubMethod>(method: M, params: HubParams<M>): Promise<HubResult<M>> {
    const reply = await transport.call(method, params);
    if (!reply.ok) throw HubError.from(reply.error);
    const checked = validate(hubMethods[method].result, reply.result);
    if (!checked.ok) throw new HubError('internal', `hub sent an invalid ${method} result: ${describeIssues(checked.issues)}`);
    return checked.value as HubResult<M>;
  }

  /** Subscribes, routes updates to `entry`, resolves after the first snapshot; returns the unsubscribe. */
  async function open(query: Query, entry: Entry, first: Promise<void>): Promise<() => Promise<void>> {
    const { subscriptionId } = await call('subscribe', { query });
    subscriptions.set(subscriptionId, entry);
    for (const update of early.get(subscriptionId) ?? []) route(update);
    early.delete(subscriptionId);
    await first;
    return async () => {
      pages.delete(subscriptionId);
      if (!subscriptions.delete(subscriptionId)) return;
      try {
        await call('unsubscribe', { subscriptionId });
      } catch (e) {
        // With the link to the hub gone the hub has already dropped this window's subscriptions.
        if (!(e instanceof HubError && e.code === 'unavailable')) throw e;
      }
    };
  }

  return {
    bridge,
    hello: (params = {}) => call('hello', params),
    getSettings: () => call('getSettings', {}),
    updateSettings: (patch) => call('updateSettings', patch),
    submitCommand: (command) => call('submitCommand', command),
    async subscribe<T extends Topic>(query: Extract<Query, { topic: T }>, listener: UpdateListener<T>) {
      const topic = (query as { topic: T }).topic;
      let firstResolve: () => void = () => {};
      const first = new Promise<void>((resolve) => (firstResolve = resolve));
      const entry: Entry = {
        topic,
        deliver: (data) => {
          const checked = validate(topicSchemas[topic], data);
          if (!checked.ok) {
            console.error(`hub sent invalid ${topic} data: ${describeIssues(checked.issues)}`);
            return;
          }
          listener(checked.value as TopicData[T]);
          firstResolve();
        },
        fail: (error) => console.error(`subscription to ${topic} failed: ${error.message}`),
      };
      return open(query, entry, first);
    },
    async subscribeRows(query: Query, listener: (rows: ReadonlyMap<string, never>, change: RowsChange<never>) => void) {
      const rows = new Map<string, Record<string, unknown>>();
      let firstResolve: () => void = () => {};
      const first = new Promise<void>((resolve) => (firstResolve = resolve));
      const emit = (change: RowsChange<Record<string, unknown>>): void => (listener as unknown as (r: typeof rows, c: typeof change) => void)(rows, change);
      // Rows are checked for shape (objects with a string id); full schema checks of 100,000 events per
      // window would cost more than they protect between two parts of the same application.
      const isRow = (row: unknown): row is Record<string, unknown> & { id: string } =>
        typeof row === 'object' && row !== null && typeof (row as { id?: unknown }).id === 'string';
      const entry: Entry = {
        topic: query.topic,
        deliver: (data) => {
          if (!Array.isArray(data) || !data.every(isRow)) {
            console.error(`hub sent an invalid ${query.topic} result`);
            return;
          }
          rows.clear();
          for (const row of data) rows.set(row.id, row);
          emit({ upserts: data, removes: [], reset: true });
          firstResolve();
        },
        patch: (upserts, removes) => {
          const valid = upserts.filter(isRow);
          for (const id of removes) rows.delete(id);
          for (const row of valid) rows.set(row.id, row);
          emit({ upserts: valid, removes, reset: false });
        },
        fail: (error) => console.error(`subscription to ${query.topic} failed: ${error.message}`),
      };
      return open(query, entry, first);
    },
    retryCommand: (commandId) => call('retryCommand', { commandId }),
    getCityLayer: (layer) => call('getCityLayer', { layer }),
    keyPersons: (target) => call('keyPersons', { target }),
    readAudit: (query) => call('readAudit', query),
    exportAudit: (query) => call('exportAudit', query),
    recordView: async (view) => void (await call('recordView', view)),
    showOnWall: (request) => call('showOnWall', request),
    logCall: async (entry) => void (await call('logCall', entry)),
    getWall: (wall) => call('getWall', { wall }),
    saveWall: async (wall, state) => void (await call('saveWall', { wall, state })),
    saveWallPreset: (preset) => call('saveWallPreset', preset),
    deleteWallPreset: (name) => call('deleteWallPreset', { name }),
    restartBackend: async () => void (await call('restartBackend', {})),
    signIn: (credentials) => call('signIn', credentials),
    signOut: async () => void (await call('signOut', {})),
    listUsers: () => call('listUsers', {}),
    createUser: (user) => call('createUser', user),
    updateUser: (id, change) => call('updateUser', { id, change }),
    listApiKeys: () => call('listApiKeys', {}),
    createApiKey: (key) => call('createApiKey', key),
    revokeApiKey: (id) => call('revokeApiKey', { id }),
    replayStart: (params) => call('replayStart', params),
    replaySeek: (at) => call('replaySeek', { at }),
    replayPlay: (speed) => call('replayPlay', { speed }),
    replayStop: () => call('replayStop', {}),
    replayTracks: (query) => call('replayTracks', query),
    eventCalls: (query) => call('eventCalls', query),
    discardCommand: async (commandId) => {
      await call('discardCommand', { commandId });
    },
    close() {
      subscriptions.clear();
      stopUpdates();
      transport.close();
    },
  };
}
