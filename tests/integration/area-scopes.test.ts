/**
 * Area scopes at every level (分级授权), over a real WebSocket and HTTP on one backend: a street-scoped user gets
 * only their street's records in the snapshot and the deltas (an event reported in the next street never reaches
 * them, though the map's grids stay whole); another street's event asked for by id in a command is refused and
 * audited; the key-persons register of the district around them or another street is 403 and audited; the KPIs a
 * district-scoped user is sent count only the district's events (compared with the city-wide user's), a street
 * user's only the street's; the welcome names the scope's units.
 */
import { afterAll, describe, expect } from 'vitest';
import type { AdminUnit, Camera, GovEvent, Grid, KpiSnapshot, Staff, TimelineRecord } from '../../protocol';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';
import { it } from '../../harness/fixtures';
import { hashToken } from '../../backend/users';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
const STREET_TOKEN = 'tok-street-user-0001';
const clients: WireClient[] = [];
let street: AdminUnit;
let inStreet: Grid;
let nextStreet: Grid;
let otherDistrict: Grid;

it.beforeAll(async ({ backend: fileBackend }) => {
  backend = fileBackend;
  const grids = [...backend.state.collections.grids.values()];
  street = [...backend.state.collections.adminUnits.values()].find((u) => u.level === 'street' && u.parentId === 'd01')!;
  inStreet = grids.find((g) => g.streetId === street.id)!;
  nextStreet = grids.find((g) => g.districtId === 'd01' && g.streetId !== street.id)!;
  otherDistrict = grids.find((g) => g.districtId === 'd02')!;
  await backend.store.upsertUsers([{ id: 'street-user', name: '网格长 街道', role: 'dispatcher', districtScope: [street.id], tokenHash: hashToken(STREET_TOKEN), departmentId: null, staffId: null }]);
}, 60_000);
afterAll(() => {
  for (const c of clients) c.close();
});

async function connect(token: string): Promise<WireClient> {
  const c = new WireClient({ url: backend.url, token });
  clients.push(c);
  await c.waitSynced();
  return c;
}

const report = async (c: WireClient, grid: Grid, title: string): Promise<GovEvent> => {
  const id = String((await c.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title, description: '', location: grid.center })).result.eventId);
  return backend.state.get('events', id)!;
};
const streetOf = (gridId: string): string | undefined => backend.state.get('grids', gridId)?.streetId;

