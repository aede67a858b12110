/**
 * The ingest API under a sustained load: a source system POSTs reports to /api/v1/reports at a fixed offered rate
 * (open loop: sent on schedule whether or not earlier ones were answered) and a console over a real WebSocket
 * measures when each event arrives. Printed: the rate achieved, the HTTP answer's latency and the report-to-console
 * latency (from the POST being sent to the event's delta at the console), beside the goal (500 reports/s,
 * p99 ≤ 1 s). One backend on SQLite; the load, the backend and the console share this process's event loop.
 * Run: npm run bench -- ingest   (BENCH_RATE reports/s, default 500; BENCH_SECONDS, default 20)
 */
import { join } from 'node:path';
import { CreatedApiKey, type Grid } from '../protocol';
import { startBackend } from '../backend/index';
import { WireClient } from '../harness/wire-client';
import { percentile } from '../harness/procs';
import { makeTempDir } from '../harness/temp';

const rate = Number(process.env.BENCH_RATE ?? 500);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const total = rate * seconds;

const temp = makeTempDir('zongzhi-bench-ingest-');
const backend = await startBackend({ dbFile: join(temp.dir, 'backend.sqlite'), simulate: false, historyDays: 0, tokens: { admin: 'bench-admin', dispatcher: 'bench-token' }, tokensFile: null, kpiIntervalMs: 600_000 });
try {
  const http = `http://127.0.0.1:${backend.port}`;
  const made = await fetch(`${http}/admin/api-keys`, { method: 'POST', headers: { Authorization: 'Bearer bench-admin', 'Content-Type': 'application/json' }, body: JSON.stringify({ name: '压测平台', source: 'hotline', ratePerMinute: 60_000 }) });
  const { key } = CreatedApiKey.parse(await made.json());
  const console_ = new WireClient({ url: backend.url, token: 'bench-token', clientId: 'bench-ingest' });
  await console_.waitSynced();
  const grids = console_.all<Grid>('grids');
  const category = [...backend.state.collections.rules.keys()][0]!;

  // Sent times by title (the title carries the report's number); arrival seen in the console's deltas.
  const sentAt = new Map<string, number>();
  const toConsole: number[] = [];
  console_.ws.on('message', (data, binary) => {
    if (binary) return;
    const frame = JSON.parse((data as Buffer).toString()) as { type: string; payload: { changes?: Array<{ collection: string; op: string; data?: { title?: string } }> } };
    if (frame.type !== 'delta') return;
    const now = performance.now();
    for (const c of frame.payload.changes ?? []) {
      const t0 = c.collection === 'events' && c.op === 'upsert' && c.data?.title ? sentAt.get(c.data.title) : undefined;
      if (t0 === undefined) continue;
      toConsole.push(now - t0);
      sentAt.delete(c.data!.title!);
    }
  });

  const answered: number[] = [];
  let failed = 0;
  let lastAnswer = 0;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const grid = grids[n % grids.length]!;
    const title = `接入压测 ${n}`;
    const t0 = performance.now();
    sentAt.set(title, t0);
    inFlight.push(
      fetch(`${http}/api/v1/reports`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ sourceId: `bench-${n}`, category, title, description: '压测', location: { lon: grid.center[0], lat: grid.center[1] } }),
      }).then(
        async (res) => {
          await res.arrayBuffer();
          lastAnswer = performance.now();
          if (res.status === 201) answered.push(lastAnswer - t0);
          else failed++;
        },
        () => void failed++,
      ),
    );
  }
  await Promise.all(inFlight);
  const deadline = performance.now() + 10_000;
  while (toConsole.length < answered.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const elapsed = (lastAnswer - started) / 1000;
  answered.sort((a, b) => a - b);
  toConsole.sort((a, b) => a - b);
  const achieved = Math.round(answered.length / elapsed);
  console.log(`${total} reports offered at ${rate}/s over ${seconds} s (one key, SQLite, one instance)`);
  console.log(`  made ${answered.length}, refused/failed ${failed}; ~${achieved} reports/s sustained`);
  console.log(`  HTTP answer      p50 ${percentile(answered, 50).toFixed(1)} ms   p99 ${percentile(answered, 99).toFixed(1)} ms`);
  console.log(`  report→console   p50 ${percentile(toConsole, 50).toFixed(1)} ms   p99 ${percentile(toConsole, 99).toFixed(1)} ms   (${toConsole.length} seen)`);
  console.log(`  goal             500 reports/s, p99 ≤ 1000 ms → ${achieved >= 500 && percentile(toConsole, 99) <= 1000 ? 'met' : 'not met'}`);
  console_.close();
} finally {
  await backend.close();
  temp.cleanup();
}
