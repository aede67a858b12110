/**
 * The department page's work routes on one real backend (SQLite file, real HTTP and WebSocket), as a 部门联络员
 * uses them: 签收 and 处置反馈 with an attachment on an event dispatched to the department (the desk sees each),
 * 退回 with a reason (back at the desk to re-dispatch), 申请延期 approved by a dispatcher over the wire (the deadline
 * moves), the event's detail; another department's event refused (403), bad bodies 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { AttachmentRef, DepartmentEvent, DepartmentMe, LoginAnswer, type Department, type GovEvent, type Grid, type TimelineRecord } from '../../protocol';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let http: string;
let desk: WireClient;
let mine: Department;
let theirs: Department;
let session: string;
let category: string;
let grid: Grid;
const PASSWORD = 'department-api-test-secret';

const post = (path: string, body: unknown, token = session): Promise<Response> =>
  fetch(`${http}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const get = (path: string, token = session): Promise<Response> => fetch(`${http}${path}`, { headers: { Authorization: `Bearer ${token}` } });
const act = (eventId: string, action: string, body: Record<string, unknown> = {}): Promise<Response> => post(`/department/api/events/${eventId}/${action}`, { clientId: randomUUID(), ...body });
/** A new event at the desk, dispatched to a department. */
const dispatched = async (departmentId: string, title: string): Promise<string> => {
  const report = await desk.command('event.report', { source: 'hotline', category, severity: 2, title, description: title, location: grid.center });
  const eventId = String(report.result['eventId']);
  await desk.command('event.dispatch', { eventId, departmentId });
  return eventId;
};
const seen = (eventId: string): GovEvent | undefined => desk.get<GovEvent>('events', eventId);
const entries = (eventId: string): TimelineRecord[] => desk.all<TimelineRecord>('timeline').filter((r) => r.eventId === eventId).sort((a, b) => a.index - b.index);

beforeAll(async () => {
  backend = await startTestBackend();
  http = `http://127.0.0.1:${backend.port}`;
  [mine, theirs] = [...backend.state.collections.departments.values()] as [Department, Department];
  category = [...backend.state.collections.rules.values()][0]!.category;
  grid = [...backend.state.collections.grids.values()][0]!;
  const made = await fetch(`${http}/admin/users`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: 'liaison-zhou', name: '周红', role: 'liaison', scope: null, password: PASSWORD, departmentId: mine.id }),
  });
  expect(made.status).toBe(201);
  const login = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'liaison-zhou', password: PASSWORD, client: { id: 'browser-1' }, app: 'department' }) });
  session = LoginAnswer.parse(await login.json()).sessionToken;
  desk = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
  await desk.waitSynced();
}, 60_000);
afterAll(async () => {
  desk?.close();
  await backend?.close();
  backend?.cleanup();
});

