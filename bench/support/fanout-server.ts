/**
 * Bench server: the reference backend with ~10,000 staff (scale 8.5, 1.7 per grid), every one of them moving
 * and broadcast at 1 Hz. Prints {"url"} when ready; stops on SIGTERM.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startBackend } from '../../backend/index';

const dir = mkdtempSync(join(tmpdir(), 'zongzhi-bench-'));
const backend = await startBackend({
  dbFile: join(dir, 'bench.sqlite'),
  scale: Number(process.env.BENCH_SCALE ?? 8.5),
  staffPerGrid: Number(process.env.BENCH_STAFF_PER_GRID ?? 1.7),
  simulate: false,
  historyDays: 0,
  tokens: { dispatcher: 'bench-token' },
  tokensFile: null,
  kpiIntervalMs: 60_000,
  // Every console of the bench signs in as the one user: lift the per-user limit (8) above their number.
  limits: { connectionsPerUser: Number(process.env.BENCH_CLIENTS ?? 50) + 1 },
});
const staff = [...backend.state.all('staff')].map((s) => ({ id: s.id, lon: s.position?.[0] ?? 117, lat: s.position?.[1] ?? 36.6, status: 'patrolling' as const, districtId: s.districtId }));
let step = 0;
const timer = setInterval(() => {
  step++;
  for (const s of staff) {
    s.lon += Math.sin(step + s.lat * 1000) * 0.00001;
    s.lat += Math.cos(step + s.lon * 1000) * 0.00001;
  }
  backend.server.broadcastPositions(new Date().toISOString(), staff);
}, 1000);
process.stdout.write(JSON.stringify({ url: backend.url, staff: staff.length, grids: backend.city.grids.length }) + '\n');
process.on('SIGTERM', () => {
  clearInterval(timer);
  void backend.close().then(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
