/**
 * A city's size through several backend instances: 100 consoles × ~50,000 staff moving at 1 Hz (scale 8.5,
 * 8 staff per grid), the backend as 1, 2 and 4 instances (real processes) on one PostgreSQL with positions
 * between them through NATS (real servers this bench starts), consoles as light clients spread over 4 processes
 * (bench/support/light-consoles.ts: no replica, the frame's time read from its head). Positions to the consoles
 * as JSON frames and as binary frames, side by side. Printed per run: time for the 100 consoles to sync
 * (snapshots, 4 at a time per process), fan-out delay from a tick's time to its frame's arrival p50/p99/max,
 * bytes per console per second, CPU per instance.
 * Run: npm run bench -- backend-scale   (env: BENCH_CLIENTS 100, BENCH_SECONDS 20, BENCH_SCALE 8.5,
 * BENCH_STAFF_PER_GRID 8, BENCH_INSTANCES "1,2,4", BENCH_FORMS "json,binary")
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startPostgres } from '../harness/postgres';
import { startNats } from '../harness/nats';
import { backendArgs } from '../harness/backend-process';
import { makeTempDir } from '../harness/temp';
import { percentile } from '../harness/procs';
import { stopChild } from '../node-util/child-process';

const clients = Number(process.env.BENCH_CLIENTS ?? 100);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const scale = process.env.BENCH_SCALE ?? '8.5';
const staffPerGrid = process.env.BENCH_STAFF_PER_GRID ?? '8';
const instanceCounts = (process.env.BENCH_INSTANCES ?? '1,2,4').split(',').map(Number);
const forms = (process.env.BENCH_FORMS ?? 'json,binary').split(',') as Array<'json' | 'binary'>;
const WORKERS = 4;
const root = join(import.meta.dirname, '..');

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Instance {
  child: ChildProcess;
  url: string;
  log: string[];
}

async function startInstance(databaseUrl: string, brokerUrl: string, tokensFile: string, name: string): Promise<Instance> {
  // The city's size goes to the instance that seeds it; the others find it in the database.
  const city = name === 'seed' ? ['--scale', scale, '--staff-per-grid', staffPerGrid] : [];
  const args = backendArgs(databaseUrl, [...city, '--history-days', '0', '--sip', 'off', '--broker', brokerUrl, '--tokens-file', tokensFile, '--instance-name', name, '--limit', `connectionsPerUser=${clients + 10}`]);
  const child = spawn(process.execPath, ['--max-old-space-size=6144', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZONGZHI_SIMULATED_STAFF: 'off' } });
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log.push(line);
    if (log.length > 200) log.shift();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance ${name} exited with ${code}: ${log.slice(-3).join(' | ')}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
  return { child, url, log };
}

interface Report {
  latencies: number[];
  bytes: number;
  frames: number;
  seconds: number;
  closed: number;
}

async function run(instances: Instance[], token: string, form: 'json' | 'binary'): Promise<string> {
  const workers = Array.from({ length: WORKERS }, () => fork(join(root, 'bench/support/light-consoles.ts'), [], { execArgv: ['--import', 'tsx', '--max-old-space-size=4096'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const next = (worker: ChildProcess, type: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const on = (m: Record<string, unknown>): void => {
        if (m.type === 'failed') reject(new Error(String(m.message)));
        if (m.type !== type) return;
        worker.off('message', on);
        resolve(m);
      };
      worker.on('message', on);
    });
  const urls = instances.map((i) => i.url);
  const t0 = performance.now();
  const synced = workers.map((w) => next(w, 'synced'));
  workers.forEach((w, k) => w.send({ type: 'start', urls: urls.map((_, i) => urls[(i + k) % urls.length]), count: Math.ceil(clients / WORKERS), token, binary: form === 'binary', prefix: `scale-${form}-${instances.length}-${k}` }));
  const syncMs = (await Promise.all(synced)).flatMap((m) => m.ms as number[]);
  const allSynced = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3000)); // warm-up: the first ticks after the snapshots
  const cpu0 = instances.map((i) => cpuSeconds(i.child.pid!));
  const wall0 = performance.now();
  for (const w of workers) w.send({ type: 'measure' });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const reports = workers.map((w) => next(w, 'report'));
  for (const w of workers) w.send({ type: 'report' });
  const got = (await Promise.all(reports)) as unknown as Report[];
  const wall = (performance.now() - wall0) / 1000;
  const cpu = instances.map((i, k) => ((cpuSeconds(i.child.pid!) - cpu0[k]!) / wall) * 100);
  for (const w of workers) w.kill();
  const latencies = got.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const bytes = got.reduce((n, r) => n + r.bytes, 0);
  const perConsole = bytes / (Math.ceil(clients / WORKERS) * WORKERS) / wall;
  syncMs.sort((a, b) => a - b);
  const cells = [
    `${instances.length} instance${instances.length > 1 ? 's' : ' '}`.padEnd(12),
    form.padEnd(7),
    `${allSynced.toFixed(1)} s`.padStart(8),
    `${percentile(latencies, 50) ?? '-'}`.padStart(7),
    `${percentile(latencies, 99) ?? '-'}`.padStart(7),
    `${latencies.at(-1) ?? '-'}`.padStart(7),
    `${(perConsole / 1024).toFixed(0)} KiB/s`.padStart(11),
    cpu.map((c) => `${c.toFixed(0)}%`).join(' / ').padStart(22),
    `${got.reduce((n, r) => n + r.closed, 0)}`.padStart(5),
  ];
  return cells.join('  ');
}

const temp = makeTempDir('zongzhi-bench-scale-');
const [postgres, nats] = await Promise.all([startPostgres(), startNats()]);
try {
  const databaseUrl = postgres.createDatabase('city');
  const tokensFile = join(temp.dir, 'tokens.json');
  // The city is seeded once, by the first instance of the first run; every run reuses it.
  const t0 = performance.now();
  const first = await startInstance(databaseUrl, nats.url, tokensFile, 'seed');
  const staff = /"staff":(\d+)/.exec(first.log.find((l) => l.includes('city generated')) ?? '')?.[1];
  console.log(`city: scale ${scale}, ${staffPerGrid} staff per grid → ${staff} staff; seeded and ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await stopChild(first.child);
  const token = (JSON.parse(readFileSync(tokensFile, 'utf8')) as Record<string, string>).viewer!;
  console.log(`${clients} consoles (light clients in ${WORKERS} processes, city-wide scope) for ${seconds} s per run; positions at 1 Hz`);
  console.log('instances     form     synced    p50 ms  p99 ms  max ms  per console        CPU per instance  drops');
  for (const n of instanceCounts) {
    for (const form of forms) {
      const instances: Instance[] = [];
      for (let k = 0; k < n; k++) instances.push(await startInstance(databaseUrl, nats.url, tokensFile, `i${k + 1}`));
      try {
        console.log(await run(instances, token, form));
        const problems = instances.flatMap((i) => i.log.filter((l) => /"level":"(warn|error)"/.test(l) && !l.includes('no position broker')));
        if (problems.length > 0) console.log(`  instance warnings: ${problems.slice(-3).map((l) => l.slice(0, 240)).join('\n  ')}`);
      } finally {
        for (const i of instances) await stopChild(i.child, 15_000);
      }
    }
  }
} finally {
  await Promise.all([postgres.stop(), nats.stop()]);
  temp.cleanup();
}
