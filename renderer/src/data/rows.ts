/**
 * The window's one data layer: each selection of rows (a collection with its filter, live positions, the
 * outbox) is subscribed at the hub once per window, however many stores, views and map layers read it. The
 * first reader subscribes, the last one to leave unsubscribes, and a reader that comes later gets the rows
 * already there at once (as a whole result), so nobody keeps a second copy or a second subscription.
 */
import { defineStore } from 'pinia';
import type { CollectionFilter, CollectionName, HubApi, OutboxEntry, PositionRow, RowsChange, RowsListener, ViewRow } from '../../../protocol';
import { useHubStore } from '../stores/hub';

export type Stop = () => Promise<void>;
export type RowsQuery = { topic: 'collection'; collection: CollectionName; filter?: CollectionFilter } | { topic: 'positions' } | { topic: 'outbox' };

type AnyListener = RowsListener<unknown>;
interface Reader {
  listener: AnyListener;
  /** Has had a whole result (from the hub's first delivery or from the rows already here). */
  fed: boolean;
}
interface Entry {
  readers: Set<Reader>;
  rows: ReadonlyMap<string, unknown> | null;
  started: Promise<Stop>;
}

/** One key per selection: the same filter written in another key order, or empty, is the same selection. */
export function selectionKey(query: RowsQuery): string {
  if (query.topic !== 'collection') return query.topic;
  const filter = query.filter ?? {};
  const parts = (Object.keys(filter) as Array<keyof CollectionFilter>)
    .filter((k) => filter[k] !== undefined)
    .sort()
    .map((k) => `${k}=${JSON.stringify(filter[k])}`);
  return `collection:${query.collection}${parts.length ? `?${parts.join('&')}` : ''}`;
}

function deliver(reader: Reader, rows: ReadonlyMap<string, unknown>, change: RowsChange<unknown>): void {
  reader.fed = true;
  try {
    reader.listener(rows, change);
  } catch (e) {
    // One reader's mistake must not starve the others of the same rows.
    console.error('a reader of shared rows failed', e);
  }
}

/** The hub's overloads cannot take the union of queries; each query reaches its own overload at run time. */
type UntypedRows = { subscribeRows(query: RowsQuery, listener: AnyListener): Promise<Stop> };

export const useRowsStore = defineStore('rows', () => {
  const hub = useHubStore();
  const entries = new Map<string, Entry>();

  function open(api: HubApi, key: string, query: RowsQuery): Entry {
    const entry: Entry = { readers: new Set(), rows: null, started: Promise.resolve(async () => {}) };
    entry.started = (api as unknown as UntypedRows).subscribeRows(query, (rows, change) => {
      entry.rows = rows;
      for (const reader of [...entry.readers]) deliver(reader, rows, change);
    });
    entries.set(key, entry);
    return entry;
  }

  /** Reads a selection of rows: the whole result, then patches, as the hub's subscribeRows gives them. */
  function read<C extends CollectionName>(query: { topic: 'collection'; collection: C; filter?: CollectionFilter }, listener: RowsListener<ViewRow<C>>): Promise<Stop>;
  function read(query: { topic: 'positions' }, listener: RowsListener<PositionRow>): Promise<Stop>;
  function read(query: { topic: 'outbox' }, listener: RowsListener<OutboxEntry>): Promise<Stop>;
  async function read(query: RowsQuery, listener: RowsListener<never>): Promise<Stop> {
    const api = hub.api;
    if (!api) throw new Error('the hub is not connected');
    const key = selectionKey(query);
    const entry = entries.get(key) ?? open(api, key, query);
    const reader: Reader = { listener: listener as AnyListener, fed: false };
    entry.readers.add(reader);
    try {
      await entry.started;
    } catch (e) {
      entry.readers.delete(reader);
      if (entries.get(key) === entry) entries.delete(key);
      throw e;
    }
    // A reader that joined after the first result has it now, like a subscription of its own would.
    if (!reader.fed && entry.rows) deliver(reader, entry.rows, { upserts: [...entry.rows.values()], removes: [], reset: true });
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      entry.readers.delete(reader);
      if (entry.readers.size > 0 || entries.get(key) !== entry) return;
      entries.delete(key);
      await (await entry.started)();
    };
  }

  /** How many selections this window holds at the hub (tests, diagnostics). */
  function selections(): string[] {
    return [...entries.keys()];
  }

  return { read, selections };
});
