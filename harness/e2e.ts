/** Shared pieces of the e2e files: the screenshot folder, a second window's Hub API (Chromium is a fixture: fixtures.ts). */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHubClient, type CollectionName, type Grid, type HubApi, type ViewRow } from '../protocol';
import { connectWsTransport } from '../renderer/src/transports/ws-transport';
import { PROJECT_ROOT, type HostProcess } from './browser';

export const SHOTS = join(PROJECT_ROOT, 'test-results/e2e');
mkdirSync(SHOTS, { recursive: true });

/** The Hub API as another window of this console would have it (the browser host's WebSocket bridge). */
export async function hubBridge(host: HostProcess): Promise<HubApi> {
  const url = new URL(host.url);
  return createHubClient(await connectWsTransport({ origin: url.origin, token: url.searchParams.get('token')! }), 'websocket');
}

/** Some grid of the city (to place reports in). */
export async function anyGrid(api: HubApi): Promise<Grid> {
  let grid: Grid | undefined;
  await (await api.subscribeRows({ topic: 'collection', collection: 'grids' }, (rows) => (grid ??= rows.values().next().value)))();
  if (!grid) throw new Error('the hub has no grids yet');
  return grid;
}

/** A collection's rows once the hub has them: the embedded backend starts beside the host, so they come later. */
export async function syncedRows<C extends CollectionName>(api: HubApi, collection: C, timeoutMs = 60_000): Promise<Array<ViewRow<C>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let rows: Array<ViewRow<C>> = [];
    await (await api.subscribeRows({ topic: 'collection', collection }, (r) => (rows = [...r.values()])))();
    if (rows.length > 0) return rows;
    if (Date.now() > deadline) throw new Error(`the hub has no ${collection} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
