/**
 * Hub bench 3: 10,000 commands queued while the backend is unreachable, then replayed when it comes back.
 * Prints the queueing cost, the replay time (to an empty outbox, caught up) and the duplicates on the server
 * (must be 0), counting every marked comment in the backend's state.
 * Run: npm run bench -- hub-replay   (BENCH_COMMANDS)
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Hub } from '../hub';
import { startBackend } from '../backend/index';

const count = Number(process.env.BENCH_COMMANDS ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-replay-'));
const backend = await startBackend({ dbFile: join(dir, 'backend.sqlite'), simulate: false, historyDays: 2, tokens: { dispatcher: 'bench-token' }, tokensFile: null, kpiIntervalMs: 600_000 });
const credentials = { url: backend.url, token: 'bench-token' };
const hub = new Hub({ dataDir: join(dir, 'hub'), version: 'bench', backend: credentials });
const until = async (predicate: () => boolean): Promise<void> => {
  while (!predicate()) await new Promise((r) => setTimeout(r, 20));
};
await until(() => hub.connection.value.status === 'online');
const events = [...hub.confirmed.collections.events.keys()];
hub.unavailable(backend.url, 'unreachable', 'bench: link down');
console.log(`hub in step (${events.length} events); link down; queueing ${count} commands…`);

const q0 = performance.now();
for (let i = 0; i < count; i++) {
  hub.submitCommand({ commandId: `bench-${String(i).padStart(6, '0')}-cmd`, type: 'event.comment', payload: { eventId: events[i % events.length]!, text: `回放 #${i}#` } });
}
const queueMs = performance.now() - q0;
const r0 = performance.now();
hub.connectTo(credentials);
await until(() => hub.connection.value.pendingCommands === 0 && hub.connection.value.status === 'online' && hub.cache.lastSeq === backend.state.seq);
const replayMs = performance.now() - r0;

const seen = new Map<string, number>();
for (const t of backend.state.all('timeline')) if (t.note?.startsWith('回放 #')) seen.set(t.note, (seen.get(t.note) ?? 0) + 1);
const duplicates = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
console.log('');
console.log(`replay of ${count} queued commands`);
console.log(`  queueing (written to the SQLite outbox, predicted) ${(queueMs / 1000).toFixed(1)} s (${Math.round(count / (queueMs / 1000))}/s)`);
console.log(`  replay to an empty outbox, hub in step            ${(replayMs / 1000).toFixed(1)} s (${Math.round(count / (replayMs / 1000))} commands/s; backend limit ${backend.server.limits.commandsPerSecond}/s)`);
console.log(`  applied on the server ${seen.size} of ${count}; lost ${count - seen.size}; duplicated ${duplicates}`);
hub.close();
await backend.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