describe('a street-scoped user', () => {
  it('gets only the street in the snapshot and the deltas; the map context stays whole', async () => {
    const cityWide = await connect(TEST_TOKENS.dispatcher);
    const here = await report(cityWide, inStreet, '本街道事件');
    const next = await report(cityWide, nextStreet, '隔壁街道事件');
    const far = await report(cityWide, otherDistrict, '二区事件');

    const user = await connect(STREET_TOKEN);
    expect(user.welcome?.districtScope).toEqual([street.id]);
    expect(user.welcome?.areaScope?.units).toEqual([{ id: street.id, level: 'street', code: street.code, name: expect.stringContaining(street.name) }]);
    const events = user.all<GovEvent>('events');
    expect(events.map((e) => e.id)).toContain(here.id);
    expect(events.every((e) => streetOf(e.gridId) === street.id)).toBe(true);
    for (const e of [next, far]) if (streetOf(e.gridId) !== street.id) expect(user.get('events', e.id)).toBeUndefined();
    const staff = user.all<Staff>('staff');
    expect(staff.length).toBeGreaterThan(0);
    expect(staff.every((s) => streetOf(s.gridId) === street.id)).toBe(true);
    expect(staff.length).toBeLessThan(cityWide.all<Staff>('staff').filter((s) => s.districtId === 'd01').length);
    expect(user.all<Camera>('cameras').every((c) => streetOf(c.gridId) === street.id)).toBe(true);
    expect(user.all<TimelineRecord>('timeline').every((r) => streetOf(backend.state.get('events', r.eventId)!.gridId) === street.id)).toBe(true);
    expect(user.all<TimelineRecord>('timeline').some((r) => r.eventId === here.id)).toBe(true);
    expect(user.all('grids').length).toBe(cityWide.all('grids').length);

    // Live: the next street's event is committed first, then one in the street; only the latter arrives.
    const liveNext = await report(cityWide, nextStreet, '隔壁街道新事件');
    const liveHere = await report(cityWide, inStreet, '本街道新事件');
    await until(() => user.get('events', liveHere.id) !== undefined, 'the street event');
    if (streetOf(liveNext.gridId) !== street.id) expect(user.get('events', liveNext.id)).toBeUndefined();
    expect(user.gaps).toEqual([]);
  });

  it('drops a staff member a batch moves to another street (an import reassigning them, through the same commit path): a removal, not a resync', async () => {
    const user = await connect(STREET_TOKEN);
    const member = user.all<Staff>('staff')[0]!;
    const sync = user.welcome?.sync;
    // What POST /admin/import commits: one planned batch through the command pipeline, fanned out to every scope.
    const { seq } = await backend.server.commitPlanned(async () => ({ result: null, changes: [{ op: 'upsert', collection: 'staff', id: member.id, data: { ...member, gridId: nextStreet.id, districtId: nextStreet.districtId } }] }));
    await until(() => user.seq === seq, 'the batch reached the street user');
    expect(user.get('staff', member.id)).toBeUndefined();
    expect(user.closed).toBeNull();
    expect(user.welcome?.sync).toBe(sync);
    // Moved back: sent again as an upsert.
    const back = await backend.server.commitPlanned(async () => ({ result: null, changes: [{ op: 'upsert', collection: 'staff', id: member.id, data: member }] }));
    await until(() => user.seq === back.seq, 'the batch back reached the street user');
    expect(user.get('staff', member.id)).toEqual(member);
  });

  it('is refused commands on another street or district, audited; acts in the street', async () => {
    const cityWide = await connect(TEST_TOKENS.dispatcher);
    const user = await connect(STREET_TOKEN);
    const next = await report(cityWide, nextStreet, '隔壁街道事件二');
    const far = await report(cityWide, otherDistrict, '二区事件二');
    for (const e of [next, far]) {
      if (streetOf(e.gridId) === street.id) continue;
      await expect(user.command('event.accept', { eventId: e.id })).rejects.toMatchObject({ wire: { code: 'forbidden' } });
      expect(backend.state.get('events', e.id)!.status).toBe('new');
    }
    await expect(user.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: 'x', description: '', location: nextStreet.center })).rejects.toThrow(/不在您的辖区/);
    const refused = (await backend.store.auditLog(100)).filter((a) => a.kind === 'command-rejected' && a.userId === 'street-user');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(refused)).toContain(far.id);
    const own = await report(cityWide, inStreet, '本街道待受理');
    if (streetOf(own.gridId) === street.id) expect((await user.command('event.accept', { eventId: own.id })).seq).toBeGreaterThan(0);
  });

  it('reads the key-persons register of the street only: 403 for the district around it and another street, audited', async () => {
    const base = backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
    const get = (level: string, id: string): Promise<Response> => fetch(`${base}/city/key-persons?level=${level}&id=${id}`, { headers: { Authorization: `Bearer ${STREET_TOKEN}` } });
    expect((await get('street', street.id)).status).toBe(200);
    expect((await get('grid', inStreet.id)).status).toBe(200);
    const district = await get('district', 'd01');
    expect(district.status).toBe(403);
    expect(await district.text()).toMatch(/不在您的辖区内.*outside your area/);
    expect((await get('street', nextStreet.streetId)).status).toBe(403);
    expect((await get('grid', otherDistrict.id)).status).toBe(403);
    const reads = (await backend.store.auditLog(100)).filter((a) => a.kind === 'sensitive-read' && a.userId === 'street-user');
    expect(reads.filter((a) => (a.detail as { refused?: number }).refused === 403).length).toBe(3);
    // A district user reads the whole district (unchanged).
    const d01 = await fetch(`${base}/city/key-persons?level=district&id=d01`, { headers: { Authorization: `Bearer ${TEST_TOKENS['dispatcher-d01']}` } });
    expect(d01.status).toBe(200);
  });
});

describe('KPIs for the scope', () => {
  it('a district user is sent the district’s KPIs, a street user the street’s, the city-wide user the city’s', async () => {
    const cityWide = await connect(TEST_TOKENS.dispatcher);
    const district = await connect(TEST_TOKENS['dispatcher-d01']);
    const user = await connect(STREET_TOKEN);
    await backend.refreshKpis();
    const computedAt = backend.state.get('kpis', 'today')!.computedAt;
    const fresh = (c: WireClient): boolean => c.get<KpiSnapshot>('kpis', 'today')?.computedAt === computedAt;
    await until(() => fresh(cityWide) && fresh(district) && fresh(user), 'the refreshed KPIs');
    const from = Date.parse(backend.state.get('kpis', 'today')!.from);
    const today = [...backend.state.collections.events.values()].filter((e) => e.status !== 'merged' && Date.parse(e.reportedAt) >= from && Date.parse(e.reportedAt) <= Date.parse(computedAt));
    const reported = (c: WireClient): number => c.get<KpiSnapshot>('kpis', 'today')!.closureRate.denominator;
    expect(reported(cityWide)).toBe(today.length);
    expect(reported(district)).toBe(today.filter((e) => e.districtId === 'd01').length);
    expect(reported(user)).toBe(today.filter((e) => streetOf(e.gridId) === street.id).length);
    expect(reported(district)).toBeLessThan(reported(cityWide));
    expect(reported(user)).toBeGreaterThan(0);
    expect(district.get<KpiSnapshot>('kpis', 'today')!.byDistrict.map((d) => d.districtId)).toEqual(['d01']);
    expect(cityWide.get<KpiSnapshot>('kpis', 'today')!.byDistrict.length).toBeGreaterThan(1);
    // The same rows in a new session's snapshot.
    const again = await connect(STREET_TOKEN);
    expect(reported(again)).toBe(reported(user));
  });
});
