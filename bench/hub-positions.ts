/**
 * Hub bench 1: ~10,000 staff positions per second from the backend, through the hub (the real browser host
 * program in its own process), to a window over the Hub API bridge. Prints latency from the backend's stamp to
 * the window (p50/p99; the hub coalesces to one patch per 100 ms per subscription) and each process's CPU.
 * Run: npm run bench -- hub-positions   (BENCH_SECONDS, BENCH_SCALE, BENCH_STAFF_PER_GRID)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHubClient, type PositionRow } from '../protocol';
import { connectWsTransport } from '../renderer/src/transports/ws-transport';
import { cpuSeconds, percentile, startJsonChild } from '../harness/procs';

const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const root = join(import.meta.dirname, '..');
execFileSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'ignore' });

const backend = await startJsonChild<{ url: string; staff: number }>(process.execPath, ['--import', 'tsx', join(root, 'bench/support/fanout-server.ts')]);
const dataDir = mkdtempSync(join(tmpdir(), 'zongzhi-hub-bench-'));
writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ locale: 'zh-CN', theme: 'day', backendUrl: backend.ready.url }));
const host = await startJsonChild<{ url: string }>(process.execPath, [join(root, 'out/main/host.js'), '--json', '--data-dir', dataDir], { ...process.env, ZONGZHI_BACKEND_TOKEN: 'bench-token' });
const url = new URL(host.ready.url);
const api = createHubClient(await connectWsTransport({ origin: url.origin, token: url.searchParams.get('token')! }), 'websocket');
console.log(`backend: ${backend.ready.staff} staff moving at 1 Hz; hub syncing…`);

const latencies: number[] = [];
let patches = 0;
let rows = 0;
let measuring = false;
let firstPositions = 0;
await api.subscribeRows({ topic: 'positions' }, (_all, change) => {
  if (!change.reset && change.upserts.length > 0) firstPositions ||= Date.now();
  if (!measuring || change.reset) return;
  const now = Date.now();
  patches++;
  rows += change.upserts.length;
  for (const row of change.upserts as PositionRow[]) latencies.push(now - row.t);
});
while (!firstPositions) await new Promise((r) => setTimeout(r, 100));
await new Promise((r) => setTimeout(r, 2000));
measuring = true;
const hub0 = cpuSeconds(host.child.pid!);
const be0 = cpuSeconds(backend.child.pid!);
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const elapsed = (performance.now() - t0) / 1000;
measuring = false;
const hubCpu = ((cpuSeconds(host.child.pid!) - hub0) / elapsed) * 100;
const backendCpu = ((cpuSeconds(backend.child.pid!) - be0) / elapsed) * 100;
latencies.sort((a, b) => a - b);
console.log('');
console.log(`positions through the hub to one window for ${seconds} s`);
console.log(`  rows delivered    ${rows} (${Math.round(rows / elapsed)}/s) in ${patches} patches (${(patches / elapsed).toFixed(1)}/s)`);
console.log(`  latency (backend stamp → window) p50 ${percentile(latencies, 50)} ms   p99 ${percentile(latencies, 99)} ms`);
console.log(`  hub process CPU   ${hubCpu.toFixed(1)} % of one core (validates, applies and re-sends every row)`);
console.log(`  backend CPU       ${backendCpu.toFixed(1)} % of one core`);
api.close();
await host.stop();
await backend.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
