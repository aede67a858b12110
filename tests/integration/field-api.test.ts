/**
 * The field app's work routes on one real backend (SQLite file, real HTTP and WebSocket), as a grid staff member's
 * phone uses them: on duty (its position reaches a console's positions stream), 一键上报 with a photo uploaded first
 * (a console sees the event with the photo and the right grid within 2 s; the same clientId again is the same event),
 * a task dispatched to them signed, arrived at and fed back with a photo (the console sees each step), another's task
 * refused (403), positions rate-limited (429 Retry-After), off duty (offline), and bad bodies (400 naming the field).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { AttachmentRef, FieldMe, FieldReportAnswer, LoginAnswer, type GovEvent, type Staff, type TimelineRecord } from '../../protocol';
import { upsert } from '../../domain';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';
import { refusalOf, setApiLanguage } from '../../renderer/src/page-apps/app-api';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let http: string;
let console_: WireClient;
let me: Staff;
let other: Staff;
let session: string;
let category: string;
const PASSWORD = 'field-api-test-secret';

const post = (path: string, body: unknown, token = session): Promise<Response> =>
  fetch(`${http}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const upload = async (seed: number): Promise<AttachmentRef> => {
  const form = new FormData();
  const png = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: seed, g: 90, b: 20 } } }).png().toBuffer();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), `现场-${seed}.png`);
  const res = await fetch(`${http}/attachments`, { method: 'POST', body: form, headers: { Authorization: `Bearer ${session}` } });
  expect(res.status, await res.clone().text()).toBe(201);
  return AttachmentRef.parse(await res.json());
};
const centerOf = (staff: Staff): [number, number] => backend.state.get('grids', staff.gridId)!.center as [number, number];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const positionAt = (staffId: string, lon: number, lat: number): boolean => console_.positions.some((p) => p.items.some(([id, x, y]) => id === staffId && Math.abs(x - lon) < 1e-6 && Math.abs(y - lat) < 1e-6));

beforeAll(async () => {
  backend = await startTestBackend({ sip: { url: 'ws://127.0.0.1:5999', secret: 'field-api-test-sip-secret' } });
  http = `http://127.0.0.1:${backend.port}`;
  const staff = [...backend.state.collections.staff.values()];
  me = staff[0]!;
  other = staff.find((s) => s.districtId === me.districtId && s.id !== me.id)!;
  category = [...backend.state.collections.rules.values()][0]!.category;
  const made = await fetch(`${http}/admin/users`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: 'grid-li', name: me.name, role: 'field', scope: null, password: PASSWORD, staffId: me.id }),
  });
  expect(made.status).toBe(201);
  const login = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'grid-li', password: PASSWORD, client: { id: 'phone-1' }, app: 'field' }) });
  session = LoginAnswer.parse(await login.json()).sessionToken;
  console_ = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
  await console_.waitSynced();
}, 60_000);
afterAll(async () => {
  console_?.close();
  await backend?.close();
  backend?.cleanup();
});

describe('the field app on the real backend', () => {
  it('goes on duty: the position reaches the console, the staff member is on duty', async () => {
    const [lon, lat] = centerOf(me);
    const res = await post('/field/api/position', { lon, lat, accuracy: 8, at: new Date().toISOString(), onDuty: true });
    expect(res.status, await res.clone().text()).toBe(200);
    await until(() => positionAt(me.id, lon, lat), 'the console sees the phone position', 2000);
    await until(() => console_.get<Staff>('staff', me.id)?.status !== 'offline', 'on duty at the console', 2000);
  });

  it('reports with a photo: the console sees the event with the photo and the right grid within 2 s; the same clientId again is the same event', async () => {
    const photo = await upload(10);
    const clientId = randomUUID();
    const location = centerOf(me);
    const body = { clientId, category, description: '井盖缺失，已设置警示', location, accuracy: 6.5, attachments: [photo.id] };
    const started = Date.now();
    const res = await post('/field/api/reports', body);
    expect(res.status, await res.clone().text()).toBe(201);
    const { eventId, duplicate } = FieldReportAnswer.parse(await res.json());
    expect(duplicate).toBe(false);
    await until(() => console_.get<GovEvent>('events', eventId) !== undefined, 'the console sees the report', 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    const seen = console_.get<GovEvent>('events', eventId)!;
    expect(seen).toMatchObject({ source: 'grid-app', gridId: me.gridId, category, locationAccuracy: 7, reporter: { name: me.name, phone: '' } });
    expect(seen.attachments?.map((a) => a.id)).toEqual([photo.id]);

    const events = backend.state.collections.events.size;
    const again = await post('/field/api/reports', body);
    expect(again.status).toBe(200);
    expect(FieldReportAnswer.parse(await again.json())).toEqual({ eventId, duplicate: true });
    expect(backend.state.collections.events.size).toBe(events);
  });

  it('signs, arrives and feeds back with a photo on a task dispatched to them; the console sees each step; /me lists the task with its actions', async () => {
    const report = await console_.command('event.report', { source: 'hotline', category, severity: 2, title: '路灯不亮', description: '路灯不亮', location: centerOf(me) });
    const eventId = String(report.result['eventId']);
    await console_.command('event.dispatch', { eventId, staffId: me.id });
    const mine = FieldMe.parse(await (await fetch(`${http}/field/api/me`, { headers: { Authorization: `Bearer ${session}` } })).json());
    // What 一键上报 and 申请协同 pick from: the rules' categories and the departments.
    expect(mine.categories).toContainEqual({ id: category, name: backend.state.get('rules', category)!.categoryName });
    expect(mine.departments?.length).toBe(backend.state.collections.departments.size);
    expect(mine.tasks.find((t) => t.id === eventId)).toMatchObject({ status: 'dispatched', actions: ['sign', 'cohandle'], category, supervised: false, stepDeadline: expect.any(String), finalDeadline: expect.any(String) });
    const step = async (action: string, body: Record<string, unknown>, status: string): Promise<void> => {
      const res = await post(`/field/api/tasks/${eventId}/${action}`, { clientId: randomUUID(), ...body });
      expect(res.status, `${action}: ${await res.clone().text()}`).toBe(200);
      expect(await res.json()).toMatchObject({ eventId, status, duplicate: false });
      await until(() => console_.get<GovEvent>('events', eventId)?.status === status, `the console sees ${action}`, 2000);
    };
    const signId = randomUUID();
    const signed = await post(`/field/api/tasks/${eventId}/sign`, { clientId: signId });
    expect(signed.status).toBe(200);
    await until(() => console_.get<GovEvent>('events', eventId)?.status === 'handling', 'the console sees the sign-for', 2000);
    // The offline queue sends it again: the same answer, nothing run twice.
    expect(await (await post(`/field/api/tasks/${eventId}/sign`, { clientId: signId })).json()).toMatchObject({ status: 'handling', duplicate: true });
    await step('arrive', { position: centerOf(me), accuracy: 9 }, 'handling');
    await until(() => console_.all<TimelineRecord>('timeline').some((r) => r.eventId === eventId && r.action === 'arrive' && r.accuracy === 9 && Math.abs(r.position![0] - centerOf(me)[0]) < 1e-6), 'the console sees the arrival', 2000);
    const photo = await upload(20);
    await step('feedback', { note: '已更换灯泡', attachments: [photo.id] }, 'handled');
    const feedback = console_.all<TimelineRecord>('timeline').find((r) => r.eventId === eventId && r.action === 'feedback')!;
    expect(feedback).toMatchObject({ actor: 'grid-li', note: '已更换灯泡' });
    expect(feedback.attachments?.map((a) => a.id)).toEqual([photo.id]);
    const done = await post(`/field/api/tasks/${eventId}/arrive`, { clientId: randomUUID(), position: centerOf(me), accuracy: 5 });
    expect(done.status).toBe(409);
    const refused = (await done.json()) as { message: string; reason?: { key: string; params: Record<string, string> } };
    expect(refused.message).toMatch(/^事件 .* 当前为「待回访」，只有处置中（已签收、未反馈）才能登记到场/);
    // The reason by key: an English page says it in English (page-apps/app-api.ts refusalOf).
    expect(refused.reason).toEqual({ key: 'field.arriveNotHandling', params: { id: eventId, status: 'handled' } });
    setApiLanguage('en');
    expect(refusalOf(409, refused, '到场').message).toBe(`cannot record arrival at event ${eventId}: it is “awaiting follow-up” (arrival is recorded while handling: signed for, no feedback yet)`);
    setApiLanguage('zh-CN');
    expect(refusalOf(409, refused, '到场').message).toBe(refused.message);
    // A reason the page does not know (a newer backend) falls back to the message's own half.
    expect(refusalOf(409, { ...refused, reason: { key: 'future.thing', params: {} } }, '到场').message).toBe(refused.message);
  });

  it("refuses another staff member's task (403), in Chinese; nothing changes, and it is not in their list", async () => {
    await backend.server.commitSystemChanges(() => [upsert('staff', { ...backend.state.get('staff', other.id)!, status: 'patrolling' })]);
    const report = await console_.command('event.report', { source: 'hotline', category, severity: 2, title: '占道经营', description: '占道', location: centerOf(other) });
    const eventId = String(report.result['eventId']);
    await console_.command('event.dispatch', { eventId, staffId: other.id });
    const res = await post(`/field/api/tasks/${eventId}/sign`, { clientId: randomUUID() });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^事件 .* 没有派给你/) });
    expect(backend.state.get('events', eventId)!.status).toBe('dispatched');
    const me_ = FieldMe.parse(await (await fetch(`${http}/field/api/me`, { headers: { Authorization: `Bearer ${session}` } })).json());
    expect(me_.tasks.some((t) => t.id === eventId)).toBe(false);
  });

  it('moves on the console map, refuses a burst (429 Retry-After), goes off duty (offline)', async () => {
    await sleep(2100);
    const [lon, lat] = centerOf(me);
    const moved = await post('/field/api/position', { lon: lon + 0.0005, lat, accuracy: 15, at: new Date().toISOString(), onDuty: true });
    expect(moved.status).toBe(200);
    await until(() => positionAt(me.id, lon + 0.0005, lat), 'the console sees the new place', 2000);
    const burst = await post('/field/api/position', { lon, lat, accuracy: 15, at: new Date().toISOString(), onDuty: true });
    expect(burst.status).toBe(429);
    expect(Number(burst.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await burst.json()) as { message: string }).message).toMatch(/位置上报过于频繁/);
    await sleep(2100);
    const off = await post('/field/api/position', { lon, lat, accuracy: 15, at: new Date().toISOString(), onDuty: false });
    expect(await off.json()).toEqual({ status: 'offline' });
    await until(() => console_.get<Staff>('staff', me.id)?.status === 'offline', 'offline at the console', 2000);
  });

  it('bad bodies are 400 naming the field; a position outside the city 400; an unknown action 404; another app 403; nothing written', async () => {
    const events = backend.state.collections.events.size;
    const cases: Array<[string, unknown, string]> = [
      ['/field/api/reports', { clientId: 'not-a-uuid', category, description: 'x', location: centerOf(me), accuracy: 5 }, 'clientId'],
      ['/field/api/reports', { clientId: randomUUID(), category, location: centerOf(me), accuracy: 5 }, 'description'],
      ['/field/api/reports', { clientId: randomUUID(), category, description: 'x', location: [500, 24], accuracy: 5 }, 'location.0'],
      ['/field/api/reports', { clientId: randomUUID(), category, description: 'x', location: centerOf(me), accuracy: 5, attachments: ['../etc'] }, 'attachments.0'],
      ['/field/api/position', { lon: 'east', lat: 24, accuracy: 5, at: new Date().toISOString(), onDuty: true }, 'lon'],
      ['/field/api/tasks/E1/feedback', { clientId: randomUUID() }, 'note'],
    ];
    for (const [path, body, field] of cases) {
      const res = await post(path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      const answer = (await res.json()) as { code: string; path: string; message: string };
      expect(answer.path).toBe(field);
      expect(answer.message).toMatch(/^请求字段/);
    }
    const notJson = await fetch(`${http}/field/api/reports`, { method: 'POST', headers: { Authorization: `Bearer ${session}` }, body: '{oops' });
    expect(notJson.status).toBe(400);
    const outside = await post('/field/api/reports', { clientId: randomUUID(), category, description: '城外', location: [0, 0], accuracy: 5 });
    expect(outside.status).toBe(400);
    expect(((await outside.json()) as { message: string }).message).toMatch(/^位置 0,0 不在本市网格内/);
    const unknown = await post('/field/api/reports', { clientId: randomUUID(), category: 'no-such', description: 'x', location: centerOf(me), accuracy: 5 });
    expect(unknown.status).toBe(400);
    await sleep(2100);
    expect((await post('/field/api/position', { lon: 0, lat: 0, accuracy: 5, at: new Date().toISOString(), onDuty: true })).status).toBe(400);
    expect((await post('/field/api/tasks/E1/fly', { clientId: randomUUID() })).status).toBe(404);
    expect((await post('/field/api/reports', { clientId: randomUUID(), category, description: 'x', location: centerOf(me), accuracy: 5 }, TEST_TOKENS.dispatcher)).status).toBe(403);
    expect((await post('/field/api/reports', {}, 'no-such-token')).status).toBe(401);
    expect(backend.state.collections.events.size).toBe(events);
  });
});
