/**
 * Bench server of bench/phones.ts: the reference backend (no simulator) with at least BENCH_PHONES staff, a field
 * account for each of them and a sign-in session per account made directly in the store (5,000 sign-ins through
 * POST /auth/login would be 5,000 scrypt hashes: minutes on the bench machine, and not what is measured). Prints
 * {"url", "port", "phones": [[staffId, token, lon, lat], …]} when ready; stops on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startBackend } from '../../backend/index';
import { hashToken } from '../../backend/users';

const phones = Number(process.env.BENCH_PHONES ?? 5000);
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-bench-phones-'));
const backend = await startBackend({
  dbFile: join(dir, 'bench.sqlite'),
  // ~706 grids per unit of scale, 1.7 staff each: enough staff for the phones.
  scale: Math.max(1, Math.ceil((phones / 1.7 / 706) * 1.1 * 10) / 10),
  staffPerGrid: 1.7,
  simulate: false,
  historyDays: 0,
  tokens: { dispatcher: 'bench-token' },
  tokensFile: null,
  kpiIntervalMs: 600_000,
});
const staff = [...backend.state.all('staff')].slice(0, phones);
if (staff.length < phones) throw new Error(`only ${staff.length} staff for ${phones} phones`);
const now = new Date().toISOString();
const day = new Date(Date.now() + 86_400_000).toISOString();
const made = staff.map((s) => {
  const grid = backend.state.get('grids', s.gridId)!;
  return { staff: s, token: randomBytes(32).toString('base64url'), at: grid.center };
});
await backend.store.upsertUsers(made.map(({ staff: s }) => ({ id: `phone-${s.id}`, name: s.name, role: 'field', districtScope: null, tokenHash: hashToken(randomBytes(32).toString('base64url')), departmentId: null, staffId: s.id })));
for (const { staff: s, token } of made) {
  await backend.store.createSession({ tokenHash: hashToken(token), userId: `phone-${s.id}`, clientId: `phone-${s.id}`, clientName: '压测手机', createdAt: now, expiresAt: day, idleExpiresAt: day, lastUsedAt: now, endedAt: null, endedWhy: null });
}
process.stdout.write(JSON.stringify({ url: backend.url, port: backend.port, grids: backend.city.grids.length, phones: made.map(({ staff: s, token, at }) => [s.id, token, at[0], at[1]]) }) + '\n');
process.on('SIGTERM', () => {
  void backend.close().then(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
