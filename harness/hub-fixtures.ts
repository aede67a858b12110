/** A hub linked to a real backend through a TCP proxy, and the checks the fault tests share. */
import { expect } from 'vitest';
import { join } from 'node:path';
import { COLLECTIONS, type SubscriptionUpdate } from '../protocol';
import { Hub, type HubOptions } from '../hub';
import type { RunningBackend } from '../backend/index';
import type { TcpProxy } from './tcp-proxy';
import { TEST_TOKENS } from './backend';
import { waitFor } from './temp';

export function makeHub(dataDir: string, proxy: TcpProxy, extra: Partial<HubOptions> = {}): Hub {
  return new Hub({
    dataDir,
    version: 'test',
    backend: { url: proxy.url, token: TEST_TOKENS.dispatcher },
    link: { backoffBaseMs: 50, backoffMaxMs: 400, silenceLimitMs: 4000 },
    flushIntervalMs: 20,
    ...extra,
  });
}

export async function waitOnline(hub: Hub, timeoutMs = 30_000): Promise<void> {
  await waitFor(() => hub.connection.value.status === 'online', `hub online (now ${hub.connection.value.status}: ${JSON.stringify(hub.connection.value.lastError)})`, timeoutMs);
}

export async function waitCaughtUp(hub: Hub, backend: RunningBackend, timeoutMs = 30_000): Promise<void> {
  await waitFor(() => hub.connection.value.status === 'online' && hub.cache.lastSeq === backend.state.seq && hub.connection.value.pendingCommands === 0, `hub caught up (hub seq ${hub.cache.lastSeq}, backend ${backend.state.seq}, pending ${hub.connection.value.pendingCommands})`, timeoutMs);
}

/** The hub's confirmed state (memory and cache file) equals the server's, collection by collection. */
export function expectInStep(hub: Hub, backend: RunningBackend): void {
  expect(hub.cache.lastSeq).toBe(backend.state.seq);
  const fromFile = hub.cache.loadState();
  for (const collection of COLLECTIONS) {
    const server = backend.state.collections[collection];
    for (const state of [hub.confirmed, fromFile]) {
      const local = state.collections[collection];
      expect(local.size, `${collection} count`).toBe(server.size);
      for (const [id, item] of server) {
        // Staff positions are volatile presence, not sequenced state.
        if (collection === 'staff') expect({ ...(local.get(id) as object), position: null }).toEqual({ ...(item as object), position: null });
        else expect(local.get(id), `${collection} ${id}`).toEqual(item);
      }
    }
  }
}

/** A session that records what a window would be pushed. */
export function recordingSession(hub: Hub): { updates: SubscriptionUpdate[]; session: ReturnType<Hub['openSession']> } {
  const updates: SubscriptionUpdate[] = [];
  const session = hub.openSession({ bridge: 'websocket', displayRole: 'dispatch', label: 'test' }, (u) => updates.push(u));
  return { updates, session };
}

export const hubDir = (root: string, name = 'hub'): string => join(root, name);
