/**
 * Phones on duty (issue 20): BENCH_PHONES (5,000) grid staff phones each POST /field/api/position every 10 s (spread
 * evenly over the 10 s, keep-alive connections) to one backend, with a console over a real WebSocket measuring when
 * each position reaches it. Printed: the backend process's CPU (its own process: bench/support/phones-server.ts),
 * phone→console latency p50/p99 (from the POST being sent to the console parsing the positions frame that carries
 * it), the HTTP answer's p50/p99 and the errors. Every phone is a field account with a sign-in session (made in
 * the store by the server: 5,000 scrypt sign-ins are not what is measured); the route checks each one as a phone's.
 * Run: npm run bench -- phones   (BENCH_PHONES, default 5000; BENCH_SECONDS, default 60; BENCH_SOCKETS, default 500)
 */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { WireClient } from '../harness/wire-client';
import { cpuSeconds, percentile, startJsonChild } from '../harness/procs';

const count = Number(process.env.BENCH_PHONES ?? 5000);
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const sockets = Number(process.env.BENCH_SOCKETS ?? 500);
const PERIOD_MS = 10_000;
const root = join(import.meta.dirname, '..');

const t0 = performance.now();
const server = await startJsonChild<{ url: string; port: number; grids: number; phones: Array<[string, string, number, number]> }>(process.execPath, ['--import', 'tsx', join(root, 'bench/support/phones-server.ts')], { ...process.env, BENCH_PHONES: String(count) });
process.on('exit', () => server.child.kill('SIGTERM'));
const { port, phones } = server.ready;
console.log(`server: ${server.ready.grids} grids, ${phones.length} field accounts with sessions, ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const console_ = new WireClient({ url: server.ready.url, token: 'bench-token', clientId: 'bench-phones' });
await console_.waitSynced(120_000);
// The latest position each phone sent: [lon, lat, sent at]; its arrival is the first frame with that staff member at that point.
const pending = new Map<string, [number, number, number]>();
const toConsole: number[] = [];
console_.ws.on('message', (data, binary) => {
  if (binary) return;
  const text = (data as Buffer).toString();
  if (!text.includes('"staff.positions"')) return;
  const now = performance.now();
  const frame = JSON.parse(text) as { payload: { items: Array<[string, number, number, number]> } };
  for (const [id, lon, lat] of frame.payload.items) {
    const sent = pending.get(id);
    if (!sent || sent[0] !== lon || sent[1] !== lat) continue;
    toConsole.push(now - sent[2]);
    pending.delete(id);
  }
});

const agent = new Agent({ keepAlive: true, maxSockets: sockets });
const answered: number[] = [];
const errors = new Map<string, number>();
let sent = 0;
const fail = (why: string): void => void errors.set(why, (errors.get(why) ?? 0) + 1);

function post(index: number, round: number): void {
  const [id, token, lon0, lat0] = phones[index]!;
  // A new point each round (a few metres apart), rounded as the route rounds it: the console sees exactly this.
  const lon = Math.round((lon0 + ((round % 7) - 3) * 0.00003) * 1e6) / 1e6;
  const lat = Math.round((lat0 + ((round % 5) - 2) * 0.00003) * 1e6) / 1e6;
  const body = Buffer.from(JSON.stringify({ lon, lat, accuracy: 12, at: new Date().toISOString(), onDuty: true }));
  const started = performance.now();
  pending.set(id, [lon, lat, started]);
  sent++;
  const req = request({ host: '127.0.0.1', port, path: '/field/api/position', method: 'POST', agent, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': body.length } }, (res) => {
    res.resume();
    res.on('end', () => {
      if (res.statusCode === 200) answered.push(performance.now() - started);
      else fail(`HTTP ${res.statusCode}`);
    });
  });
  req.on('error', (e) => fail(e.message));
  req.end(body);
}

const cpu0 = cpuSeconds(server.child.pid!);
const own0 = process.cpuUsage();
const begin = performance.now();
const total = Math.floor((seconds * 1000 * count) / PERIOD_MS);
console.log(`${count} phones, a position each every ${PERIOD_MS / 1000} s (${(count / (PERIOD_MS / 1000)).toFixed(0)}/s) for ${seconds} s…`);
for (let n = 0; n < total; n++) {
  const due = begin + (n * PERIOD_MS) / count;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  post(n % count, Math.floor(n / count));
}
// The last answers and frames.
const deadline = performance.now() + 10_000;
while (answered.length + [...errors.values()].reduce((a, b) => a + b, 0) < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, 500));
const elapsed = (performance.now() - begin) / 1000;
const cpu = (cpuSeconds(server.child.pid!) - cpu0) / elapsed;
const own = process.cpuUsage(own0);

const ms = (v: number): string => `${v.toFixed(1)} ms`;
const lat = toConsole.sort((a, b) => a - b);
const http = answered.sort((a, b) => a - b);
console.log(`sent ${sent} positions in ${elapsed.toFixed(1)} s (${(sent / elapsed).toFixed(0)}/s); answered 200: ${http.length}; HTTP errors: ${sent - http.length}${errors.size ? ` (${[...errors].map(([k, v]) => `${k} × ${v}`).join(', ')})` : ''}`);
console.log(`phone → console: ${lat.length} seen, p50 ${ms(percentile(lat, 50))}, p99 ${ms(percentile(lat, 99))}, max ${ms(lat.at(-1) ?? Number.NaN)}`);
console.log(`HTTP answer: p50 ${ms(percentile(http, 50))}, p99 ${ms(percentile(http, 99))}`);
console.log(`backend CPU: ${(cpu * 100).toFixed(1)} % of a core; the bench's phones + console: ${(((own.user + own.system) / 1e6 / elapsed) * 100).toFixed(1)} %`);
console_.close();
agent.destroy();
await server.stop();
process.exit(0);
