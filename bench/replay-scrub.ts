/**
 * Replay scrub bench (复盘回放 on the hub, hub/replay/): BENCH_MINUTES of city time (default 60) simulated at ×60
 * on a fake wall clock (a tick a city minute, the KPIs every 10 city minutes, the history's round every tick) at
 * BENCH_SCALE (default 1) with BENCH_HISTORY_DAYS of generated history (default 2); a hub
 * (linked from the start, BENCH_COMMANDS_PER_MINUTE comments a city minute through it), one window
 * subscribes to the events, timeline, staff, alarms, KPIs and positions, and the replay plays the range at 60×.
 * Prints the state-update patches per second the window was sent while playing (and their rows), how far T kept up
 * with the wall clock, and the latency of random seeks (replaySeek answered: the changes fetched and applied, the
 * positions at T read), cold and warm.
 * Run: npm run bench -- replay-scrub   (BENCH_SCALE, BENCH_HISTORY_DAYS, BENCH_MINUTES, BENCH_SEEKS default 40,
 *   BENCH_COMMANDS_PER_MINUTE default 20: comments on open events through the hub, on top of the city's life)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend } from '../backend/index';
import { Hub } from '../hub';
import type { ReplayState, SubscriptionUpdate } from '../protocol';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const historyDays = Number(process.env.BENCH_HISTORY_DAYS ?? 2);
const minutes = Number(process.env.BENCH_MINUTES ?? 60);
const seeks = Number(process.env.BENCH_SEEKS ?? 40);
const perMinute = Number(process.env.BENCH_COMMANDS_PER_MINUTE ?? 20);
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-replay-scrub-'));
let wall = Date.now() - 86_400_000;
const t0 = performance.now();
const backend = await startBackend({
  dbFile: join(dir, 'backend.sqlite'),
  simulate: false,
  scale,
  historyDays,
  speed: 60,
  wallClock: () => wall,
  startAtMs: wall,
  tokens: { dispatcher: 'bench-token' },
  tokensFile: null,
  kpiIntervalMs: 3_600_000,
  alarms: false,
  sip: undefined,
  history: { pollMs: 0 },
  tracks: { flushMs: 0 },
});
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 'none' : `p50 ${pct(s, 50).toFixed(0)} ms, p99 ${pct(s, 99).toFixed(0)} ms, max ${s.at(-1)!.toFixed(0)} ms (n=${s.length})`;
};
const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));
let hub: Hub | null = null;
try {
  const { state, history, clock } = backend;
  await history.run();
  hub = new Hub({ dataDir: join(dir, 'hub'), version: 'bench', backend: { url: backend.url, token: 'bench-token' } });
  while (hub.connection.value.status !== 'online' || hub.cache.lastSeq !== state.seq) await sleep(50);
  const fromMs = clock.nowMs();
  const seq0 = state.seq;
  // A busy desk on top of the city's own life: comments on open events, each minute's committed within it.
  const open = [...state.collections.events.values()].filter((e) => e.status !== 'closed' && e.status !== 'merged').map((e) => e.id);
  let n = 0;
  for (let minute = 1; minute <= minutes; minute++) {
    wall += 1000; // one city minute at ×60
    await backend.tick();
    for (let i = 0; i < perMinute && open.length > 0; i++) hub.submitCommand({ commandId: `bench-${String(n++).padStart(6, '0')}-cmd`, type: 'event.comment', payload: { eventId: open[n % open.length]!, text: `复盘 #${n}` } });
    while (hub.connection.value.pendingCommands > 0) await sleep(20);
    if (minute % 10 === 0) await backend.refreshKpis();
    await history.run();
  }
  await backend.tracks.flush();
  const toMs = clock.nowMs();
  console.log(`city: ${state.collections.grids.size} grids, ${state.collections.staff.size} staff, ${state.collections.events.size} events; ${minutes} city minutes simulated (${state.seq - seq0} batches) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  while (hub.cache.lastSeq !== state.seq) await sleep(50);
  const patches: Array<{ at: number; rows: number; topic: string }> = [];
  let replay: ReplayState | null = null;
  const session = hub.openSession({ bridge: 'websocket', displayRole: 'combined', label: 'bench' }, (u: SubscriptionUpdate) => {
    if (u.topic === 'replay' && u.kind === 'snapshot') replay = u.data as ReplayState;
    else if (u.kind === 'patch') patches.push({ at: performance.now(), rows: u.upserts.length + u.removes.length, topic: u.topic });
  });
  const call = async <T>(method: string, params: unknown = {}): Promise<T> => {
    const reply = await session.handle(method, params);
    if (!reply.ok) throw new Error(`${method}: ${reply.error.message}`);
    return reply.result as T;
  };
  await call('subscribe', { query: { topic: 'replay' } });
  for (const collection of ['events', 'timeline', 'staff', 'alarms', 'kpis']) await call('subscribe', { query: { topic: 'collection', collection } });
  await call('subscribe', { query: { topic: 'positions' } });

  const s0 = performance.now();
  await call('replayStart', { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() });
  console.log(`replay started in ${(performance.now() - s0).toFixed(0)} ms (the copy of the replica, the changes to the start, the marks, the positions)`);
  await sleep(1000);
  patches.length = 0;
  const p0 = performance.now();
  await call('replayPlay', { speed: 60 });
  while ((replay as ReplayState | null)?.playing !== false || performance.now() - p0 < 500) await sleep(100);
  const playMs = performance.now() - p0;
  const seconds = Math.max(1, Math.round(playMs / 1000));
  const perSecond = Array.from({ length: seconds }, (_, i) => patches.filter((p) => p.at - p0 >= i * 1000 && p.at - p0 < (i + 1) * 1000));
  const rows = patches.reduce((n, p) => n + p.rows, 0);
  const byTopic = new Map<string, number>();
  for (const p of patches) byTopic.set(p.topic, (byTopic.get(p.topic) ?? 0) + 1);
  console.log(`played ${minutes} city minutes at 60× in ${(playMs / 1000).toFixed(1)} s wall (ideal ${(minutes).toFixed(0)} s)`);
  console.log(`patches to the window: ${patches.length} (${(patches.length / (playMs / 1000)).toFixed(1)} a second; busiest second ${Math.max(...perSecond.map((s) => s.length))}), ${rows} rows (${(rows / (playMs / 1000)).toFixed(0)} a second)`);
  console.log(`  by topic: ${[...byTopic].map(([t, n]) => `${t} ${n}`).join(', ')}`);

  const lat: number[] = [];
  for (let i = 0; i < seeks; i++) {
    const t = fromMs + Math.random() * (toMs - fromMs);
    const q0 = performance.now();
    const answer = await call<ReplayState>('replaySeek', { at: new Date(t).toISOString() });
    lat.push(performance.now() - q0);
    if (answer.error) console.log(`  seek refused: ${answer.error.code} ${answer.error.message}`);
    await sleep(250); // a person scrubbing: a few seeks a second, within the routes' rate
  }
  console.log(`seek latency (replaySeek answered: changes fetched and applied, positions at T read): ${ms(lat)}; first ${lat[0]!.toFixed(0)} ms`);
  await call('replayStop');
} finally {
  hub?.close();
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
}
