/** The living city: simulated reports from all sources, loops that close, staff on the move, scenarios. */
import { describe, expect } from 'vitest';
import type { GovEvent, KpiSnapshot } from '../../protocol';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { lastBeijingTime } from '../../backend/live-simulator/timing';
import { WireClient, until } from '../../harness/wire-client';
import { historyOf } from '../../harness/history';
import { it } from '../../harness/fixtures';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { hashToken } from '../../backend/users';
import { SIM_KEY_CREATOR } from '../../backend/live-simulator/live-people';
import { SIM_SOURCE_NAMES } from '../../backend/live-simulator/people';
import type { AuditEntry } from '../../backend/store/types';
import { openStore } from '../../backend/store/open';
import { join } from 'node:path';
import type { Staff, TimelineRecord } from '../../protocol';

let backend: Awaited<ReturnType<typeof startTestBackend>>;

// Ten minutes of city life per real second, from a morning (at night the city is too quiet to watch).
it.override('backendConfig', { simulate: true, speed: 600, tickMs: 250, kpiIntervalMs: 500, historyDays: 3, startAtMs: lastBeijingTime(9, 0, Date.now()) });
// The file's backend (the `backend` fixture: started here, within the hook's time, and closed after the file).
it.beforeAll(async ({ backend: fileBackend }) => {
  backend = fileBackend;
}, 60_000);

describe('simulated city', () => {
  it('history: loops from every source closed through the real handlers, some overdue, some unsatisfied', () => {
    const events = [...backend.state.all('events')];
    expect(events.length).toBeGreaterThan(300);
    const sources = new Set(events.map((e) => e.source));
    for (const s of ['grid-app', 'hotline', 'video-ai', 'sensor', 'citizen-app', 'leader']) expect(sources).toContain(s);
    const closed = events.filter((e) => e.status === 'closed');
    expect(closed.length / events.length).toBeGreaterThan(0.5);
    expect(closed.some((e) => e.evaluation?.satisfaction === 'unsatisfied')).toBe(true);
    expect(closed.some((e) => Date.parse(e.closedAt!) > Date.parse(e.finalDeadline)) || events.some((e) => e.supervised)).toBe(true);
    for (const e of closed.slice(0, 80)) {
      const actions = historyOf(backend.state.all('timeline'), e.id).map((t) => t.action);
      // Leader assignments (交办) start already accepted; everything else starts with a report.
      expect(actions[0]).toBe(e.source === 'leader' ? 'assign' : 'report');
      expect(actions).toEqual(expect.arrayContaining(['sign', 'feedback', 'close']));
      expect(actions.at(-1)).toBe('close');
    }
  });

  it('live: new events arrive, move through the steps, and staff positions stream at 1 Hz', async () => {
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await c.waitSynced();
    const known = new Set(c.all<GovEvent>('events').map((e) => e.id));
    await until(() => c.all<GovEvent>('events').some((e) => !known.has(e.id)), 'a new simulated event', 15_000);
    await until(() => c.positions.length >= 2, 'position frames', 10_000);
    const frame = c.positions.at(-1)!;
    expect(frame.items.length).toBeGreaterThan(0);
    const [id, lon, lat, status] = frame.items[0]!;
    expect(backend.state.get('staff', id)).toBeDefined();
    expect(lon).toBeGreaterThan(116);
    expect(lat).toBeGreaterThan(36);
    expect(status).toBeGreaterThanOrEqual(0);
    const fresh = c.all<GovEvent>('events').filter((e) => !known.has(e.id));
    await until(() => fresh.some((e) => c.get<GovEvent>('events', e.id)!.status !== 'new'), 'a new event to be worked on', 20_000);
    expect(c.gaps).toEqual([]);
    c.close();
  });

  it("audit lines carry the wall clock, a command's the city's time beside it (the clock runs 600x here)", async () => {
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await c.waitSynced();
    const event = c.all<GovEvent>('events').find((e) => e.status !== 'closed')!;
    const before = Date.now();
    await c.command('event.comment', { eventId: event.id, text: '审计时间用真实时钟' });
    const lines = (backend.store as SqliteStore).auditLog(5000);
    const command = lines.find((l) => l.kind === 'command' && (l.detail as { payload?: { text?: string } }).payload?.text === '审计时间用真实时钟')!;
    const login = lines.find((l) => l.kind === 'login' && l.userId === 'dispatcher')!;
    for (const line of [command, login]) expect(Math.abs(Date.parse(line.at) - before)).toBeLessThan(5_000);
    expect(Math.abs(Date.parse(command.detail.cityAt as string) - backend.clock.nowMs())).toBeLessThan(60_000);
    expect(Math.abs(Date.parse(command.detail.cityAt as string) - before)).toBeGreaterThan(60_000);
    c.close();
  });

  it('KPIs follow the events, each ratio explaining itself', async () => {
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.leader });
    await c.waitSynced();
    const kpi = c.get<KpiSnapshot>('kpis', '7d')!;
    for (const r of [kpi.reportingCoverage, kpi.closureRate, kpi.onTimeClosureRate, kpi.satisfactionRate, kpi.dispatchInTimeRate, kpi.staffOnlineRate, kpi.cameraOnlineRate]) {
      expect(r.denominator).toBeGreaterThan(0);
      expect(r.value).toBeCloseTo(r.numerator / r.denominator, 3);
    }
    expect(kpi.byDistrict).toHaveLength(5);
    expect(kpi.trend.length).toBe(7);
    const first = kpi.computedAt;
    await until(() => c.get<KpiSnapshot>('kpis', '7d')!.computedAt !== first, 'a KPI refresh', 10_000);
    c.close();
  });

  it('a flood scenario brings a burst of flood reports in one area and a notice', async () => {
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.duty, record: true });
    await c.waitSynced();
    const ids = await backend.injectScenario('flood', 'd02');
    expect(ids.length).toBeGreaterThanOrEqual(20);
    const events = ids.map((id) => backend.state.get('events', id)!);
    expect(events.every((e) => e.category === 'flood' && e.districtId === 'd02')).toBe(true);
    expect(new Set(events.map((e) => e.source))).toEqual(new Set(['hotline', 'sensor', 'video-ai']));
    // Video-AI reports name the camera that saw them (the ingest API's cameraId), not its name in the text.
    for (const e of events.filter((x) => x.source === 'video-ai')) {
      expect(e.cameraId && backend.state.get('cameras', e.cameraId)?.gridId, e.id).toBe(e.gridId);
      expect(e.description).not.toContain(`（${backend.state.get('cameras', e.cameraId!)!.name}）`);
    }
    await until(() => c.frames.some((f) => f.type === 'notice'), 'the scenario notice');
    c.close();
  });
});

