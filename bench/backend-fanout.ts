/**
 * Fan-out bench (backend issue): 50 consoles connected, 10,000 staff positions broadcast at 1 Hz.
 * Prints the fan-out latency (broadcast stamp → frame received and parsed by each console) p50/p99/max and
 * the server process's CPU. The server runs in its own process so its CPU is its own. BENCH_BINARY=1: the
 * consoles ask for positions as binary frames (hello accept: ["positions-binary"]) instead of JSON.
 * Run: npm run bench -- backend-fanout   (env: BENCH_CLIENTS, BENCH_SECONDS, BENCH_SCALE, BENCH_STAFF_PER_GRID, BENCH_BINARY)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { WireClient } from '../harness/wire-client';
import { POSITIONS_BINARY_TYPE, decodePositionsBinary } from '../protocol';

const clients = Number(process.env.BENCH_CLIENTS ?? 50);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const binary = process.env.BENCH_BINARY === '1';
const root = join(import.meta.dirname, '..');

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the command name).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/support/fanout-server.ts')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise<{ url: string; staff: number; grids: number }>((resolve, reject) => {
  server.once('exit', (code) => reject(new Error(`bench server exited ${code}`)));
  createInterface({ input: server.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
});
// However the bench ends (a refused console, an error), the server goes with it.
process.on('exit', () => server.kill('SIGTERM'));
console.log(`server: ${ready.grids} grids, ${ready.staff} staff moving at 1 Hz; connecting ${clients} consoles (positions as ${binary ? 'binary' : 'JSON'})…`);

const t0 = performance.now();
const consoles: WireClient[] = [];
for (let i = 0; i < clients; i++) {
  const c = new WireClient({ url: ready.url, token: 'bench-token', binaryPositions: binary });
  await c.waitSynced(120_000);
  if (c.closed) throw new Error(`console ${i + 1} was refused: ${c.closed.code} ${c.closed.reason}`);
  consoles.push(c);
}
console.log(`${clients} consoles synced (snapshot each) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const latencies: number[] = [];
let rows = 0;
let measuring = false;
let sampleFrame = '';
let sampleBinary: Buffer | null = null;
let frameBytes = 0;
// After the handshake, each console only notes when a position frame arrives (the stamp is read without
// parsing the whole frame): this measures the server's fan-out, not this one process parsing 50 frames a second.
const POSITIONS_PREFIX = '{"v":1,"type":"staff.positions","payload":{"at":"';
for (const c of consoles) {
  c.ws.removeAllListeners('message');
  c.ws.on('message', (data, isBinary) => {
    const receivedAt = Date.now();
    const bytes = data as Buffer;
    if (isBinary) {
      if (bytes[0] !== POSITIONS_BINARY_TYPE) return;
      sampleBinary ??= bytes;
      if (!measuring) return;
      latencies.push(receivedAt - Number(bytes.readBigUInt64LE(2)));
      rows += bytes.readUInt32LE(10);
      frameBytes += bytes.byteLength;
      return;
    }
    const head = bytes.subarray(0, POSITIONS_PREFIX.length + 24).toString('utf8');
    if (!head.startsWith(POSITIONS_PREFIX)) return;
    if (!sampleFrame) sampleFrame = bytes.toString('utf8');
    if (!measuring) return;
    const at = head.slice(POSITIONS_PREFIX.length);
    latencies.push(receivedAt - Date.parse(at));
    rows += ready.staff;
    frameBytes += bytes.byteLength;
  });
}
await new Promise((r) => setTimeout(r, 2000)); // warm-up
measuring = true;
const cpu0 = cpuSeconds(server.pid!);
const wall0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const cpu1 = cpuSeconds(server.pid!);
const wall1 = performance.now();
measuring = false;

latencies.sort((a, b) => a - b);
const serverCpu = ((cpu1 - cpu0) / ((wall1 - wall0) / 1000)) * 100;
console.log('');
console.log(`fan-out: ${clients} consoles × ${ready.staff} positions/s for ${seconds} s`);
console.log(`  frames received   ${latencies.length} (${(latencies.length / clients / seconds).toFixed(2)} per console per second)`);
console.log(`  positions delivered ${rows} (${Math.round(rows / seconds)}/s across all consoles)`);
console.log(`  latency p50 ${percentile(latencies, 50)} ms   p99 ${percentile(latencies, 99)} ms   max ${latencies.at(-1)} ms`);
console.log(`  server CPU        ${serverCpu.toFixed(1)} % of one core`);
console.log(`  bytes sent        ${Math.round(frameBytes / seconds / 1024)} KiB/s across all consoles`);
// Set by the consoles' handlers (TypeScript cannot see that): read once here.
const sample = sampleBinary as Buffer | null;
// Warmed up first: the decoder is JavaScript, JSON.parse is native.
for (let i = 0; i < 5; i++) {
  if (sample) decodePositionsBinary(sample);
  else JSON.parse(sampleFrame);
}
const p0 = performance.now();
if (sample) {
  for (let i = 0; i < 20; i++) decodePositionsBinary(sample);
  console.log(`  one frame: ${(sample.byteLength / 1024).toFixed(0)} KiB binary; decoding it ${((performance.now() - p0) / 20).toFixed(1)} ms (the consumer's cost, per console)`);
} else {
  for (let i = 0; i < 20; i++) JSON.parse(sampleFrame);
  console.log(`  one frame: ${(sampleFrame.length / 1024).toFixed(0)} KiB; JSON.parse of it ${((performance.now() - p0) / 20).toFixed(1)} ms (the consumer's cost, per console)`);
}

for (const c of consoles) c.close();
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
process.exit(0);
