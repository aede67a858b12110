/**
 * Live positions between backend instances through a broker: NATS, Redis pub/sub and PostgreSQL NOTIFY/LISTEN
 * side by side, each a real server this bench starts. One publisher (its own process: the instance running the
 * city simulation) sends every second a burst of 50,000 positions (20 bytes each, binary) split into messages
 * (≤ 64 KiB on NATS and Redis; ≤ 7,900 base64 characters on NOTIFY, whose payload is text of < 8000 bytes) to 4
 * subscribers on connections of their own (4 backend instances, here in the bench process).
 * Figures per broker over the measured bursts: delivery latency (burst start → its last message at the slowest
 * subscriber), messages/s delivered while a burst is in flight, CPU of the broker (all its processes), of the
 * publisher and of the 4 subscribers (% of one core), and messages lost.
 * Run: npm run bench -- position-broker   (BENCH_BURSTS, default 10; BENCH_POSITIONS, default 50000;
 * BENCH_BROKERS, default nats,redis,postgres)
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawnOwned } from '../node-util/child-process';
import { startNats } from '../harness/nats';
import { startPostgres } from '../harness/postgres';
import { cpuSeconds, cpuSecondsTree, percentile } from '../harness/procs';
import { startRedis } from '../harness/redis';
import { waitFor } from '../harness/temp';
import { maxMessageBytes, nowMs, openSubscriber, readHeader, recordsPerMessage, type Candidate } from './support/position-wire';

const bursts = Number(process.env.BENCH_BURSTS ?? 10);
const positions = Number(process.env.BENCH_POSITIONS ?? 50_000);
const brokers = (process.env.BENCH_BROKERS ?? 'nats,redis,postgres').split(',') as Candidate[];
const SUBSCRIBERS = 4;
const root = join(import.meta.dirname, '..');

interface Done {
  cpuSeconds: number;
  wallSeconds: number;
  publishMs: number[];
}

interface BurstSeen {
  received: number;
  lastMs: number;
  startMs: number;
}

function runPublisher(candidate: Candidate, url: string, onWindowStart: () => void): Promise<Done> {
  const child = spawnOwned(process.execPath, ['--import', 'tsx', join(root, 'bench/support/position-publisher.ts'), candidate, url, String(bursts), String(positions)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise<Done>((resolve, reject) => {
    let done: Done | null = null;
    child.once('exit', (code) => (done && code === 0 ? resolve(done) : reject(new Error(`the ${candidate} publisher exited ${code}`))));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as { window?: string; done?: boolean } & Done;
      if (message.window === 'start') onWindowStart();
      if (message.done) done = message;
    });
  });
}

async function measure(candidate: Candidate, url: string, brokerCpu: () => number): Promise<string[]> {
  const perBurst = Math.ceil(positions / recordsPerMessage(maxMessageBytes(candidate)));
  const seen = Array.from({ length: SUBSCRIBERS }, () => new Map<number, BurstSeen>());
  let malformed = 0;
  const subscribers = await Promise.all(
    seen.map((bySubscriber) =>
      openSubscriber(candidate, url, (bytes) => {
        const at = nowMs();
        if (bytes.byteLength < 16) return void malformed++;
        const header = readHeader(bytes);
        const burst = bySubscriber.get(header.burst) ?? { received: 0, lastMs: 0, startMs: header.startMs };
        burst.received++;
        burst.lastMs = Math.max(burst.lastMs, at);
        bySubscriber.set(header.burst, burst);
      }),
    ),
  );
  let brokerStart = 0;
  let subscribersStart = process.cpuUsage();
  const done = await runPublisher(candidate, url, () => {
    brokerStart = brokerCpu();
    subscribersStart = process.cpuUsage();
  });
  const brokerUsed = brokerCpu() - brokerStart;
  const subscribersUsed = process.cpuUsage(subscribersStart);
  const complete = (): boolean => seen.every((s) => Array.from({ length: bursts + 1 }, (_, b) => s.get(b)?.received === perBurst).every(Boolean));
  await waitFor(complete, 'every message', 5000).catch(() => {});
  await Promise.all(subscribers.map((s) => s.close()));

  const latencies: number[] = [];
  for (let b = 1; b <= bursts; b++) {
    const last = Math.max(...seen.map((s) => s.get(b)?.lastMs ?? Number.NaN));
    const start = seen[0]!.get(b)?.startMs ?? Number.NaN;
    if (Number.isFinite(last - start)) latencies.push(last - start);
  }
  latencies.sort((a, b) => a - b);
  const received = seen.reduce((sum, s) => sum + [...s.values()].reduce((n, b) => n + b.received, 0), 0);
  const lost = (bursts + 1) * perBurst * SUBSCRIBERS - received;
  const p50 = percentile(latencies, 50);
  const percent = (seconds: number): string => `${((100 * seconds) / done.wallSeconds).toFixed(1)} %`;
  const publishMs = [...done.publishMs].sort((a, b) => a - b);
  return [
    { nats: 'NATS 2.9', redis: 'Redis 7.0 pub/sub', postgres: 'PostgreSQL 15 NOTIFY' }[candidate],
    String(perBurst),
    String(Math.min(maxMessageBytes(candidate), 16 + recordsPerMessage(maxMessageBytes(candidate)) * 20)),
    p50.toFixed(1),
    percentile(latencies, 99).toFixed(1),
    (latencies.at(-1) ?? Number.NaN).toFixed(1),
    Math.round((perBurst * SUBSCRIBERS) / (p50 / 1000)).toLocaleString('en-US'),
    percent(brokerUsed),
    percent(done.cpuSeconds),
    percent((subscribersUsed.user + subscribersUsed.system) / 1e6),
    percentile(publishMs, 50).toFixed(1),
    lost === 0 && malformed === 0 ? 'none' : `${lost} lost${malformed ? `, ${malformed} malformed` : ''}`,
  ];
}

const rows: string[][] = [];
for (const candidate of brokers) {
  if (candidate === 'nats') {
    const nats = await startNats();
    try {
      rows.push(await measure('nats', nats.url, () => cpuSeconds(nats.pid!)));
    } finally {
      await nats.stop();
    }
  } else if (candidate === 'redis') {
    const redis = await startRedis();
    try {
      rows.push(await measure('redis', redis.url, () => cpuSeconds(redis.pid!)));
    } finally {
      await redis.stop();
    }
  } else if (candidate === 'postgres') {
    const postgres = await startPostgres();
    try {
      rows.push(await measure('postgres', postgres.url, () => cpuSecondsTree(postgres.pid)));
    } finally {
      await postgres.stop();
    }
  } else throw new Error(`unknown broker ${String(candidate)}; have nats, redis, postgres`);
}

const header = ['broker', 'msgs/burst', 'bytes/msg', 'p50 ms', 'p99 ms', 'max ms', 'msgs/s', 'broker CPU', 'publisher CPU', '4 subs CPU', 'publish ms', 'lost'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(`${positions.toLocaleString('en-US')} positions × 20 bytes per second, ${bursts} bursts (after one warm-up), 1 publisher → ${SUBSCRIBERS} subscribers, each its own connection`);
console.log('latency: burst start → its last message at the slowest subscriber; msgs/s: messages delivered to the 4 while a burst is in flight (at p50);');
console.log('CPU: % of one core over the measured seconds (broker: all its processes); publish ms: p50 until the broker has the burst (flushed / acknowledged)');
console.log(line(header));
for (const row of rows) console.log(line(row));