describe('the simulated people act through the real paths', () => {
  it('staff report and work their tasks with field accounts, platforms report with API keys, departments act as liaisons', async () => {
    const commands = (): AuditEntry[] => (backend.store as SqliteStore).auditLog(20_000).filter((l) => l.kind === 'command');
    const by = (prefix: string, type: string) => (l: AuditEntry) => (l.userId ?? '').startsWith(prefix) && l.detail.type === type;
    // Derived command ids tell the route that ran them: the field and department routes' `h…` (from the client's id), the ingest route's `api:<key>:…`.
    const viaRoute = (l: AuditEntry, prefix: string) => String(l.detail.commandId).startsWith(prefix);
    await until(() => {
      const lines = commands();
      return (
        lines.some(by('sim-staff-', 'event.report')) &&
        lines.some(by('sim-staff-', 'event.sign')) &&
        lines.some(by('sim-staff-', 'event.arrive')) &&
        lines.some(by('sim-staff-', 'event.feedback')) &&
        lines.some(by('api:', 'event.report')) &&
        lines.some(by('sim-dept-', 'event.sign')) &&
        lines.some(by('sim-dept-', 'event.feedback'))
      );
    }, 'field, ingest and department commands by the simulated people', 60_000);
    const lines = commands();
    for (const l of lines.filter((l) => (l.userId ?? '').startsWith('sim-staff-') || (l.userId ?? '').startsWith('sim-dept-'))) expect(viaRoute(l, 'h')).toBe(true);
    const keys = await backend.store.listApiKeys();
    const simKeys = keys.filter((k) => k.createdBy === SIM_KEY_CREATOR && !k.revokedAt);
    for (const l of lines.filter(by('api:', 'event.report'))) {
      const keyId = l.userId!.slice(4);
      expect(simKeys.map((k) => k.id)).toContain(keyId);
      expect(viaRoute(l, `api:${keyId}:`)).toBe(true);
    }
    // No console-side shortcut for them any more: reports, 签收 and 反馈 come only from the seats' own commands.
    expect(lines.some((l) => /^sim:(?!seat|duty|leader)/.test(l.userId ?? ''))).toBe(false);
    // The accounts: sim-, field with their staff member / liaison with their department, no password to sign in with.
    const users = await backend.store.listUsers();
    const staffUser = users.find((u) => u.id.startsWith('sim-staff-'))!;
    expect(staffUser.role).toBe('field');
    expect(backend.state.get('staff', staffUser.staffId!)).toBeDefined();
    const liaison = users.find((u) => u.id.startsWith('sim-dept-'))!;
    expect(liaison.role).toBe('liaison');
    expect(backend.state.get('departments', liaison.departmentId!)).toBeDefined();
    expect((await backend.store.findLogin(staffUser.id))?.passwordHash ?? null).toBeNull();
    // The history says who did what: the staff member's name, the department's, the platform's.
    const timeline = [...backend.state.all('timeline')] as TimelineRecord[];
    const staffEntry = timeline.find((t) => t.actor.startsWith('sim-staff-') && t.action === 'feedback')!;
    expect(staffEntry.actorName).toBe(backend.state.get('staff', staffEntry.actor.slice('sim-staff-'.length))!.name);
    const deptEntry = timeline.find((t) => t.actor.startsWith('sim-dept-'))!;
    expect(deptEntry.actorName).toContain(backend.state.get('departments', deptEntry.actor.slice('sim-dept-'.length))!.name);
    const apiEntry = timeline.find((t) => t.actor.startsWith('api:') && t.action === 'report')!;
    expect(Object.values(SIM_SOURCE_NAMES)).toContain(apiEntry.actorName);
  }, 90_000);

  it('a staff member whose phone sends positions is not moved by the simulator', async () => {
    const users = await backend.store.listUsers();
    const taken = new Set(users.map((u) => u.staffId));
    const staff = [...backend.state.all('staff')].find((s) => !taken.has(s.id) && s.status !== 'offline') as Staff;
    const grid = backend.state.get('grids', staff.gridId)!;
    await backend.store.upsertUsers([{ id: 'phone-owner', name: staff.name, role: 'field', districtScope: null, tokenHash: hashToken('phone-owner-token'), departmentId: null, staffId: staff.id }]);
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await c.waitSynced();
    await until(() => c.positions.some((f) => f.items.some(([id]) => id === staff.id)), 'the staff member moved by the simulator first', 10_000);
    const [lon, lat] = grid.center;
    const res = await fetch(`http://127.0.0.1:${backend.port}/field/api/position`, { method: 'POST', headers: { Authorization: 'Bearer phone-owner-token', 'Content-Type': 'application/json' }, body: JSON.stringify({ lon, lat, accuracy: 8, at: new Date().toISOString(), onDuty: true }) });
    expect(res.status).toBe(200);
    // Frames of ticks before the phone's position may still be on their way: from a moment later on.
    await new Promise((r) => setTimeout(r, 300));
    c.positions.splice(0);
    // Two seconds of ticks (four a second; 150 s of city time each): everyone else moves, they stay where the phone said.
    await new Promise((r) => setTimeout(r, 2000));
    const frames = [...c.positions];
    const theirs = frames.flatMap((f) => f.items.filter(([id]) => id === staff.id));
    // Position frames carry who moved: the phone's staff member shows up at most at the phone's point (and the
    // state below says where they are, after two seconds of ticks that moved everyone else).
    for (const [, l1, l2] of theirs) expect([l1, l2]).toEqual([Math.round(lon * 1e6) / 1e6, Math.round(lat * 1e6) / 1e6]);
    expect(frames.length).toBeGreaterThan(3);
    expect(backend.state.get('staff', staff.id)!.position).toEqual([Math.round(lon * 1e6) / 1e6, Math.round(lat * 1e6) / 1e6]);
    c.close();
  });
});

