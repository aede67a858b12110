/**
 * What one page may ask of the browser host (in process, with short limits): large results come in pages the
 * client joins, a page that stops reading gets nothing more meanwhile (its changes coalesce and arrive when it
 * reads again), one stuck for too long is closed with the reason, and commands are queued as validated.
 */
import { afterAll, describe, expect } from 'vitest';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { Hub } from '../../hub';
import { startBrowserHost, type BrowserHost } from '../../host/server';
import { createHubClient, type SubscriptionUpdate } from '../../protocol';
import { createLogger } from '../../node-util/logger';
import { connectWsTransport } from '../../renderer/src/transports/ws-transport';
import { seedHubCache } from '../../harness/seeded-cache';
import { waitFor } from '../../harness/temp';
import { it } from '../../harness/fixtures';

const EVENTS = 2500;
let hub: Hub;
let host: BrowserHost;
let sample: ReturnType<typeof seedHubCache>['sample'];
const logLines: string[] = [];

// The hub's data in the file's temp dir (the `fileDir` fixture, removed after the file, after the host and hub).
it.beforeAll(async ({ fileDir }) => {
  sample = seedHubCache(join(fileDir, 'data'), EVENTS).sample;
  hub = new Hub({ dataDir: join(fileDir, 'data'), version: 't', backend: null, log: createLogger('hub', 'info', (line) => logLines.push(line)) });
  host = await startBrowserHost({ hub, rendererDir: fileDir, pageLimits: { highWaterBytes: 256 * 1024, lowWaterBytes: 64 * 1024, stuckMs: 1500 } });
});
afterAll(async () => {
  await host.close();
  hub.close();
});

interface Page {
  ws: WebSocket;
  updates: SubscriptionUpdate[];
  replies: Map<number, { ok: boolean; result?: { subscriptionId?: string } }>;
  call(id: number, method: string, params: unknown): void;
}

async function openPage(): Promise<Page> {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/hub?token=${host.token}`, { maxPayload: 64 * 2 ** 20 });
  await new Promise((resolve) => ws.once('open', resolve));
  const page: Page = { ws, updates: [], replies: new Map(), call: (id, method, params) => ws.send(JSON.stringify({ id, method, params })) };
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; reply?: { ok: boolean }; update?: SubscriptionUpdate };
    if (message.update) page.updates.push(message.update);
    else page.replies.set(message.id!, message.reply!);
  });
  return page;
}

const eventsQuery = { query: { topic: 'collection', collection: 'events' } };
let commandNo = 0;
/** Queues a report (as another window would); answers its title, which its predicted event carries. */
function report(): string {
  const title = `测试-${++commandNo}`;
  hub.submitCommand({ commandId: `limits-${commandNo}`, type: 'event.report', payload: { source: 'hotline', category: sample.category, severity: 1, title, description: '', location: sample.location } });
  return title;
}

describe('a large result comes in pages', () => {
  it('2,500 events: three pages, the first two marked more; the hub client joins them into one result', async () => {
    const page = await openPage();
    page.call(1, 'subscribe', eventsQuery);
    await waitFor(() => page.updates.some((u) => u.kind === 'snapshot' && !u.more), 'the last page');
    const pages = page.updates.filter((u) => u.kind === 'snapshot');
    expect(pages.map((u) => (u.kind === 'snapshot' ? [(u.data as unknown[]).length, u.more ?? false] : null))).toEqual([
      [1000, true],
      [1000, true],
      [500, false],
    ]);
    page.ws.close();

    const api = createHubClient(await connectWsTransport({ origin: host.origin, token: host.token }), 'websocket');
    const resets: number[] = [];
    await api.subscribeRows({ topic: 'collection', collection: 'events' }, (rows, change) => change.reset && resets.push(rows.size));
    expect(resets).toEqual([EVENTS]);
    api.close();
  });
});

describe('a page that stops reading', () => {
  it('gets nothing more meanwhile; its changes coalesce into one patch it gets when it reads again', async () => {
    const page = await openPage();
    page.call(1, 'subscribe', eventsQuery);
    await waitFor(() => page.updates.some((u) => u.kind === 'snapshot' && !u.more), 'the first result');
    const watched = page.replies.get(1)!.result!.subscriptionId!;
    page.ws.pause();
    // Ten more results (~40 MB) fill the socket: the host counts the page as congested.
    for (let id = 2; id < 12; id++) page.call(id, 'subscribe', eventsQuery);
    await new Promise((r) => setTimeout(r, 500));
    const titles: string[] = [];
    for (let i = 0; i < 3; i++) {
      titles.push(report());
      await new Promise((r) => setTimeout(r, 250)); // more than the 100 ms flush interval apart
    }
    page.ws.resume();
    const patches = (): Array<Extract<SubscriptionUpdate, { kind: 'patch' }>> =>
      page.updates.filter((u): u is Extract<SubscriptionUpdate, { kind: 'patch' }> => u.kind === 'patch' && u.subscriptionId === watched);
    await waitFor(() => patches().some((p) => titles.every((title) => p.upserts.some((r) => r.title === title))), 'one patch with all three new events', 10_000);
    expect(patches()).toHaveLength(1);
    page.ws.close();
  });

  it('is closed once it stays stuck past the limit (4408, logged with the reason); other pages are served', async () => {
    const stuck = await openPage();
    const sessions = hub.sessionCount;
    for (let id = 1; id <= 10; id++) stuck.call(id, 'subscribe', eventsQuery);
    stuck.ws.pause();
    const other = await openPage();
    await waitFor(() => logLines.some((l) => l.includes('page-stuck')), 'the stuck page closed', 8000);
    expect(logLines.find((l) => l.includes('page-stuck'))).toMatch(/KiB unread for 2 s/);
    await waitFor(() => hub.sessionCount === sessions, 'the stuck session gone', 5000);
    other.call(99, 'hello', {});
    await waitFor(() => other.replies.get(99)?.ok === true, 'hello answered');
    other.ws.close();
    stuck.ws.terminate();
  });
});

describe('commands are queued as validated', () => {
  it('fields a command does not have are dropped before the cache', async () => {
    const session = hub.openSession({ bridge: 'websocket', displayRole: 'combined', label: 'test' }, () => {});
    const payload = { source: 'hotline', category: sample.category, severity: 1, title: ' 带空格 ', description: '', location: sample.location, smuggled: { deep: [[[1]]] } };
    const reply = await session.handle('submitCommand', { commandId: 'validated-1', type: 'event.report', payload });
    expect(reply).toMatchObject({ ok: true });
    expect(hub.cache.command('validated-1')!.payload).toEqual({ ...payload, title: '带空格', smuggled: undefined });
    expect(hub.cache.command('validated-1')!.payload).not.toHaveProperty('smuggled');
    session.close();
  });
});
