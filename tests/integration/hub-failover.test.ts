/**
 * Failover on the real path: the hub given several backend addresses (instances on one database) links to one
 * at a time and moves on when it refuses or dies; it resumes by seq, resends its outbox, and the status it
 * shows names the instance it is on. Real backends (in process, and as child processes killed with SIGKILL),
 * the hub with its real cache file; no sleeps, every wait on state.
 */
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { consoleMediaOrigins } from '../../hub';
import { TEST_TOKENS } from '../../harness/backend';
import { historyOf } from '../../harness/history';
import { TcpProxy } from '../../harness/tcp-proxy';
import { waitFor } from '../../harness/temp';
import { it } from '../../harness/fixtures';

/** A port nobody listens on (taken from the system, then let go). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

it('a list whose first address is dead: the hub links to the live one at once and its state names it', async ({ startBackend, newHub }) => {
  const live = await startBackend({ instanceName: '二号实例', kpiIntervalMs: 60_000 });
  const dead = `ws://127.0.0.1:${await freePort()}/ws`;
  // The hub's own back-off settings: the next address of a round is tried after a moment, not a back-off.
  const hub = newHub({ version: 'test', backend: { url: [dead, live.url], token: TEST_TOKENS.dispatcher }, flushIntervalMs: 20 });
  await waitFor(() => hub.connection.value.instance !== null, 'the welcome of the live instance', 5000);
  expect(hub.connection.value).toMatchObject({ backendUrl: live.url, backendUrls: [dead, live.url], instance: { name: '二号实例' } });
  expect(hub.connection.value.instance!.id).toMatch(/-[0-9a-f]{16}$/);
  await waitFor(() => hub.connection.value.status === 'online', 'the hub online', 30_000);
  expect(hub.backendLink!.url).toBe(live.url);
  // Pages may stream from every listed address, not only the one in use.
  const deadPort = new URL(dead).port;
  expect(consoleMediaOrigins(hub)).toEqual(expect.arrayContaining([`ws://127.0.0.1:${deadPort}`, `http://127.0.0.1:${deadPort}`, `ws://127.0.0.1:${live.port}`, `http://127.0.0.1:${live.port}`]));
});

it('instance A killed with SIGKILL mid-command, B started on its database: the hub moves to B, resumes by deltas, each command applied once', { timeout: 180_000 }, async ({ startBackendProcess, newHub, dataDir, onTestFinished }) => {
  const dbFile = join(dataDir, 'backend', 'backend.sqlite');
  // A without a name: it calls itself host:port.
  const a = await startBackendProcess();
  const proxyA = await TcpProxy.start(a.port); // between the hub and A: to lose A's acks
  onTestFinished(() => proxyA.close());
  const portB = await freePort();
  const urlB = `ws://127.0.0.1:${portB}/ws`;
  // B is started only once A is gone (one writer on a SQLite file): the back-off ceiling is lowered so that the
  // time measured below is the move to B, not a pause the rounds against two dead addresses grew to.
  const hub = newHub({ version: 'test', backend: { url: [proxyA.url, urlB], token: a.tokens.dispatcher! }, link: { backoffBaseMs: 200, backoffMaxMs: 2000 }, flushIntervalMs: 20 });
  await waitFor(() => hub.connection.value.status === 'online', 'the hub online on A', 60_000);
  expect(hub.connection.value).toMatchObject({ backendUrl: proxyA.url, instance: { name: `${hostname()}:${a.port}` } });
  expect(hub.backendLink!.lastSync).toBe('snapshot');

  const store = new Database(dbFile, { readonly: true, fileMustExist: true });
  onTestFinished(() => void store.close());
  const applied = (commandId: string): number =>
    (store.prepare("SELECT COUNT(*) AS n FROM audit WHERE kind = 'command' AND json_extract(detail, '$.commandId') = ?").get(commandId) as { n: number }).n;
  const event = [...hub.confirmed.collections.events.values()][0]!;
  const comment = (id: string): void => void hub.submitCommand({ commandId: id, type: 'event.comment', payload: { eventId: event.id, text: `切换实例 ${id}` } });

  // Three commands A applies and commits, their acks (and deltas) held back: then A dies.
  proxyA.holdDownstream = true;
  const beforeKill = ['cmd-failover-a1', 'cmd-failover-a2', 'cmd-failover-a3'];
  for (const id of beforeKill) comment(id);
  await waitFor(() => beforeKill.every((id) => applied(id) === 1), 'A to commit the three commands', 10_000);
  expect(hub.connection.value.pendingCommands).toBe(3);
  const seqOnHub = hub.connection.value.lastSeq;
  a.child.kill('SIGKILL');
  await waitFor(() => a.child.signalCode === 'SIGKILL', 'A gone');
  await waitFor(() => hub.connection.value.status !== 'online', 'the hub to notice');
  // Two more while no instance is up: queued in the outbox.
  const whileDown = ['cmd-failover-b1', 'cmd-failover-b2'];
  for (const id of whileDown) comment(id);
  expect(hub.connection.value.pendingCommands).toBe(5);

  // B on the same database, on the second address of the list.
  const b = await startBackendProcess(['--port', String(portB), '--instance-name', '备用实例 B']); // the later --port wins
  const bReady = Date.now();
  await waitFor(() => hub.connection.value.status === 'online' && hub.connection.value.pendingCommands === 0, 'the hub online on B with its outbox drained', 5000);
  const movedMs = Date.now() - bReady;
  expect(hub.connection.value).toMatchObject({ backendUrl: urlB, backendUrls: [proxyA.url, urlB], instance: { name: '备用实例 B' }, rejectedCommands: 0 });
  expect(hub.backendLink!.lastSync).toBe('deltas'); // resumed from its lastSeq, no snapshot
  expect(hub.connection.value.lastSeq).toBeGreaterThan(seqOnHub);

  // Exactly once: in B's store (the audit and the commands table) and in what the hub holds.
  const all = [...beforeKill, ...whileDown];
  for (const id of all) expect(applied(id), id).toBe(1);
  const outcomes = store.prepare(`SELECT command_id AS id, json_extract(outcome, '$.status') AS status FROM commands WHERE command_id IN (${all.map(() => '?').join(',')})`).all(...all);
  expect(outcomes).toHaveLength(5);
  expect(outcomes.every((row) => (row as { status: string }).status === 'applied')).toBe(true);
  const notes = historyOf(hub.confirmed.all('timeline'), event.id).map((entry) => entry.note);
  for (const id of all) expect(notes.filter((note) => note === `切换实例 ${id}`), id).toHaveLength(1);
  await waitFor(() => hub.cache.lastSeq === hub.connection.value.lastSeq, 'the cache in step');
  expect((await b.health()).seq).toBe(hub.cache.lastSeq);
  console.info(`failover: on B ${movedMs} ms after it was ready`);
});
