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
  type SubscriptionUpdate,
  type Topic,
  type TopicData,
  type UpdateListener,
  ConnectionState,
  Settings,
} from './hub-api';
import { describeIssues, validate } from './validate';

const topicSchemas = { connection: ConnectionState, settings: Settings } as const;

export function createHubClient(transport: HubTransport, bridge: HubApi['bridge']): HubApi {
  type Entry = { topic: Topic; deliver: (data: unknown) => void; fail: (error: HubError) => void };
  const subscriptions = new Map<string, Entry>();
  // Updates can arrive before subscribe()'s reply names the id: keep them until the listener is known.
  const early = new Map<string, SubscriptionUpdate[]>();

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
    if (update.kind === 'snapshot') entry.deliver(update.data);
    // Patches are for collection topics; the two topics defined so far are single objects sent as snapshots.
  }
  const stopUpdates = transport.onUpdate(route);

  async function call<M extends HubMethod>(method: M, params: HubParams<M>): Promise<HubResult<M>> {
    const reply = await transport.call(method, params);
    if (!reply.ok) throw HubError.from(reply.error);
    const checked = validate(hubMethods[method].result, reply.result);
    if (!checked.ok) throw new HubError('internal', `hub sent an invalid ${method} result: ${describeIssues(checked.issues)}`);
    return checked.value as HubResult<M>;
  }

  return {
    bridge,
    hello: (params = {}) => call('hello', params),
    getSettings: () => call('getSettings', {}),
    updateSettings: (patch) => call('updateSettings', patch),
    submitCommand: (command) => call('submitCommand', command),
    async subscribe<T extends Topic>(query: Extract<Query, { topic: T }>, listener: UpdateListener<T>) {
      const topic = query.topic as T;
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
      const { subscriptionId } = await call('subscribe', { query });
      subscriptions.set(subscriptionId, entry);
      for (const update of early.get(subscriptionId) ?? []) route(update);
      early.delete(subscriptionId);
      await first;
      return async () => {
        if (!subscriptions.delete(subscriptionId)) return;
        await call('unsubscribe', { subscriptionId });
      };
    },
    close() {
      subscriptions.clear();
      stopUpdates();
      transport.close();
    },
  };
}
