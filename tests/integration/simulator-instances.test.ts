/**
 * The simulator's people across the instances of a city (one real PostgreSQL and one NATS broker, started by this
 * file): whoever takes the lead replaces the simulated accounts' tokens and keys, so the lead moving away and back
 * leaves no instance acting with dead ones (a token or key replaced under a leader is made again once); an
 * instance started without the simulator leaves the leader's alone; a phone posting to one instance stops the
 * leader's simulator moving its staff member; an administrator links a staff member the simulator plays.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { Staff } from '../../protocol';
import { LEAD_LOCK } from '../../backend/store/pg-cluster';
import { SIM_KEY_CREATOR, releaseSimulatedAccounts } from '../../backend/live-simulator/live-people';
import { simStaffUserId } from '../../backend/live-simulator/people';
import { hashToken } from '../../backend/users';
import type { RunningBackend } from '../../backend';
import { TEST_TOKENS } from '../../harness/backend';
import { until } from '../../harness/wire-client';
import { startPostgres, type RunningPostgres } from '../../harness/postgres';
import { startNats, type RunningNats } from '../../harness/nats';
import { it } from '../../harness/fixtures';

let postgres: RunningPostgres;
let nats: RunningNats;
beforeAll(async () => {
  [postgres, nats] = await Promise.all([startPostgres(), startNats()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([postgres?.stop(), nats?.stop()]);
});

/** Waits on an asynchronous condition (no fixed sleeps). */
async function eventually(predicate: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Ends the database session holding the lead until `to` leads (the other one may win the lock back first). */
async function moveLead(databaseUrl: string, to: RunningBackend): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await eventually(async () => {
      if (to.leading()) return true;
      await client.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1 AND pid <> pg_backend_pid()`, [LEAD_LOCK]);
      await new Promise((r) => setTimeout(r, 200));
      return to.leading();
    }, 'the lead moved', 30_000);
  } finally {
    await client.end();
  }
}

const liveSimKeys = async (b: RunningBackend) => (await b.store.listApiKeys()).filter((k) => k.createdBy === SIM_KEY_CREATOR && !k.revokedAt);

describe('the simulated people when the lead moves', () => {
  it('the new leader replaces the tokens and keys; the old one, leading again, acts with new ones; one replaced under a leader is made again once', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('sim_lead_moves');
    const a = await startBackend({ databaseUrl, speed: 600 }, 'a');
    const b = await startBackend({ databaseUrl, speed: 600 }, 'b');
    await until(() => a.leading() !== b.leading(), 'one instance leads');
    const [first, second] = a.leading() ? [a, b] : [b, a];
    const burst = async (leader: RunningBackend): Promise<number> => {
      const refused = leader.engine.actionsRefused;
      const ids = await leader.injectScenario('crowd');
      expect(leader.engine.actionsRefused - refused).toBe(0);
      return ids.length;
    };

    expect(await burst(first)).toBeGreaterThan(0);
    const firstKeys = new Set((await liveSimKeys(first)).map((k) => k.id));
    expect(firstKeys.size).toBeGreaterThan(0);

    await moveLead(databaseUrl, second);
    await until(() => !first.leading(), 'the first instance knows it lost the lead');
    // The new leader revoked what the first made before making its own.
    await eventually(async () => (await liveSimKeys(second)).every((k) => !firstKeys.has(k.id)), 'the first leader’s keys revoked');
    expect(await burst(second)).toBeGreaterThan(0);
    const secondKeys = new Set((await liveSimKeys(second)).map((k) => k.id));

    // Back to the first: it replaces the second's and acts with new ones, never with what it cached before.
    await second.close();
    await until(() => first.leading(), 'the first instance leads again');
    expect(await burst(first)).toBeGreaterThan(0);
    const live = await liveSimKeys(first);
    expect(live.filter((k) => firstKeys.has(k.id) || secondKeys.has(k.id))).toEqual([]);

    // Replaced under the leader (as a new leader's takeover would): its next requests make new ones, once, and go through.
    await releaseSimulatedAccounts(first.store);
    expect(await burst(first)).toBeGreaterThan(0);
  }, 120_000);

  it('an instance started without the simulator leaves the leader’s accounts and keys alone, and releases them when it takes the lead', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('sim_mixed');
    const a = await startBackend({ databaseUrl, simulate: true, speed: 600, tickMs: 100 }, 'a');
    await until(() => a.leading(), 'the simulating instance leads');
    await eventually(async () => (await liveSimKeys(a)).length > 0, 'the simulator’s keys', 30_000);
    const keys = (await liveSimKeys(a)).map((k) => k.id).sort();
    const b = await startBackend({ databaseUrl, simulate: false }, 'b');
    expect(b.leading()).toBe(false);
    expect((await liveSimKeys(b)).map((k) => k.id).filter((id) => keys.includes(id)).sort()).toEqual(keys);
    const refused = a.engine.actionsRefused;
    const ids = await a.injectScenario('crowd');
    expect(ids.length).toBeGreaterThan(0);
    expect(a.engine.actionsRefused).toBe(refused);

    await a.close();
    await until(() => b.leading(), 'the instance without the simulator leads');
    await eventually(async () => (await liveSimKeys(b)).length === 0, 'no simulator key live');
    expect((await b.store.listUsers()).filter((u) => u.id.startsWith('sim-') && u.staffId !== null)).toEqual([]);
  }, 120_000);
});

describe('a phone on another instance', () => {
  it('stops the leader’s simulator moving its staff member', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('sim_phone');
    const a = await startBackend({ databaseUrl, brokerUrl: nats.url, speed: 600 }, 'a');
    const b = await startBackend({ databaseUrl, brokerUrl: nats.url, speed: 600 }, 'b');
    await until(() => a.leading() !== b.leading(), 'one instance leads');
    const [leader, other] = a.leading() ? [a, b] : [b, a];
    const where = (id: string) => leader.state.get('staff', id)!.position?.join(',');
    // A staff member the leader's simulator moves (on duty at this hour).
    let staff: Staff | undefined;
    await eventually(async () => {
      const before = new Map([...leader.state.all('staff')].map((s) => [s.id, s.position?.join(',')]));
      await new Promise((r) => setTimeout(r, 20));
      await leader.tick();
      staff = [...leader.state.all('staff')].find((s) => s.status !== 'offline' && s.position && before.get(s.id) !== undefined && before.get(s.id) !== s.position.join(','));
      return staff !== undefined;
    }, 'a staff member moved by the simulator');
    const s = staff!;
    await leader.store.upsertUsers([{ id: 'phone-owner', name: s.name, role: 'field', districtScope: null, tokenHash: hashToken('phone-owner-token'), departmentId: null, staffId: s.id }]);
    const [lon, lat] = leader.state.get('grids', s.gridId)!.center;
    const res = await fetch(`http://127.0.0.1:${other.port}/field/api/position`, { method: 'POST', headers: { Authorization: 'Bearer phone-owner-token', 'Content-Type': 'application/json' }, body: JSON.stringify({ lon, lat, accuracy: 8, at: new Date().toISOString(), onDuty: true }) });
    expect(res.status).toBe(200);
    const phone = `${Math.round(lon * 1e6) / 1e6},${Math.round(lat * 1e6) / 1e6}`;
    await until(() => where(s.id) === phone, 'the phone’s position reaches the leader');
    // Ticks of the leader (30 s of city time apart): everyone else moves, the phone's staff member stays.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await leader.tick();
      expect(where(s.id)).toBe(phone);
    }
  }, 90_000);
});

