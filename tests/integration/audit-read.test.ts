/**
 * Audit you can read, on one real backend (SQLite file, real WebSocket and HTTP) and a real hub: a dispatcher's
 * console opens an event with a reporter (Hub API recordView → the wire's view frame), and a leader reading GET
 * /audit sees the view with the user, the time, the event and the personal flag; filters and paging work; the
 * CSV has its byte-order mark and a planted formula neutralised; a dispatcher is refused (403) and the refusal is
 * audited; a bad query is 400; a bad or flooding view frame is refused on the wire, nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { AuditPage, type Grid } from '../../protocol';
import { Hub } from '../../hub';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';
import { waitOnline } from '../../harness/hub-fixtures';
import { VIEW_BURST } from '../../backend/audit/views';
import { csvCell } from '../../backend/audit/csv';
import { hashToken } from '../../backend/users';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let hub: Hub;
let eventId: string;
const FORMULA = '=HYPERLINK("http://evil.example","点我")';

const get = (path: string, token?: string): Promise<Response> => fetch(`http://127.0.0.1:${backend.port}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
const page = async (query: string, token: string = TEST_TOKENS.leader): Promise<AuditPage> => {
  const res = await get(`/audit?${query}`, token);
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return AuditPage.parse(await res.json());
};

beforeAll(async () => {
  backend = await startTestBackend({ historyDays: 0 });
  const reporter = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
  await reporter.waitSynced();
  const grid = reporter.all<Grid>('grids')[0]!;
  const ack = await reporter.command('event.report', { source: 'hotline', category: 'noise', severity: 2, title: FORMULA, description: '楼下噪音', location: grid.center, reporter: { name: '王小明', phone: '13912345678' } });
  eventId = String(ack.result.eventId);
  await reporter.command('event.comment', { eventId, text: '已电话回访' });
  reporter.close();
  hub = new Hub({ dataDir: join(backend.dir, 'hub'), version: 'test', backend: { url: backend.url, token: TEST_TOKENS.dispatcher } });
  await waitOnline(hub);
  await until(() => hub.confirmed.get('events', eventId) !== undefined, 'the event at the hub');
}, 120_000);

afterAll(async () => {
  hub?.close();
  await backend?.close();
  backend?.cleanup();
});

describe('audit you can read', () => {
  it("shows the dispatcher's view of an event with personal data to a leader, with user, time, event and flag", async () => {
    const before = new Date().toISOString();
    const desk = hub.openSession({ bridge: 'websocket', displayRole: 'dispatch', label: 'desk' }, () => {});
    expect(await desk.handle('recordView', { what: 'event', id: eventId })).toEqual({ ok: true, result: {} });
    const demo = hub.openSession({ bridge: 'websocket', displayRole: 'map', label: 'demo', demo: true }, () => {});
    expect(await demo.handle('recordView', { what: 'event', id: eventId })).toEqual({ ok: true, result: {} });
    // The event's card on the map (a summary: never its reporter).
    const map = hub.openSession({ bridge: 'websocket', displayRole: 'map', label: 'map' }, () => {});
    expect(await map.handle('recordView', { what: 'event', id: eventId, summary: true })).toEqual({ ok: true, result: {} });
    let views: AuditPage['entries'] = [];
    const deadline = Date.now() + 10_000;
    while (views.length < 3 && Date.now() < deadline) views = (await page(`kind=view&event=${eventId}`)).entries;
    expect(views).toHaveLength(3);
    // Newest first: the map card's view and the demo window's (no personal data shown), then the desk's (the reporter shown).
    expect(views[2]).toMatchObject({ userId: 'dispatcher', kind: 'view', eventId, client: hub.clientId, detail: { personal: true, hasReporter: true, districtId: expect.any(String), eventTitle: FORMULA } });
    expect(views[1]).toMatchObject({ userId: 'dispatcher', detail: { personal: false } });
    expect(views[0]).toMatchObject({ userId: 'dispatcher', detail: { personal: false, hasReporter: true } });
    expect(views[2]!.userName).toBeTruthy();
    expect(Date.parse(views[2]!.at)).toBeGreaterThanOrEqual(Date.parse(before) - 60_000);
    // By person, by text, by time; paging with the cursor.
    expect((await page('user=dispatcher&kind=view')).entries.map((e) => e.id)).toEqual(views.map((e) => e.id));
    expect((await page('user=leader&kind=view')).entries).toEqual([]);
    expect((await page(`q=${encodeURIComponent('HYPERLINK')}&kind=view`)).entries).toHaveLength(3);
    expect((await page(`kind=view&to=${encodeURIComponent(before)}`)).entries).toEqual([]);
    const first = await page('limit=1');
    expect(first.entries).toHaveLength(1);
    expect(first.nextCursor).toMatch(/\|\d+$/);
    const second = await page(`limit=1&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(second.entries[0]!.id).toBeLessThan(first.entries[0]!.id);
    // A command on the event is found by its event too.
    expect((await page(`event=${eventId}&kind=command`)).entries).toHaveLength(1);
  });

  it('exports CSV with a byte-order mark and formulas neutralised; audits the export', async () => {
    // Through a leader's hub: the file as the backend wrote it, its mark kept.
    const leaderHub = new Hub({ dataDir: join(backend.dir, 'leader-hub'), version: 'test', backend: { url: backend.url, token: TEST_TOKENS.leader } });
    try {
      await waitOnline(leaderHub);
      const session = leaderHub.openSession({ bridge: 'websocket', displayRole: 'dispatch', label: 'audit' }, () => {});
      const file = await session.handle('exportAudit', { kind: 'view', event: eventId });
      expect(file).toMatchObject({ ok: true, result: { rows: 3, truncated: false, fileName: expect.stringMatching(/^audit-.*\.csv$/) } });
      const csv = (file as { result: { csv: string } }).result.csv;
      expect(csv.startsWith('\uFEFF"编号 id"')).toBe(true);
      expect(csv.split('\r\n').filter(Boolean)).toHaveLength(4);
      expect(await session.handle('readAudit', { kind: 'view', limit: 1 })).toMatchObject({ ok: true, result: { entries: [{ kind: 'view' }], nextCursor: expect.any(String) } });
    } finally {
      leaderHub.close();
    }
    const res = await get(`/audit.csv?event=${eventId}`, TEST_TOKENS.admin);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="audit-\d{8}-\d{6}\.csv"/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8');
    expect(text).toContain('"时间 time (UTC)"');
    expect(text).toContain('"查看"');
    expect(text).toContain('"已显示 shown"');
    // The planted title never starts a cell; in the detail cell it sits inside JSON (no leading =).
    expect(text).not.toMatch(/(^|,)"=/m);
    expect(csvCell(FORMULA)).toBe(`"'=HYPERLINK(""http://evil.example"",""点我"")"`);
    expect(csvCell('+1')).toBe(`"'+1"`);
    expect(csvCell('-2')).toBe(`"'-2"`);
    expect(csvCell('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvCell('\tx')).toBe(`"'\tx"`);
    expect(csvCell('正常')).toBe('"正常"');
    expect(Number(res.headers.get('x-audit-rows'))).toBeGreaterThanOrEqual(3);
    const reads = (await page('kind=audit-read&user=admin')).entries;
    expect(reads[0]).toMatchObject({ detail: { format: 'csv', query: { event: eventId } } });
  });

  it('an inspector (督查) reads the audit masked: the reporter by surname only, no phone, and cannot search by a number', async () => {
    await backend.store.upsertUsers([{ id: 'inspector-1', name: '督查 周文', role: 'inspector', districtScope: null, tokenHash: hashToken('tok-inspector-1'), departmentId: null, staffId: null }]);
    const leaderView = (await page('kind=command&q=HYPERLINK')).entries.find((e) => (e.detail as { type?: string }).type === 'event.report')!;
    expect(JSON.stringify(leaderView.detail)).toContain('13912345678');
    const inspectorView = (await page('kind=command&q=HYPERLINK', 'tok-inspector-1')).entries.find((e) => (e.detail as { type?: string }).type === 'event.report')!;
    const text = JSON.stringify(inspectorView.detail);
    expect(text).not.toContain('13912345678');
    expect(text).not.toContain('王小明');
    expect((inspectorView.detail as { payload: { reporter: { name: string } } }).payload.reporter.name).toBe('王**');
    const csv = await get('/audit.csv?kind=command&q=HYPERLINK', 'tok-inspector-1');
    expect(csv.status).toBe(200);
    const body = await csv.text();
    expect(body).not.toContain('13912345678');
    expect(body).toContain('王**');
    const search = await get('/audit?q=13912345678', 'tok-inspector-1');
    expect(search.status).toBe(403);
    expect(await search.text()).toContain('不能按号码检索');
    expect((await page('kind=audit-read&user=inspector-1')).entries.some((e) => (e.detail as { reason?: string }).reason === 'masked-digit-search')).toBe(true);
  });

  it('refuses a dispatcher (403), no token (401), a district leader (403) and a bad query (400); each audited', async () => {
    const refused = await get('/audit', TEST_TOKENS.dispatcher);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/无权查阅审计日志.*may not read the audit log/);
    expect((await get('/audit.csv', TEST_TOKENS.viewer)).status).toBe(403);
    // Through the dispatcher's hub: the backend's refusal, said as it is.
    const desk = hub.openSession({ bridge: 'websocket', displayRole: 'dispatch', label: 'desk' }, () => {});
    expect(await desk.handle('readAudit', { kind: 'view' })).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringMatching(/无权查阅审计日志/) } });
    expect(await desk.handle('exportAudit', {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect((await get('/audit')).status).toBe(401);
    await backend.store.upsertUsers([{ id: 'leader-d01', name: '区领导', role: 'leader', districtScope: ['d01'], tokenHash: hashToken('tok-leader-d01'), departmentId: null, staffId: null }]);
    const scoped = await get('/audit', 'tok-leader-d01');
    expect(scoped.status).toBe(403);
    expect(await scoped.text()).toMatch(/全市范围.*city-wide only/);
    for (const bad of ['limit=0', 'limit=9999', 'from=yesterday', 'kind=DROP%20TABLE', 'cursor=abc', 'drop=1', `from=${encodeURIComponent('2026-01-02T00:00:00Z')}&to=${encodeURIComponent('2026-01-01T00:00:00Z')}`]) {
      const res = await get(`/audit?${bad}`, TEST_TOKENS.leader);
      expect(res.status, bad).toBe(400);
      expect(await res.text()).toMatch(/查询参数有误.*bad query/);
    }
    expect((await fetch(`http://127.0.0.1:${backend.port}/audit`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.leader}` } })).status).toBe(405);
    const reads = (await page('kind=audit-read&limit=20')).entries;
    expect(reads.find((e) => e.userId === 'dispatcher')).toMatchObject({ detail: { refused: 403, role: 'dispatcher' } });
    expect(reads.find((e) => e.userId === null)).toMatchObject({ detail: { refused: 401 } });
    expect(reads.find((e) => e.detail.refused === 400)).toMatchObject({ userId: 'leader' });
  });

  it('refuses a bad view frame and paces a flood of them; nothing bad is written', async () => {
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.duty });
    await c.waitSynced();
    const frame = (payload: unknown): string => JSON.stringify({ v: 1, type: 'view', payload });
    c.sendRaw(frame({ what: 'event', id: 'no-such-event', personal: true }));
    c.sendRaw(frame({ what: 'person', id: eventId, personal: true }));
    c.sendRaw(frame({ what: 'event', id: eventId, personal: 'yes' }));
    await until(() => c.errors.length >= 3, 'three refusals');
    expect(c.errors.slice(0, 3).map((e) => [e.code, e.inReplyTo])).toEqual([
      ['forbidden', 'view'],
      ['invalid', 'view'],
      ['invalid', 'view'],
    ]);
    for (let i = 0; i < VIEW_BURST + 5; i++) c.sendRaw(frame({ what: 'event', id: eventId, personal: false }));
    await until(() => c.errors.some((e) => e.code === 'rate-limited'), 'a rate-limited view');
    await new Promise((r) => setTimeout(r, 500));
    const lines = (await page(`user=duty&kind=view&limit=200`)).entries;
    // The view of an event that does not exist: refused and audited, without anything of an event.
    expect(lines.filter((e) => e.detail.refused !== undefined).map((e) => [e.eventId, e.detail.refused])).toEqual([['no-such-event', 'no-such-event']]);
    const written = lines.filter((e) => e.detail.refused === undefined);
    expect(written.length).toBeGreaterThanOrEqual(VIEW_BURST - 2);
    expect(written.length).toBeLessThanOrEqual(VIEW_BURST + 1);
    expect(written.every((e) => e.eventId === eventId)).toBe(true);
    c.close();
  });

  it('refuses the view of an event outside the user’s area like one that does not exist, and audits it', async () => {
    // An event in another district, reported by a city-wide dispatcher.
    const grid = [...backend.state.collections.grids.values()].find((g) => g.districtId !== 'd01')!;
    const reporter = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await reporter.waitSynced();
    const ack = await reporter.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '外区噪音投诉', description: '', location: grid.center });
    reporter.close();
    const elsewhere = backend.state.get('events', String(ack.result.eventId))!;
    expect(elsewhere.districtId).not.toBe('d01');
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS['dispatcher-d01'] });
    await c.waitSynced();
    c.sendRaw(JSON.stringify({ v: 1, type: 'view', payload: { what: 'event', id: elsewhere.id, personal: true } }));
    await until(() => c.errors.length >= 1, 'the refusal');
    expect(c.errors[0]).toMatchObject({ code: 'forbidden', inReplyTo: 'view' });
    expect(c.errors[0]!.message).not.toContain(elsewhere.title);
    await new Promise((r) => setTimeout(r, 200));
    const line = (await page(`user=dispatcher-d01&kind=view&limit=5`)).entries[0];
    expect(line).toMatchObject({ eventId: elsewhere.id, detail: { refused: 'outside-scope' } });
    expect(JSON.stringify(line)).not.toContain(elsewhere.title);
    c.close();
  });
});
