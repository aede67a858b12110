/**
 * The renderer's data layer with a fake Hub API: one hub subscription per selection however many read it,
 * a late reader gets the rows already there at once, the last reader to leave unsubscribes, and selections
 * with other filters are kept apart.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { HubApi, RowsChange } from '../../protocol';
import { useHubStore } from '../../renderer/src/stores/hub';
import { selectionKey, useRowsStore } from '../../renderer/src/data';

type Listener = (rows: ReadonlyMap<string, { id: string }>, change: RowsChange<{ id: string }>) => void;

describe('shared rows', () => {
  const opened: Array<{ query: unknown; listener: Listener; stopped: boolean }> = [];

  beforeEach(() => {
    opened.length = 0;
    setActivePinia(createPinia());
    useHubStore().api = {
      subscribeRows: async (query: unknown, listener: Listener) => {
        const sub = { query, listener, stopped: false };
        opened.push(sub);
        const rows = new Map([['a', { id: 'a' }]]);
        listener(rows, { upserts: [...rows.values()], removes: [], reset: true });
        return async () => void (sub.stopped = true);
      },
    } as unknown as HubApi;
  });

  it('subscribes once per selection, feeds late readers at once, and stops with the last reader', async () => {
    const data = useRowsStore();
    const seen: string[] = [];
    const stopA = await data.read({ topic: 'collection', collection: 'staff' }, (rows, change) => seen.push(`A:${[...rows.keys()].join()}:${change.reset}`));
    const stopB = await data.read({ topic: 'collection', collection: 'staff' }, (rows, change) => seen.push(`B:${[...rows.keys()].join()}:${change.reset}`));
    expect(opened).toHaveLength(1);
    expect(seen).toEqual(['A:a:true', 'B:a:true']);
    const rows = new Map([['a', { id: 'a' }], ['b', { id: 'b' }]]);
    opened[0]!.listener(rows, { upserts: [{ id: 'b' }], removes: [], reset: false });
    expect(seen.slice(2)).toEqual(['A:a,b:false', 'B:a,b:false']);
    await stopA();
    await stopA(); // twice is once
    expect(opened[0]!.stopped).toBe(false);
    await stopB();
    expect(opened[0]!.stopped).toBe(true);
    expect(data.selections()).toEqual([]);
    await data.read({ topic: 'collection', collection: 'staff' }, () => {});
    expect(opened).toHaveLength(2);
  });

  it('keeps selections apart by filter, and one filter in any key order is one selection', async () => {
    const data = useRowsStore();
    await data.read({ topic: 'collection', collection: 'events', filter: { openOnly: true } }, () => {});
    await data.read({ topic: 'collection', collection: 'events', filter: { ids: ['E1'] } }, () => {});
    await data.read({ topic: 'collection', collection: 'events', filter: { ids: ['E1'] } }, () => {});
    await data.read({ topic: 'positions' }, () => {});
    expect(opened).toHaveLength(3);
    expect(selectionKey({ topic: 'collection', collection: 'events', filter: { sources: ['video-ai'], openOnly: true } })).toBe(selectionKey({ topic: 'collection', collection: 'events', filter: { openOnly: true, sources: ['video-ai'] } }));
    expect(selectionKey({ topic: 'collection', collection: 'adminUnits', filter: {} })).toBe(selectionKey({ topic: 'collection', collection: 'adminUnits' }));
  });

  it('a failed start reaches every waiting reader and leaves nothing behind', async () => {
    useHubStore().api = { subscribeRows: async () => Promise.reject(new Error('refused')) } as unknown as HubApi;
    const data = useRowsStore();
    await expect(data.read({ topic: 'outbox' }, () => {})).rejects.toThrow('refused');
    expect(data.selections()).toEqual([]);
  });
});
