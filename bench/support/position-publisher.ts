/**
 * The position-broker bench's publisher, in a process of its own so its CPU is its own: one warm-up burst, then
 * `bursts` bursts of `positions` positions at 1 Hz. Prints {"ready"} once connected, {"window":"start"} before the
 * first measured burst, and {"done", cpuSeconds, wallSeconds, publishMs} one second after the last.
 * Run by bench/position-broker.ts: position-publisher.ts <candidate> <url> <bursts> <positions>
 */
import { makeBurst, maxMessageBytes, nowMs, openPublisher, stamp, type Candidate } from './position-wire';

const [candidate, url, burstsArg, positionsArg] = process.argv.slice(2) as [Candidate, string, string, string];
const bursts = Number(burstsArg);
const positions = Number(positionsArg);
const say = (line: object): boolean => process.stdout.write(JSON.stringify(line) + '\n');

const publisher = await openPublisher(candidate, url);
say({ ready: true });
const publishMs: number[] = [];
const first = nowMs() + 200;
let cpu = process.cpuUsage();
let wall = 0;
for (let burst = 0; burst <= bursts; burst++) {
  const tick = first + burst * 1000;
  const messages = makeBurst(burst, positions, maxMessageBytes(candidate));
  await new Promise((r) => setTimeout(r, Math.max(0, tick - nowMs())));
  if (burst === 1) {
    say({ window: 'start' });
    cpu = process.cpuUsage();
    wall = nowMs();
  }
  const start = nowMs();
  stamp(messages, start);
  await publisher.publish(messages);
  if (burst > 0) publishMs.push(nowMs() - start);
}
await new Promise((r) => setTimeout(r, Math.max(0, first + (bursts + 1) * 1000 - nowMs())));
const used = process.cpuUsage(cpu);
say({ done: true, cpuSeconds: (used.user + used.system) / 1e6, wallSeconds: (nowMs() - wall) / 1000, publishMs });
await publisher.close();
