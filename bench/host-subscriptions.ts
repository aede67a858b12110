/**
 * Host bench: what one page asking for the events collection N times costs the browser host (the real program,
 * its own process, serving a seeded cache offline). A page that reads, and a page that never reads its socket;
 * prints the host's RSS before, at its peak and after, how long the results took, and whether another page's
 * hello round-trip was still quick meanwhile.
 * Run: npm run bench -- host-subscriptions   (BENCH_EVENTS, default 20,000; BENCH_COUNTS, default 10,200)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { seedHubCache } from '../harness/seeded-cache';
import { makeTempDir } from '../harness/temp';
import { startJsonChild } from '../harness/procs';

const events = Number(process.env.BENCH_EVENTS ?? 20_000);
const counts = (process.env.BENCH_COUNTS ?? '10,200').split(',').map(Number);
const root = join(import.meta.dirname, '..');
if (!process.env.BENCH_NO_BUILD) execFileSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'ignore' });
const temp = makeTempDir('zongzhi-host-subs-');
const seeded = seedHubCache(join(temp.dir, 'seed'), events);
const cacheBytes = readFileSync(join(temp.dir, 'seed', 'cache.sqlite')).length;
console.log(`seeded cache: ${seeded.events} events, ${seeded.grids} grids, ${(cacheBytes / 2 ** 20).toFixed(0)} MiB`);

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function connect(url: URL): Promise<WebSocket> {
  const ws = new WebSocket(`ws://${url.host}/hub?token=${url.searchParams.get('token')}`, { maxPayload: 1024 * 2 ** 20 });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return ws;
}

/** ms for a hello round-trip on another page's socket (Infinity when it takes over 10 s). */
async function helloMs(ws: WebSocket): Promise<number> {
  const t0 = performance.now();
  const id = Math.floor(Math.random() * 1e9);
  const answered = new Promise<void>((resolve) => {
    const on = (data: Buffer): void => {
      if ((JSON.parse(data.toString()) as { id?: number }).id === id) {
        ws.off('message', on);
        resolve();
      }
    };
    ws.on('message', on);
  });
  ws.send(JSON.stringify({ id, method: 'hello', params: {} }));
  return Promise.race([answered.then(() => performance.now() - t0), sleep(10_000).then(() => Infinity)]);
}

async function run(n: number, reads: boolean): Promise<void> {
  const dataDir = join(temp.dir, `run-${n}-${reads}`);
  execFileSync('cp', ['-r', join(temp.dir, 'seed'), dataDir]);
  const host = await startJsonChild<{ url: string }>(process.execPath, [join(root, 'out/main/host.js'), '--json', '--no-backend', '--data-dir', dataDir]);
  const pid = host.child.pid!;
  const url = new URL(host.ready.url);
  const other = await connect(url);
  await helloMs(other);
  await sleep(1000);
  const before = rssMb(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  const page = await connect(url);
  let snapshots = 0;
  let refused = 0;
  let closed = '';
  page.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { update?: { kind: string; more?: boolean }; reply?: { ok: boolean } };
    if (message.update?.kind === 'snapshot' && !message.update.more) snapshots++;
    if (message.reply && !message.reply.ok) refused++;
  });
  let ours = false;
  page.on('close', (code, reason) => (closed = ours ? '' : `${code} ${reason.toString()}`));
  const t0 = performance.now();
  for (let id = 0; id < n; id++) page.send(JSON.stringify({ id, method: 'subscribe', params: { query: { topic: 'collection', collection: 'events' } } }));
  if (!reads) page.pause();
  const hellos: number[] = [];
  const deadline = t0 + (reads ? 60_000 : 15_000);
  while (performance.now() < deadline && (!reads || snapshots + refused < n) && !closed) {
    hellos.push(await helloMs(other));
    await sleep(200);
  }
  const took = performance.now() - t0;
  if (!reads) page.resume();
  ours = !closed;
  page.terminate();
  await sleep(3000);
  const after = rssMb(pid);
  clearInterval(sampler);
  const worstHello = Math.max(...hellos, 0);
  console.log(
    `${String(n).padStart(3)} subscriptions, page ${reads ? 'reads ' : 'stuck '}: RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} → after ${after.toFixed(0)} MiB; ` +
      `${reads ? `${snapshots} results, ${refused} refused in ${(took / 1000).toFixed(1)} s` : `held ${(took / 1000).toFixed(1)} s`}` +
      `${closed ? `; closed ${closed}` : ''}; other page's hello worst ${Number.isFinite(worstHello) ? worstHello.toFixed(0) + ' ms' : '> 10 s'}`,
  );
  other.close();
  await host.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

for (const n of counts) {
  await run(n, true);
  await run(n, false);
}
temp.cleanup();
