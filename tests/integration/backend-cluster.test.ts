/**
 * Several backend instances, one city: two instances in this process on one real PostgreSQL (started by this
 * file). A change made through one reaches the other's clients with the same seq; the same event changed through
 * both at once is applied once and the other command refused with the reason; one instance runs the city life,
 * and another takes it over when it goes; a console resuming from before the retained log gets a snapshot;
 * PostgreSQL restarting is survived, said in the log, and commands work again after it. Positions cross the broker,
 * and the leader keeps the tracks of those heard on the other instance.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { GovEvent, Grid } from '../../protocol';
import { createLogger } from '../../node-util/logger';
import { TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';
import { startPostgres, type RunningPostgres } from '../../harness/postgres';
import { startNats, type RunningNats } from '../../harness/nats';
import { runBackendToExit } from '../../harness/backend-process';
import { parseRefusal } from '../../node-util/backend-refusal';
import { waitFor } from '../../harness/temp';
import pg from 'pg';
import { join } from 'node:path';
import { it } from '../../harness/fixtures';

let postgres: RunningPostgres;
let nats: RunningNats;
beforeAll(async () => {
  [postgres, nats] = await Promise.all([startPostgres(), startNats({ user: 'zongzhi', password: 'bus-secret' })]);
}, 60_000);
afterAll(async () => {
  await Promise.all([postgres?.stop(), nats?.stop()]);
});

const capture = (lines: string[]) => createLogger('backend', 'info', (line) => lines.push(line));

describe('several instances on one PostgreSQL', () => {
  it('share one order of changes, apply one of two conflicting commands, and hand the city life over', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('two_instances');
    const a = await startBackend({ databaseUrl }, 'a');
    const b = await startBackend({ databaseUrl }, 'b');
    await until(() => a.leading() !== b.leading(), 'one instance leads');
    const onA = new WireClient({ url: a.url, token: TEST_TOKENS.dispatcher });
    const onB = new WireClient({ url: b.url, token: TEST_TOKENS['duty'] });
    await Promise.all([onA.waitSynced(), onB.waitSynced()]);

    const grid = onA.all<Grid>('grids')[0]!;
    const report = await onA.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '夜间施工噪音', description: '', location: grid.center });
    const eventId = String(report.result.eventId);
    await until(() => onB.collections.get('events')!.has(eventId), 'the event reaches the other instance’s client');
    expect(onB.seq).toBeGreaterThanOrEqual(report.seq);
    const event = onB.collections.get('events')!.get(eventId) as GovEvent;

    // The same event, the same version, two instances at once: one applies, the other is told why not.
    const outcomes = await Promise.allSettled([
      onA.command('event.dispatch', { eventId, departmentId: 'dept-urban', baseVersion: event.version }),
      onB.command('event.dispatch', { eventId, departmentId: 'dept-police', baseVersion: event.version }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ wire: { code: 'conflict', message: expect.stringMatching(/在您查看之后有了变化|不能派遣/) } });
    await until(() => onA.seq === onB.seq && onA.seq === Math.max(a.state.seq, b.state.seq), 'both clients at the same seq');
    expect(a.state.get('events', eventId)).toEqual(b.state.get('events', eventId));

    // The leader goes: the other instance takes the city life over.
    const [leader, other] = a.leading() ? [a, b] : [b, a];
    onA.close();
    onB.close();
    await leader.close();
    await until(() => other.leading(), 'the other instance leads', 5000);
  }, 60_000);

  it('sends a console resuming from before the retained change log a snapshot, and survives PostgreSQL restarting', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('restarts');
    const lines: string[] = [];
    const a = await startBackend({ databaseUrl, log: capture(lines) }, 'a');
    const b = await startBackend({ databaseUrl }, 'b');
    const client = new WireClient({ url: b.url, token: TEST_TOKENS.dispatcher });
    await client.waitSynced();
    const grid = client.all<Grid>('grids')[0]!;
    const report = (title: string) => client.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title, description: '', location: grid.center });
    const first = await report('第一条');
    for (let i = 0; i < 3; i++) await report(`第${i + 2}条`);
    await a.store.pruneChanges(1);
    const stale = new WireClient({ url: a.url, token: TEST_TOKENS.dispatcher, lastSeq: first.seq });
    await stale.waitSynced();
    expect(stale.welcome?.sync).toBe('snapshot');
    stale.close();

    await postgres.restart();
    await until(() => lines.some((l) => l.includes('database connection lost')), 'instance a says the database went', 10_000);
    await until(() => lines.some((l) => l.includes('database connection is back')), 'instance a says it is back', 10_000);
    // Commands work again through either instance (a first try may still meet a connection the restart cut).
    const after = await retry(() => report('重启之后'));
    await until(() => a.state.seq === after.seq, 'instance a has the command made through b after the restart', 10_000);
    const health = (await (await fetch(a.url.replace('ws://', 'http://').replace('/ws', '/healthz'))).json()) as { store: string };
    expect(health.store).toBe('up');
    client.close();
  }, 90_000);
});

describe('live positions between instances through the broker', () => {
  it('reach the consoles of the instance that did not make them, stop while the broker is away (commands go on) and resume when it returns', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('positions');
    const lines: string[] = [];
    const a = await startBackend({ databaseUrl, brokerUrl: nats.url, log: capture(lines) }, 'a');
    const b = await startBackend({ databaseUrl, brokerUrl: nats.url }, 'b');
    await until(() => a.leading() !== b.leading(), 'one instance leads');
    const [maker, other] = a.leading() ? [a, b] : [b, a];
    const binary = new WireClient({ url: other.url, token: TEST_TOKENS.dispatcher, binaryPositions: true });
    const json = new WireClient({ url: other.url, token: TEST_TOKENS['dispatcher-d01'] });
    await Promise.all([binary.waitSynced(), json.waitSynced()]);
    const received = (): number => binary.positions.length;

    await maker.tick();
    await until(() => received() > 0 && json.positions.length > 0, 'positions made by the leader reach the other instance’s consoles');
    const [id, lon, lat] = binary.positions.at(-1)!.items[0]!;
    expect(other.state.get('staff', id)?.position).toEqual([lon, lat]);
    // The district console gets its district's staff only.
    expect(json.positions.at(-1)!.items.every(([staffId]) => other.state.get('staff', staffId)?.districtId === 'd01')).toBe(true);

    await nats.kill();
    await until(() => lines.some((l) => l.includes('position broker down')), 'instance a says the broker went', 20_000);
    const before = received();
    await maker.tick();
    const grid = binary.all<Grid>('grids')[0]!;
    const ack = await binary.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '代理中断时的事件', description: '', location: grid.center });
    expect(ack.seq).toBeGreaterThan(0);
    expect(received()).toBe(before);

    await nats.restart();
    await until(() => lines.some((l) => l.includes('position broker back')), 'instance a says the broker is back', 20_000);
    // Both instances reconnect on their own back-off: tick until the other one hears again.
    await until(() => (void maker.tick(), received() > before), 'positions flow again', 20_000);
    binary.close();
    json.close();
  }, 90_000);

  it('are kept as tracks by the leader whichever instance heard them (a phone on the other one), read on either', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('tracks');
    const a = await startBackend({ databaseUrl, brokerUrl: nats.url, tracks: { flushMs: 0 } }, 'a');
    const b = await startBackend({ databaseUrl, brokerUrl: nats.url, tracks: { flushMs: 0 } }, 'b');
    await until(() => a.leading() !== b.leading(), 'one instance leads');
    const [leader, other] = a.leading() ? [a, b] : [b, a];
    const http = `http://127.0.0.1:${other.port}`;
    // One already on duty: a phone going on duty commits the status after its first position, and until the
    // leader's copy has that commit its recorder would end the track as offline (a race, not what is tested here).
    const staff = [...other.state.collections.staff.values()].find((s) => s.status !== 'offline')!;
    const json = { 'Content-Type': 'application/json' };
    const made = await fetch(`${http}/admin/users`, { method: 'POST', headers: { ...json, Authorization: `Bearer ${TEST_TOKENS.admin}` }, body: JSON.stringify({ id: 'grid-wang', name: staff.name, role: 'field', scope: null, password: 'cluster-tracks-secret', staffId: staff.id }) });
    expect(made.status).toBe(201);
    const login = await fetch(`${http}/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ user: 'grid-wang', password: 'cluster-tracks-secret', client: { id: 'phone-1' }, app: 'field' }) });
    const { sessionToken } = (await login.json()) as { sessionToken: string };
    // As the field API keeps it: to 1e-6 degrees.
    const [lon, lat] = other.state.get('grids', staff.gridId)!.center.map((v) => Math.round(v * 1e6) / 1e6) as [number, number];
    const posted = await fetch(`${http}/field/api/position`, { method: 'POST', headers: { ...json, Authorization: `Bearer ${sessionToken}` }, body: JSON.stringify({ lon, lat, accuracy: 5, at: new Date().toISOString(), onDuty: true }) });
    expect(posted.status).toBe(200);
    const hour = Math.floor(leader.clock.nowMs() / 3_600_000);
    const heard = async (): Promise<boolean> => ((await leader.tracks.read(hour - 1, hour + 1, [staff.id])).tracks.get(staff.id) ?? []).some((p) => Math.abs(p.lon - lon) < 1e-6 && Math.abs(p.lat - lat) < 1e-6);
    for (let i = 0; i < 100 && !(await heard()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await heard()).toBe(true);
    expect(await other.tracks.read(hour - 1, hour + 1, [staff.id])).toMatchObject({ rows: 0 }); // not recorded where it was heard
    // Written by the leader, answered by the other instance from the store.
    expect(await leader.tracks.flush()).toBeGreaterThan(0);
    const at = Math.min(leader.clock.nowMs(), other.clock.nowMs());
    const res = await fetch(`${http}/history/positions?at=${at}`, { headers: { Authorization: `Bearer ${TEST_TOKENS.dispatcher}` } });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { items: Array<[string, number, number, number]> };
    expect(answer.items.find(([id]) => id === staff.id)).toEqual([staff.id, lon, lat, expect.any(Number)]);
  }, 90_000);

  it('refuses a broker that refuses it, or that cannot be reached, with one line and an exit code', ({ dataDir }) => {
    const wrong = runBackendToExit(dataDir, ['--broker', `nats://zongzhi:wrong-secret@127.0.0.1:${nats.port}`]);
    expect(wrong.status).toBe(3);
    const refusal = parseRefusal(wrong.stderr.trim().split('\n').at(-1) ?? '');
    expect(refusal).toMatchObject({ code: 'broker-refused', message: expect.stringContaining('refused the connection') });
    expect(wrong.stderr).not.toContain('wrong-secret');
    const away = runBackendToExit(dataDir, ['--broker', `nats://127.0.0.1:${nats.port + 1}`]);
    expect(away.status).toBe(1);
    expect(parseRefusal(away.stderr.trim().split('\n').at(-1) ?? '')?.message).toMatch(/^cannot reach the position broker at nats:\/\/127\.0\.0\.1:\d+/);
  }, 120_000);
});

describe('an instance dies', () => {
  it('killed with SIGKILL during a flood of commands from consoles on both instances: none lost, none applied twice, its consoles on the other within 5 s', { timeout: 120_000 }, async ({ startBackendProcess, newHub, onTestFinished, dataDir }) => {
    const databaseUrl = postgres.createDatabase('flood');
    const a = await startBackendProcess(['--instance-name', '实例A'], 'city', databaseUrl);
    const b = await startBackendProcess(['--instance-name', '实例B'], 'city', databaseUrl);
    const token = a.tokens.dispatcher!;
    // Two consoles on each instance, each with the other instance second in its list.
    const hubs = [[a.url, b.url], [a.url, b.url], [b.url, a.url], [b.url, a.url]].map((url, i) =>
      newHub({ version: 'test', dataDir: join(dataDir, `hub-${i}`), backend: { url, token }, link: { backoffBaseMs: 200, backoffMaxMs: 2000 }, flushIntervalMs: 20 }),
    );
    await waitFor(() => hubs.every((hub) => hub.connection.value.status === 'online'), 'every console online', 60_000);
    const events = [...hubs[0]!.confirmed.collections.events.values()].slice(0, hubs.length);
    const sent: string[] = [];
    const flood = (round: number): void =>
      hubs.forEach((hub, h) => {
        for (let i = 0; i < 40; i++) {
          const commandId = `flood-${round}-${h}-${i}-${Math.random().toString(36).slice(2, 8)}`;
          sent.push(commandId);
          void hub.submitCommand({ commandId, type: 'event.comment', payload: { eventId: events[h]!.id, text: `压测 ${round}-${i}` } });
        }
      });
    const db = new pg.Client({ connectionString: databaseUrl });
    db.on('error', () => {});
    await db.connect();
    onTestFinished(() => db.end().catch(() => {}));
    const appliedCount = async (): Promise<number> => Number((await db.query<{ n: string }>("SELECT COUNT(*)::text AS n FROM commands WHERE command_id LIKE 'flood-%'")).rows[0]!.n);

    flood(1);
    // Killed mid-flood: some of the first round applied, the rest still coming.
    await waitForAsync(async () => (await appliedCount()) >= 40, 'part of the flood applied', 30_000);
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    const atKill = await appliedCount();
    expect(atKill).toBeLessThan(sent.length); // the first round was still coming in
    flood(2);
    await waitFor(() => hubs.slice(0, 2).every((hub) => hub.connection.value.status === 'online' && hub.connection.value.backendUrl === b.url), 'A’s consoles online on B', 10_000);
    const movedMs = Date.now() - killedAt;
    expect(movedMs).toBeLessThan(5000);
    expect(hubs[0]!.connection.value.instance?.name).toBe('实例B');
    await waitFor(() => hubs.every((hub) => hub.connection.value.pendingCommands === 0), 'every outbox drained', 30_000);

    const { rows } = await db.query<{ id: string; n: string }>("SELECT detail->>'commandId' AS id, COUNT(*)::text AS n FROM audit WHERE kind = 'command' AND detail->>'commandId' LIKE 'flood-%' GROUP BY 1");
    const outcomes = await db.query<{ status: string; n: string }>("SELECT outcome->>'status' AS status, COUNT(*)::text AS n FROM commands WHERE command_id LIKE 'flood-%' GROUP BY 1");
    const lost = sent.filter((id) => !rows.some((r) => r.id === id));
    const twice = rows.filter((r) => r.n !== '1');
    console.info(`failover under a flood: ${sent.length} commands (${atKill} applied when A was killed), A's consoles on B ${movedMs} ms after the kill, lost ${lost.length}, applied twice ${twice.length}`);
    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
    expect(outcomes.rows).toEqual([{ status: 'applied', n: String(sent.length) }]);
    expect(hubs.every((hub) => hub.connection.value.rejectedCommands === 0)).toBe(true);
    // Every console holds the same history: the same seq on each, as the surviving instance has it.
    await waitFor(() => hubs.every((hub) => hub.connection.value.lastSeq === hubs[0]!.connection.value.lastSeq), 'every console at one seq');
    expect((await b.health()).seq).toBe(hubs[0]!.connection.value.lastSeq);
  });
});

async function waitForAsync(test: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function retry<T>(work: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (e) {
      if (i >= attempts || (e as { wire?: { retryable?: boolean } }).wire?.retryable !== true) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