describe('the simulated accounts', () => {
  it('nobody signs in as one; they let go of their staff and keys when the simulator stops and on a start without it', async ({ startBackend }) => {
    const b = await startBackend({ simulate: true, speed: 600, tickMs: 100, startAtMs: lastBeijingTime(10, 0, Date.now()) }, 'sim-accounts');
    const simStaff = async () => (await b.store.listUsers()).filter((u) => u.id.startsWith('sim-staff-') && u.staffId !== null);
    const deadline = Date.now() + 30_000;
    while ((await simStaff()).length === 0 || (await b.store.listApiKeys()).every((k) => k.createdBy !== SIM_KEY_CREATOR)) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the simulated accounts and keys');
      await new Promise((r) => setTimeout(r, 200));
    }
    const [account] = await simStaff();
    // No password: a sign-in as one is refused like any wrong password (and says nothing more).
    const login = await fetch(`http://127.0.0.1:${b.port}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: account!.id, password: 'guess-1234', client: { id: 'probe' }, app: 'field' }) });
    expect(login.status).toBe(401);
    expect((await b.store.findLogin(account!.id))?.passwordHash).toBeNull();
    const staffId = account!.staffId!;
    await b.close();
    // What the stop left, read from the file itself (a start would let go too).
    const stored = await openStore(join(b.dir, 'backend.sqlite'));
    expect((await stored.listUsers()).filter((u) => u.id.startsWith('sim-') && u.staffId !== null)).toEqual([]);
    expect((await stored.listApiKeys()).filter((k) => k.createdBy === SIM_KEY_CREATOR && !k.revokedAt)).toEqual([]);
    await stored.close();
    const again = await startBackend({ simulate: false }, 'sim-accounts');
    // The staff member is free for a real account now (one account per staff member).
    await again.store.upsertUsers([{ id: 'grid-real', name: 'real', role: 'field', districtScope: null, tokenHash: hashToken('grid-real-token'), departmentId: null, staffId }]);
    expect((await again.store.listUsers()).find((u) => u.id === 'grid-real')?.staffId).toBe(staffId);
    await again.close();
    // A crash's leftover (a sim account holding a staff member) is let go on the next start without the simulator.
    const third = await startBackend({ simulate: false }, 'sim-accounts');
    await third.store.upsertUsers([{ ...account!, tokenHash: hashToken('leftover'), staffId: [...third.state.all('staff')].find((s) => s.id !== staffId)!.id }]);
    await third.close();
    const fourth = await startBackend({ simulate: false }, 'sim-accounts');
    expect((await fourth.store.listUsers()).filter((u) => u.id.startsWith('sim-') && u.staffId !== null)).toEqual([]);
  }, 90_000);
});

describe('a chosen start time (--start-at)', () => {
  it('the clock starts there and the duty roster is that hour\'s, whenever the test runs; a future start is refused', async ({ startBackend }) => {
    const hour = 3_600_000;
    const last = (h: number): number => lastBeijingTime(h, 0, Date.now());
    // Backends of the test's own, one at a time, each in a dir of its own (the fixture closes any left open).
    const onDutyShare = async (startAtMs: number, name: string): Promise<number> => {
      const b = await startBackend({ startAtMs }, name);
      expect(Math.abs(b.clock.nowMs() - startAtMs)).toBeLessThan(60_000);
      const staff = [...b.state.all('staff')].filter((s) => s.role !== 'cadre'); // 下沉干部 follow the level, not the roster
      const share = staff.filter((s) => s.status !== 'offline').length / staff.length;
      await b.close();
      return share;
    };
    expect(await onDutyShare(last(10), 'morning')).toBeGreaterThan(0.85);
    expect(await onDutyShare(last(3), 'night')).toBeLessThan(0.2);
    await expect(startBackend({ startAtMs: Date.now() + hour }, 'future')).rejects.toThrow(/cannot start in the future/);
  }, 60_000);
});