describe('an administrator and a staff member the simulator plays', () => {
  it('gives the staff member a real account: the simulator’s account lets go, the request never fails because of it', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('sim_admin');
    const a = await startBackend({ databaseUrl, speed: 600 }, 'a');
    await until(() => a.leading(), 'the instance leads');
    const staff = [...a.state.all('staff')].slice(0, 2);
    // Held by the simulator's field accounts (as it makes them when it plays the staff members).
    await a.store.upsertUsers(staff.map((s) => ({ id: simStaffUserId(s.id), name: `${s.name}（模拟）`, role: 'field' as const, districtScope: null, tokenHash: hashToken(`sim-${s.id}`), departmentId: null, staffId: s.id })));
    const admin = (method: string, path: string, body: unknown) => fetch(`http://127.0.0.1:${a.port}${path}`, { method, headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

    const created = await admin('POST', '/admin/users', { id: 'field-real-1', name: staff[0]!.name, role: 'field', scope: null, password: 'a-long-password-1', staffId: staff[0]!.id });
    expect(created.status).toBe(201);
    // Linking an existing account (PATCH) as well.
    expect((await admin('POST', '/admin/users', { id: 'field-real-2', name: staff[1]!.name, role: 'field', scope: null, password: 'a-long-password-2', staffId: staff[0]!.id })).status).toBe(409);
    const patched = await admin('PATCH', '/admin/users/field-real-1', { staffId: staff[1]!.id });
    expect(patched.status).toBe(200);
    const users = await a.store.listUsers();
    expect(users.find((u) => u.id === 'field-real-1')!.staffId).toBe(staff[1]!.id);
    for (const s of staff) expect(users.find((u) => u.id === simStaffUserId(s.id))!.staffId).toBeNull();
    // The simulator's token for them is dead (replaced): its next request is refused and making it again finds them taken.
    const refused = await fetch(`http://127.0.0.1:${a.port}/field/api/position`, { method: 'POST', headers: { Authorization: `Bearer sim-${staff[1]!.id}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect(refused.status).toBe(401);
  }, 60_000);
});