describe('the department page on the real backend', () => {
  it('signs and feeds back with an attachment; the desk sees each step; the detail shows the history and the attachment', async () => {
    const eventId = await dispatched(mine.id, '道路塌陷');
    const queue = DepartmentMe.parse(await (await get('/department/api/me')).json()).queue;
    expect(queue.some((e) => e.id === eventId)).toBe(true);
    const signId = randomUUID();
    const signed = await post(`/department/api/events/${eventId}/sign`, { clientId: signId });
    expect(signed.status, await signed.clone().text()).toBe(200);
    expect(await signed.json()).toMatchObject({ eventId, status: 'handling', duplicate: false });
    await until(() => seen(eventId)?.status === 'handling', 'the desk sees the sign-for', 2000);
    expect(await (await post(`/department/api/events/${eventId}/sign`, { clientId: signId })).json()).toMatchObject({ status: 'handling', duplicate: true });

    const form = new FormData();
    const png = await sharp({ create: { width: 30, height: 20, channels: 3, background: { r: 0, g: 120, b: 200 } } }).png().toBuffer();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), '修复后.png');
    const uploaded = await fetch(`${http}/attachments`, { method: 'POST', body: form, headers: { Authorization: `Bearer ${session}` } });
    expect(uploaded.status, await uploaded.clone().text()).toBe(201);
    const photo = AttachmentRef.parse(await uploaded.json());
    const fed = await act(eventId, 'feedback', { note: '已回填修复', attachments: [photo.id] });
    expect(fed.status, await fed.clone().text()).toBe(200);
    await until(() => seen(eventId)?.status === 'handled', 'the desk sees the feedback', 2000);
    const feedback = entries(eventId).find((r) => r.action === 'feedback')!;
    expect(feedback).toMatchObject({ actor: 'liaison-zhou', note: '已回填修复' });
    expect(feedback.attachments?.map((a) => a.id)).toEqual([photo.id]);

    const detail = DepartmentEvent.parse(await (await get(`/department/api/events/${eventId}`)).json());
    expect(detail).toMatchObject({ id: eventId, status: 'handled', supervised: false, actions: [] });
    expect(detail.timeline.map((e) => e.action)).toEqual(['report', 'accept', 'dispatch', 'sign', 'feedback']);
    expect(detail.timeline.at(-1)!.attachments?.[0]?.id).toBe(photo.id);
    // Done: no more return.
    expect((await act(eventId, 'return', { reason: '太晚了' })).status).toBe(409);
  });

  it('returns an event with a reason: the desk has it back to re-dispatch, the history names the department', async () => {
    const eventId = await dispatched(mine.id, '非本部门事项');
    const res = await act(eventId, 'return', { reason: '属于水务部门职责' });
    expect(res.status, await res.clone().text()).toBe(200);
    await until(() => seen(eventId)?.status === 'accepted', 'the desk sees it back', 2000);
    expect(seen(eventId)!.assignee).toBeNull();
    expect(entries(eventId).at(-1)).toMatchObject({ action: 'return', note: `${mine.name} 退回：属于水务部门职责` });
    // Not the department's any more; the desk dispatches it again.
    expect((await get(`/department/api/events/${eventId}`)).status).toBe(403);
    await desk.command('event.dispatch', { eventId, departmentId: theirs.id });
    await until(() => seen(eventId)?.status === 'dispatched', 'dispatched again', 2000);
  });

  it('asks for an extension; a dispatcher approves it over the wire and the step deadline moves', async () => {
    const eventId = await dispatched(mine.id, '需采购材料');
    const before = backend.state.get('events', eventId)!.stepDeadline!;
    const res = await act(eventId, 'extension', { minutes: 120, reason: '需采购材料' });
    expect(res.status, await res.clone().text()).toBe(200);
    await until(() => seen(eventId)?.extensionRequests?.[0]?.state === 'pending', 'the desk sees the request', 2000);
    const request = seen(eventId)!.extensionRequests![0]!;
    expect(request).toMatchObject({ minutes: 120, reason: '需采购材料', departmentId: mine.id, requestedBy: 'liaison-zhou' });
    expect(DepartmentEvent.parse(await (await get(`/department/api/events/${eventId}`)).json()).actions).toEqual(['sign', 'return']);
    expect((await act(eventId, 'extension', { minutes: 30, reason: '再要' })).status).toBe(409);
    await desk.command('event.extension.decide', { eventId, requestId: request.id, approve: true });
    await until(() => seen(eventId)?.extensionRequests?.[0]?.state === 'approved', 'approved', 2000);
    expect(Date.parse(seen(eventId)!.stepDeadline!) - Date.parse(before)).toBe(120 * 60_000);
    expect(entries(eventId).at(-1)).toMatchObject({ action: 'extension-approve' });
  });

  it("reads its own department's attachments (thumbnail and whole), not another's (403); the queue marks 督办 and 协办", async () => {
    const upload = async (colour: number): Promise<AttachmentRef> => {
      const form = new FormData();
      const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: colour, g: 80, b: 40 } } }).png().toBuffer();
      form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), `现场${colour}.png`);
      const res = await fetch(`${http}/attachments`, { method: 'POST', body: form, headers: { Authorization: `Bearer ${TEST_TOKENS.dispatcher}` } });
      expect(res.status, await res.clone().text()).toBe(201);
      return AttachmentRef.parse(await res.json());
    };
    const [ours, others] = [await upload(11), await upload(222)];
    const reported = async (photo: AttachmentRef, departmentId: string): Promise<string> => {
      const report = await desk.command('event.report', { source: 'hotline', category, severity: 3, title: '占道经营', description: '现场照片', location: grid.center, attachments: [photo.id] });
      const eventId = String(report.result['eventId']);
      await desk.command('event.dispatch', { eventId, departmentId });
      return eventId;
    };
    const mineId = await reported(ours, mine.id);
    const theirsId = await reported(others, theirs.id);
    const thumb = await get(`/attachments/${ours.id}/thumb`);
    expect(thumb.status, await thumb.clone().text()).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect((await get(`/attachments/${ours.id}`)).status).toBe(200);
    for (const path of [`/attachments/${others.id}/thumb`, `/attachments/${others.id}`]) {
      const refused = await get(path);
      expect(refused.status, path).toBe(403);
      expect(await refused.json()).toMatchObject({ code: 'forbidden' });
    }
    // A liaison's token still opens none of the console's other routes.
    expect((await get('/audit')).status).toBe(403);
    // Their event, with this department asked to help (协办) and approved: in the queue, marked, readable, not actable.
    const leader = new WireClient({ url: backend.url, token: TEST_TOKENS.leader });
    await leader.waitSynced();
    await leader.command('event.supervise', { eventId: mineId, note: '领导督办' });
    leader.close();
    const asked = await desk.command('event.cohandle.request', { eventId: theirsId, departmentId: mine.id, reason: '需配合' });
    await desk.command('event.cohandle.decide', { eventId: theirsId, requestId: String(asked.result['requestId']), approve: true });
    await until(() => backend.state.get('events', theirsId)?.coHandlers.includes(mine.id) === true, 'co-handling', 2000);
    const queue = DepartmentMe.parse(await (await get('/department/api/me')).json()).queue;
    expect(queue.find((e) => e.id === theirsId)).toMatchObject({ coHandling: true });
    expect(queue.find((e) => e.id === mineId)).toMatchObject({ coHandling: false, supervised: true, extensionPending: false });
    const helping = DepartmentEvent.parse(await (await get(`/department/api/events/${theirsId}`)).json());
    expect(helping).toMatchObject({ lead: false, actions: [], coHandling: [{ department: mine.name, state: 'approved', reason: '需配合' }] });
    expect((await get(`/attachments/${others.id}/thumb`)).status).toBe(200);

    // Grid staff read what their tasks name, nothing else.
    const staff = [...backend.state.collections.staff.values()].find((s) => s.status !== 'offline')!;
    const made = await fetch(`${http}/admin/users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 'grid-wu', name: staff.name, role: 'field', scope: null, password: PASSWORD, staffId: staff.id }),
    });
    expect(made.status).toBe(201);
    const login = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'grid-wu', password: PASSWORD, client: { id: 'phone-9' }, app: 'field' }) });
    const field = LoginAnswer.parse(await login.json()).sessionToken;
    const task = await upload(90);
    const report = await desk.command('event.report', { source: 'hotline', category, severity: 2, title: '路灯不亮', description: '照片', location: grid.center, attachments: [task.id] });
    await desk.command('event.dispatch', { eventId: String(report.result['eventId']), staffId: staff.id });
    expect((await get(`/attachments/${task.id}/thumb`, field)).status).toBe(200);
    expect((await get(`/attachments/${ours.id}/thumb`, field)).status).toBe(403);
  });

  it("refuses another department's event (403) and bad bodies (400 naming the field); nothing changes", async () => {
    const eventId = await dispatched(theirs.id, '别的部门');
    const version = backend.state.get('events', eventId)!.version;
    for (const action of ['sign', 'return']) {
      const res = await act(eventId, action, { reason: '试试' });
      expect(res.status, action).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/没有派给你的部门/) });
    }
    expect((await get(`/department/api/events/${eventId}`)).status).toBe(403);
    const ours = await dispatched(mine.id, '坏请求');
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['return', { reason: '' }, 'reason'],
      ['extension', { minutes: 0, reason: 'x' }, 'minutes'],
      ['extension', { minutes: 60 }, 'reason'],
      ['feedback', { note: 'x', attachments: ['nope'] }, 'attachments.0'],
    ];
    for (const [action, body, field] of cases) {
      const res = await act(ours, action, body);
      expect(res.status, `${action} ${JSON.stringify(body)}`).toBe(400);
      expect(((await res.json()) as { path: string }).path).toBe(field);
    }
    expect((await post(`/department/api/events/${ours}/sign`, { clientId: 'x' })).status).toBe(400);
    expect((await act(ours, 'arrive')).status).toBe(404);
    expect((await act('E-none', 'sign')).status).toBe(404);
    expect((await act(ours, 'sign', {}).then(() => get(`/department/api/events/${ours}`, TEST_TOKENS.dispatcher))).status).toBe(403);
    expect(backend.state.get('events', eventId)!.version).toBe(version);
  });

  it('serves the page at /department/ with a strict CSP and its assets only; 503 while not built', async () => {
    const assets = mkdtempSync(join(tmpdir(), 'department-page-'));
    mkdirSync(join(assets, 'assets'));
    writeFileSync(join(assets, 'department.html'), '<!doctype html><title>部门联络员端</title><script type="module" src="./assets/department-x.js"></script>');
    writeFileSync(join(assets, 'assets', 'department-x.js'), 'export {};');
    const served = await startTestBackend({ fieldAssetsDir: assets });
    const bare = await startTestBackend({ fieldAssetsDir: null });
    try {
      const at = `http://127.0.0.1:${served.port}`;
      expect((await fetch(`${at}/department`, { redirect: 'manual' })).headers.get('location')).toBe('/department/');
      const page = await fetch(`${at}/department/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('部门联络员端');
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self';");
      expect(page.headers.get('cache-control')).toBe('no-cache');
      const script = await fetch(`${at}/department/assets/department-x.js`);
      expect(script.headers.get('content-type')).toContain('javascript');
      expect(script.headers.get('cache-control')).toContain('immutable');
      for (const path of ['/department/assets/..%2F..%2Fbackend.sqlite', '/department/assets/../department.html', '/department/../tokens.json', '/department/nothing.js', '/department/api/nothing']) {
        expect((await fetch(`${at}${path}`)).status, path).toBe(404);
      }
      expect((await fetch(`${at}/department/`, { method: 'POST' })).status).toBe(405);
      // The API still answers as before.
      expect((await fetch(`${at}/department/api/me`)).status).toBe(401);
      const missing = await fetch(`http://127.0.0.1:${bare.port}/department/`);
      expect(missing.status).toBe(503);
      expect(await missing.text()).toContain('npm run build');
    } finally {
      await served.close();
      await bare.close();
      served.cleanup();
      bare.cleanup();
      rmSync(assets, { recursive: true, force: true });
    }
  }, 60_000);
});
