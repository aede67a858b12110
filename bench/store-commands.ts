/**
 * Commands per second through the backend, and their ack latency, with the store on SQLite (the embedded
 * default, one instance) and on PostgreSQL (a real server this bench starts) with one and with two instances
 * side by side: consoles over real WebSockets (spread over the instances) send event reports (each commits one
 * change batch, its command record and an audit line) with a fixed number in flight. The per-connection rate
 * limit is lifted so the store, not the limit, is measured. The instances run in this process (one event loop
 * for all: the figure for two is what the write turns cost, not what a second machine adds).
 * Run: npm run bench -- store-commands   (BENCH_COMMANDS, default 3000; BENCH_CLIENTS, default 4; BENCH_INFLIGHT per client, default 25)
 */
import { join } from 'node:path';
import type { Grid } from '../protocol';
import { startBackend } from '../backend/index';
import { WireClient } from '../harness/wire-client';
import { startPostgres } from '../harness/postgres';
import { percentile } from '../harness/procs';
import { makeTempDir } from '../harness/temp';

const total = Number(process.env.BENCH_COMMANDS ?? 3000);
const clients = Number(process.env.BENCH_CLIENTS ?? 4);
const inflight = Number(process.env.BENCH_INFLIGHT ?? 25);

async function run(label: string, db: { dbFile: string; databaseUrl?: string }, instances = 1): Promise<string> {
  const start = (n: number) => startBackend({
    ...db,
    dbFile: db.dbFile.replace(/\.sqlite$/, `-${n}.sqlite`),
    simulate: false,
    historyDays: 0,
    tokens: { dispatcher: 'bench-token' },
    tokensFile: null,
    kpiIntervalMs: 600_000,
    sip: undefined,
    limits: { commandsPerSecond: 1_000_000, framesPerSecond: 1_000_000, maxQueuedCommands: 10_000 },
  });
  const backends: Awaited<ReturnType<typeof start>>[] = [];
  for (let n = 0; n < instances; n++) backends.push(await start(n));
  const consoles = await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const c = new WireClient({ url: backends[i % backends.length]!.url, token: 'bench-token', clientId: `bench-store-${i}` });
      await c.waitSynced();
      return c;
    }),
  );
  const grids = consoles[0]!.all<Grid>('grids');
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    consoles.flatMap((c) =>
      Array.from({ length: inflight }, async () => {
        for (let n = next++; n < total; n = next++) {
          const grid = grids[n % grids.length]!;
          const t0 = performance.now();
          await c.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: `压测事件 ${n}`, description: '', location: grid.center });
          latencies.push(performance.now() - t0);
        }
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const c of consoles) c.close();
  for (const backend of backends) await backend.close();
  latencies.sort((a, b) => a - b);
  return `${label.padEnd(24)} ${String(Math.round(total / seconds)).padStart(6)} commands/s   ack p50 ${percentile(latencies, 50).toFixed(1)} ms   p99 ${percentile(latencies, 99).toFixed(1)} ms`;
}

const temp = makeTempDir('zongzhi-bench-store-');
const postgres = await startPostgres();
try {
  console.log(`${total} event reports from ${clients} consoles, ${inflight} in flight each`);
  console.log(await run('SQLite, 1 instance', { dbFile: join(temp.dir, 'sqlite', 'backend.sqlite') }));
  console.log(await run('PostgreSQL, 1 instance', { dbFile: join(temp.dir, 'pg', 'backend.sqlite'), databaseUrl: postgres.createDatabase('bench') }));
  console.log(await run('PostgreSQL, 2 instances', { dbFile: join(temp.dir, 'pg2', 'backend.sqlite'), databaseUrl: postgres.createDatabase('bench2') }, 2));
} finally {
  await postgres.stop();
  temp.cleanup();
}
