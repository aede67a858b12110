/**
 * Hub ↔ backend under faults, with real processes' parts: the real backend on a real SQLite file, the hub with
 * its real cache file, and a TCP proxy between them that cuts, blocks, holds and slows the link.
 * Every scenario ends with the hub's confirmed state equal to the server's: 0 lost, 0 duplicated.
 */
import { afterEach, describe, expect } from 'vitest';
import type { GovEvent, Grid, OutboxEntry } from '../../protocol';
import type { Hub } from '../../hub';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { TcpProxy } from '../../harness/tcp-proxy';
import { WireClient } from '../../harness/wire-client';
import { waitFor } from '../../harness/temp';
import { expectInStep, hubDir, makeHub, recordingSession, waitCaughtUp, waitOnline } from '../../harness/hub-fixtures';
import { historyOf } from '../../harness/history';
import { timelineId } from '../../domain';
import { it } from '../../harness/fixtures';

let temp: { dir: string };
let backend: Awaited<ReturnType<typeof startTestBackend>>;
let proxy: TcpProxy;
let hub: Hub | null;

const BACKEND = { historyDays: 1, kpiIntervalMs: 60_000 };

// A fresh backend per test in the test's temp dir (the `startBackend` fixture: closed after the test, the dir removed).
it.beforeEach(async ({ dataDir, startBackend }) => {
  temp = { dir: dataDir };
  backend = await startBackend(BACKEND);
  // The history ends now: in the small hours of the city's day it may hold no event still 'new'. A scripted
  // scenario reports fresh ones, so the tests below never depend on the time of day they run at.
  if ([...backend.state.collections.events.values()].filter((e) => e.status === 'new').length < 3) await backend.injectScenario('crowd');
  proxy = await TcpProxy.start(backend.port);
  hub = null;
}, 60_000);

afterEach(async () => {
  hub?.close();
  await proxy.close();
});

function openEvent(state: { collections: { events: Map<string, GovEvent> } }, status: GovEvent['status'] = 'new'): GovEvent {
  return [...state.collections.events.values()].find((e) => e.status === status)!;
}

async function otherConsole(): Promise<WireClient> {
  const c = new WireClient({ url: backend.url, token: TEST_TOKENS.duty });
  await c.waitSynced();
  return c;
}

describe('hub sync', () => {
  it('syncs the whole city, then follows live changes; windows get the result and patches', async () => {
    hub = makeHub(hubDir(temp.dir), proxy);
    await waitOnline(hub);
    expectInStep(hub, backend);
    const { updates, session } = recordingSession(hub);
    await session.handle('subscribe', { query: { topic: 'collection', collection: 'events', filter: { openOnly: true } } });
    await waitFor(() => updates.some((u) => u.kind === 'snapshot'), 'the first result');
    const other = await otherConsole();
    const grid = other.all<Grid>('grids')[0]!;
    const ack = await other.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '实时事件', description: '', location: grid.center });
    await waitFor(() => updates.some((u) => u.kind === 'patch' && u.upserts.some((r) => r.id === ack.result.eventId)), 'the patch with the new event');
    expect(hub.backendLink!.lastSync).toBe('snapshot');
    other.close();
  });

  it('link cut mid-snapshot: the hub resumes the snapshot where it stopped', async () => {
    proxy.bytesPerSecond = 400_000;
    hub = makeHub(hubDir(temp.dir), proxy);
    await waitFor(() => (hub!.cache.stagedSnapshot()?.nextIndex ?? 0) >= 3, 'three chunks staged', 30_000);
    const staged = hub.cache.stagedSnapshot()!;
    proxy.cut();
    proxy.bytesPerSecond = 0;
    await waitOnline(hub);
    expect(hub.backendLink!.lastSync).toBe('resume-snapshot');
    expect(hub.cache.stagedSnapshot()).toBeNull();
    expect(staged.nextIndex).toBeGreaterThanOrEqual(3);
    expectInStep(hub, backend);
  });

  it('link cut mid-delta stream: no gap, nothing missed', async () => {
    hub = makeHub(hubDir(temp.dir), proxy);
    await waitOnline(hub);
    const other = await otherConsole();
    const grid = other.all<Grid>('grids')[0]!;
    const start = hub.cache.lastSeq;
    const sending = (async () => {
      for (let i = 0; i < 40; i++) await other.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: `连续事件 ${i}`, description: '', location: grid.center });
    })();
    await waitFor(() => hub!.cache.lastSeq >= start + 10, 'ten deltas applied');
    proxy.cut();
    await sending;
    await waitCaughtUp(hub, backend);
    expect(hub.backendLink!.lastSync).toBe('deltas');
    expectInStep(hub, backend);
    other.close();
  });

  it('link cut between a command and its ack: the replay is answered as a duplicate, applied once', async () => {
    hub = makeHub(hubDir(temp.dir), proxy);
    await waitOnline(hub);
    const event = openEvent(hub.confirmed);
    proxy.holdDownstream = true; // the backend gets the command; its ack never comes back
    hub.submitCommand({ commandId: 'cmd-lost-ack-0001', type: 'event.comment', payload: { eventId: event.id, text: '确认只记录一次' } });
    await waitFor(() => historyOf(backend.state.all('timeline'), event.id).some((t) => t.note === '确认只记录一次'), 'the backend to apply it');
    expect(hub.connection.value.pendingCommands).toBe(1);
    proxy.cut();
    proxy.holdDownstream = false;
    await waitCaughtUp(hub, backend);
    const comments = historyOf(backend.state.all('timeline'), event.id).filter((t) => t.note === '确认只记录一次');
    expect(comments).toHaveLength(1);
    expectInStep(hub, backend);
  });

  it('backend killed and restarted with its own database: the hub comes back and sends what it queued', async ({ startBackend }) => {
    hub = makeHub(hubDir(temp.dir), proxy);
    await waitOnline(hub);
    const event = openEvent(hub.confirmed);
    await backend.close();
    await waitFor(() => hub!.connection.value.status !== 'online', 'the hub to notice');
    hub.submitCommand({ commandId: 'cmd-while-down-01', type: 'event.accept', payload: { eventId: event.id } });
    await waitFor(() => hub!.view.get('events', event.id)?.status === 'accepted', 'the optimistic guess');
    backend = await startBackend(BACKEND); // the same data dir: its own database
    proxy.targetPort = backend.port;
    await waitCaughtUp(hub, backend);
    expect(backend.state.get('events', event.id)!.status).toBe('accepted');
    expect(hub.view.isGuess('events', event.id)).toBe(false);
    expectInStep(hub, backend);
  });

  it('hub restarted while offline: opens from the cache, marked offline since the last sync, then replays', async () => {
    hub = makeHub(hubDir(temp.dir), proxy);
    await waitOnline(hub);
    const events = hub.confirmed.collections.events.size;
    const lastSynced = hub.connection.value.lastSyncedAt;
    const target = openEvent(hub.confirmed);
    proxy.block();
    await waitFor(() => hub!.connection.value.status !== 'online', 'offline');
    hub.submitCommand({ commandId: 'cmd-cold-000001', type: 'event.comment', payload: { eventId: target.id, text: '离线时记录' } });
    hub.close();
    hub = makeHub(hubDir(temp.dir), proxy);
    // Cold start from the cache, the backend unreachable.
    expect(hub.confirmed.collections.events.size).toBe(events);
    expect(hub.connection.value.pendingCommands).toBe(1);
    expect(hub.connection.value.status).not.toBe('online');
    expect(Date.parse(hub.connection.value.since)).toBeGreaterThanOrEqual(Date.parse(lastSynced!) - 1);
    expect(hub.connection.value.user?.id).toBe('dispatcher');
    await waitFor(() => hub!.connection.value.status === 'offline', 'offline after the first failed try');
    const predicted = hub.view.get('events', target.id)!;
    expect(hub.view.get('timeline', timelineId(target.id, predicted.timelineCount - 1))!.note).toBe('离线时记录');
    proxy.unblock();
    await waitCaughtUp(hub, backend);
    expect(historyOf(backend.state.all('timeline'), target.id).filter((t) => t.note === '离线时记录')).toHaveLength(1);
    expectInStep(hub, backend);
  });

  it('1,000 commands issued offline, then replayed: 0 lost, 0 duplicated, the rejected ones kept with reasons', async () => {
    hub = makeHub(hubDir(temp.dir), proxy);
    await waitOnline(hub);
    const other = await otherConsole();
    const grid = other.all<Grid>('grids')[0]!;
    const fresh: string[] = [];
    for (let i = 0; i < 20; i++) fresh.push(String((await other.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: `待受理 ${i}`, description: '', location: grid.center })).result.eventId));
    other.close();
    await waitCaughtUp(hub, backend);
    const open = fresh.map((id) => hub!.confirmed.get('events', id)!);
    const all = [...hub.confirmed.collections.events.values()];
    proxy.block();
    await waitFor(() => hub!.connection.value.status !== 'online', 'offline');
    let n = 0;
    for (const event of open) {
      // Each accepted twice: the second is refused on replay ("it is accepted").
      hub.submitCommand({ commandId: `cmd-acc-${event.id}-1`, type: 'event.accept', payload: { eventId: event.id } });
      hub.submitCommand({ commandId: `cmd-acc-${event.id}-2`, type: 'event.accept', payload: { eventId: event.id } });
      n += 2;
    }
    for (let i = 0; n < 1000; i++, n++) {
      const event = all[i % all.length]!;
      hub.submitCommand({ commandId: `cmd-note-${String(i).padStart(5, '0')}`, type: 'event.comment', payload: { eventId: event.id, text: `离线备注 #${i}#` } });
    }
    expect(hub.connection.value.pendingCommands).toBe(1000);
    proxy.unblock();
    await waitFor(() => hub!.connection.value.pendingCommands === 0, 'the outbox to drain', 60_000);
    await waitCaughtUp(hub, backend);
    // 0 lost, 0 duplicated: every note exactly once on the server.
    const notes = new Map<string, number>();
    for (const t of backend.state.all('timeline')) if (t.action === 'comment' && t.note?.startsWith('离线备注')) notes.set(t.note, (notes.get(t.note) ?? 0) + 1);
    expect(notes.size).toBe(960);
    expect([...notes.values()].every((count) => count === 1)).toBe(true);
    for (const event of open) expect(backend.state.get('events', event.id)!.status).toBe('accepted');
    const rejected: OutboxEntry[] = hub.cache.outbox();
    expect(rejected).toHaveLength(20);
    expect(rejected.every((r) => r.status === 'rejected' && r.error?.code === 'conflict' && /事件 .* 当前为「已受理」，不能受理/.test(r.error.message) && r.error.reason?.key === 'event.wrongStatus')).toBe(true);
    expect(hub.connection.value.rejectedCommands).toBe(20);
    expectInStep(hub, backend);
  }, 90_000);

  it('a slow link (latency, little bandwidth) still converges', async () => {
    hub = makeHub(hubDir(temp.dir), proxy);
    await waitOnline(hub);
    proxy.latencyMs = 150;
    proxy.bytesPerSecond = 60_000;
    const other = await otherConsole();
    const grid = other.all<Grid>('grids')[0]!;
    const event = openEvent(hub.confirmed);
    for (let i = 0; i < 20; i++) hub.submitCommand({ commandId: `cmd-slow-${String(i).padStart(4, '0')}`, type: 'event.comment', payload: { eventId: event.id, text: `慢速链路 ${i}` } });
    for (let i = 0; i < 20; i++) await other.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: `慢速 ${i}`, description: '', location: grid.center });
    await waitCaughtUp(hub, backend, 60_000);
    expectInStep(hub, backend);
    other.close();
  }, 90_000);
});

describe('cache recovery', () => {
  it('a corrupt cache file is moved aside and rebuilt from the backend, with a visible notice', async () => {
    const dir = hubDir(temp.dir, 'corrupt-hub');
    (await import('node:fs')).mkdirSync(dir, { recursive: true });
    (await import('node:fs')).writeFileSync(`${dir}/cache.sqlite`, Buffer.alloc(8192, 7));
    hub = makeHub(dir, proxy);
    expect(hub.connection.value.notice?.code).toBe('cache-rebuilt');
    await waitCaughtUp(hub, backend);
    expectInStep(hub, backend);
  });
});
