/**
 * The ingest API (接入 API) on one real backend (SQLite file, real HTTP and WebSocket): a key per source type reports
 * and the event reaches a console's WireClient with the right source; a replayed sourceId is the same event; wrong,
 * revoked and over-rate keys; bad bodies (400 with the path, 413, 415, 422); an address placed by a place, one not
 * placed (flagged 位置待核实); an attachment uploaded with the key and named in the report; the OpenAPI document
 * (valid OpenAPI 3.1, listing every route served); the webhook after the event is closed over the wire (signature
 * checked), one merged into another (status merged), a report's own callbackUrl (and its refusals), the outbox
 * pruned 30 days after a delivery ended (the webhooks' clock moved), and a failing receiver retried, then given
 * up and audited; a photo another key uploaded first; a video-AI report's camera.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import SwaggerParser from '@apidevtools/swagger-parser';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsert } from '../../domain';
import { AttachmentRef, CreatedApiKey, IngestAnswer, IngestWebhook, type ApiKeySource, type GovEvent, type Grid, type Place } from '../../protocol';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { webhookSignature } from '../../backend/ingest/webhooks';
import { API_V1_ROUTES } from '../../backend/ingest/openapi';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { until, WireClient } from '../../harness/wire-client';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let console_: WireClient;
let http: string;
let grid: Grid;
let category: string;
let receiver: Server;
const received: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = [];
/** The webhooks' clock, moved by the pruning test (days ahead of the real one). */
let clockAhead = 0;
let failing = 0;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      if (req.url === '/fail') return void res.writeHead(500).end(String(++failing));
      received.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  backend = await startTestBackend({ webhooks: { pollMs: 100, retryDelaysMs: [100, 100], timeoutMs: 2000, allowPrivate: true, keepDays: 30, now: () => Date.now() + clockAhead } });
  http = `http://127.0.0.1:${backend.port}`;
  grid = [...backend.state.collections.grids.values()][3]!;
  category = [...backend.state.collections.rules.keys()][0]!;
  const place: Place = { id: 'place-test-1', code: 'P-TEST-1', name: '青石街第一小学', kind: 'school', address: '青石街 88 号', position: grid.center, gridId: grid.id, communityId: grid.communityId, streetId: grid.streetId, districtId: grid.districtId, contact: null, note: '' };
  await backend.server.commitSystemChanges(() => [upsert('places', place)]);
  console_ = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
  await console_.waitSynced();
}, 60_000);
afterAll(async () => {
  console_?.ws.close();
  await backend?.close();
  backend?.cleanup();
  receiver?.close();
});

const createKey = async (source: ApiKeySource, extra: Record<string, unknown> = {}): Promise<CreatedApiKey> => {
  const res = await fetch(`${http}/admin/api-keys`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: `${source} 平台`, source, ...extra }) });
  expect(res.status, await res.clone().text()).toBe(201);
  return CreatedApiKey.parse(await res.json());
};
const report = (key: string, body: unknown, type = 'application/json'): Promise<Response> =>
  fetch(`${http}/api/v1/reports`, { method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const base = (sourceId: string): Record<string, unknown> => ({ sourceId, category, title: '井盖缺失', description: '人行道井盖缺失', location: { lon: grid.center[0], lat: grid.center[1] } });
const eventAt = async (id: string): Promise<GovEvent> => {
  await until(() => console_.collections.get('events')!.has(id), `event ${id} at the console`);
  return console_.collections.get('events')!.get(id) as GovEvent;
};

describe('POST /api/v1/reports', () => {
  it('takes a report from each source type; the console gets it with the right source', async () => {
    const expected: Record<ApiKeySource, GovEvent['source']> = { hotline: 'hotline', 'video-ai': 'video-ai', sensor: 'sensor', 'citizen-app': 'citizen-app', 'linkage-110': 'hotline', 'city-management': 'grid-app' };
    for (const [source, eventSource] of Object.entries(expected) as Array<[ApiKeySource, GovEvent['source']]>) {
      const { key, apiKey } = await createKey(source);
      const res = await report(key, base(`${source}-1`));
      expect(res.status, await res.clone().text()).toBe(201);
      const answer = IngestAnswer.parse(await res.json());
      expect(answer).toMatchObject({ duplicate: false, locationResolved: true });
      const event = await eventAt(answer.eventId);
      expect(event).toMatchObject({ source: eventSource, gridId: grid.id, title: '井盖缺失', status: 'new' });
      expect(event.locationUnresolved).toBeUndefined();
      expect(event.actors).toContain(`api:${apiKey.id}`);
    }
  });

  it('is idempotent by sourceId: a replay (even with another body) is the same event', async () => {
    const { key } = await createKey('hotline');
    const first = IngestAnswer.parse(await (await report(key, base('12345-0001'))).json());
    const events = backend.state.collections.events.size;
    const again = await report(key, { ...base('12345-0001'), title: '另一个标题' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ eventId: first.eventId, duplicate: true, locationResolved: true });
    expect(backend.state.collections.events.size).toBe(events);
    expect(backend.state.get('events', first.eventId)!.title).toBe('井盖缺失');
    // Another key with the same sourceId is another report.
    const other = await createKey('hotline');
    expect((await report(other.key, base('12345-0001'))).status).toBe(201);
  });

  it('refuses a wrong key (401), a revoked one (403) and one over its rate (429 with Retry-After)', async () => {
    expect((await report('zk_AAAAAAAA_' + 'A'.repeat(43), base('x'))).status).toBe(401);
    expect((await report(TEST_TOKENS.dispatcher, base('x'))).status).toBe(401);
    const { key, apiKey } = await createKey('sensor', { ratePerMinute: 2 });
    expect((await report(key, base('r-1'))).status).toBe(201);
    expect((await report(key, base('r-2'))).status).toBe(201);
    const over = await report(key, base('r-3'));
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await over.json()).toMatchObject({ code: 'rate-limited', message: expect.stringContaining('请求过于频繁') });
    await fetch(`${http}/admin/api-keys/${apiKey.id}/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.admin}` } });
    const revoked = await report(key, base('r-4'));
    expect(revoked.status).toBe(403);
    expect(await revoked.json()).toMatchObject({ code: 'revoked' });
  });

  it('answers bad bodies with the field path and a Chinese message; nothing is made', async () => {
    const { key } = await createKey('hotline');
    const events = backend.state.collections.events.size;
    const cases: Array<[unknown, number, string]> = [
      [{ ...base('b-1'), title: undefined }, 400, 'title'],
      [{ ...base('b-2'), severity: 'high' }, 400, 'severity'],
      [{ ...base('b-3'), location: { lon: 'x', lat: 30 } }, 400, 'location.lon'],
      [{ ...base('b-4'), location: undefined }, 400, 'location'],
      [{ ...base('b-5'), sourceId: '' }, 400, 'sourceId'],
      [{ ...base('b-6'), sourceId: 'x'.repeat(129) }, 400, 'sourceId'],
      [{ ...base('b-7'), callbackUrl: 'https://x' }, 400, 'callbackUrl'],
      [{ ...base('b-8'), category: 'no-such-category' }, 400, 'category'],
      [{ ...base('b-9'), attachments: ['0'.repeat(64)] }, 400, 'attachments.0'],
      [{ ...base('b-10'), location: { lon: 0, lat: 0 } }, 422, 'location'],
    ];
    for (const [body, status, path] of cases) {
      const res = await report(key, body);
      const answer = (await res.json()) as { code: string; message: string; path: string };
      expect([res.status, answer.path], JSON.stringify(answer)).toEqual([status, path]);
      expect(answer.message).toMatch(/[\u4e00-\u9fff]/);
    }
    expect((await report(key, '{not json')).status).toBe(400);
    expect((await report(key, base('b-11'), 'text/plain')).status).toBe(415);
    const big = await report(key, { ...base('b-12'), description: 'x'.repeat(70 * 1024) });
    expect(big.status).toBe(413);
    expect(backend.state.collections.events.size).toBe(events);
  });

  it('places an address by the city’s places; one it cannot place stands at the centre, flagged', async () => {
    const { key } = await createKey('hotline');
    const placed = IngestAnswer.parse(await (await report(key, { ...base('a-1'), location: undefined, address: '青石街８８号 东门' })).json());
    expect(placed.locationResolved).toBe(true);
    expect((await eventAt(placed.eventId)).location).toEqual(grid.center);
    const lost = await report(key, { ...base('a-2'), location: undefined, address: '火星基地 1 号' });
    expect(lost.status).toBe(201);
    const answer = IngestAnswer.parse(await lost.json());
    expect(answer.locationResolved).toBe(false);
    expect(await eventAt(answer.eventId)).toMatchObject({ locationUnresolved: true, address: '火星基地 1 号' });
    expect(await (await report(key, { ...base('a-2'), location: undefined, address: '火星基地 1 号' })).json()).toMatchObject({ duplicate: true, locationResolved: false });
  });

  it('lets the desk place an event flagged 位置待核实 over the wire (核实位置): a place of the city, the grid resolved, the flag gone', async () => {
    const { key } = await createKey('hotline');
    const { eventId } = IngestAnswer.parse(await (await report(key, { ...base('l-1'), location: undefined, address: '无名小区后门' })).json());
    expect((await eventAt(eventId)).locationUnresolved).toBe(true);
    const d = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await d.waitSynced();
    // Refused first, nothing changed: a point outside the city, an unknown place.
    await expect(d.command('event.locate', { eventId, location: [0, 0] })).rejects.toMatchObject({ wire: { code: 'invalid', message: expect.stringContaining('不在本市网格内') } });
    await expect(d.command('event.locate', { eventId, placeId: 'place-nowhere' })).rejects.toMatchObject({ wire: { code: 'invalid', message: expect.stringContaining('没有这个地点') } });
    expect(backend.state.get('events', eventId)!.locationUnresolved).toBe(true);
    const ack = await d.command('event.locate', { eventId, placeId: 'place-test-1' });
    expect(ack.result).toMatchObject({ eventId, gridId: grid.id });
    await until(() => (console_.collections.get('events')!.get(eventId) as GovEvent).gridId === grid.id, 'the placed event at the console');
    const placed = console_.collections.get('events')!.get(eventId) as GovEvent;
    expect(placed).toMatchObject({ location: grid.center, districtId: grid.districtId, address: '青石街第一小学（青石街 88 号）' });
    expect(placed.locationUnresolved).toBeUndefined();
    await expect(d.command('event.locate', { eventId, location: grid.center })).rejects.toMatchObject({ wire: { code: 'conflict' } });
    d.ws.close();
  });

  it('takes an attachment uploaded with the key and named in the report', async () => {
    const { key, apiKey } = await createKey('video-ai');
    const form = new FormData();
    const jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 10, g: 200, b: 10 } } }).jpeg().toBuffer();
    form.append('file', new Blob([new Uint8Array(jpeg)]), '抓拍.jpg');
    const up = await fetch(`${http}/attachments`, { method: 'POST', body: form, headers: { 'X-Api-Key': key } });
    expect(up.status, await up.clone().text()).toBe(201);
    const ref = AttachmentRef.parse(await up.json());
    expect((await backend.store.findAttachments([ref.id]))[0]!.createdBy).toBe(`api:${apiKey.id}`);
    expect((await fetch(`${http}/attachments/${ref.id}`, { headers: { 'X-Api-Key': key } })).status).toBe(403);
    const answer = IngestAnswer.parse(await (await report(key, { ...base('v-1'), attachments: [ref.id] })).json());
    expect((await eventAt(answer.eventId)).attachments?.map((a) => a.id)).toEqual([ref.id]);
    // Another key cannot name it.
    const other = await createKey('video-ai');
    expect((await report(other.key, { ...base('v-2'), attachments: [ref.id] })).status).toBe(400);
  });

  it('takes a photo another key uploaded first once this key has uploaded the same bytes too (the first uploader kept)', async () => {
    const first = await createKey('video-ai');
    const second = await createKey('citizen-app');
    const jpeg = await sharp({ create: { width: 30, height: 20, channels: 3, background: { r: 200, g: 20, b: 90 } } }).jpeg().toBuffer();
    const upload = async (key: string): Promise<Response> => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(jpeg)]), '同一张.jpg');
      return fetch(`${http}/attachments`, { method: 'POST', body: form, headers: { 'X-Api-Key': key } });
    };
    const a = await upload(first.key);
    expect(a.status).toBe(201);
    const { id } = AttachmentRef.parse(await a.json());
    // Not uploaded with the second key yet: refused, nothing made.
    const refused = await report(second.key, { ...base('r-0'), attachments: [id] });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ path: 'attachments.0' });
    const b = await upload(second.key);
    expect(b.status).toBe(200);
    expect(AttachmentRef.parse(await b.json()).id).toBe(id);
    const answer = IngestAnswer.parse(await (await report(second.key, { ...base('r-1'), attachments: [id] })).json());
    expect((await eventAt(answer.eventId)).attachments?.map((x) => x.id)).toEqual([id]);
    expect((await backend.store.findAttachments([id]))[0]!.createdBy).toBe(`api:${first.apiKey.id}`);
  });

  it('keeps a video-AI report’s camera on the event; an unknown camera is 400 with the path, nothing made', async () => {
    const { key } = await createKey('video-ai');
    const camera = [...backend.state.collections.cameras.values()][0]!;
    const answer = IngestAnswer.parse(await (await report(key, { ...base('c-1'), cameraId: camera.id })).json());
    expect((await eventAt(answer.eventId)).cameraId).toBe(camera.id);
    const events = backend.state.collections.events.size;
    const bad = await report(key, { ...base('c-2'), cameraId: 'cam-nowhere' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'invalid', path: 'cameraId', message: expect.stringContaining('没有这个摄像头') });
    expect(backend.state.collections.events.size).toBe(events);
  });
});

describe('GET /api/v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document listing every route the server answers', async () => {
    const res = await fetch(`${http}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(Object.fromEntries(Object.entries(doc.paths).map(([p, ops]) => [p, Object.keys(ops)]))).toEqual(API_V1_ROUTES);
    const { key } = await createKey('hotline');
    for (const [path, methods] of Object.entries(API_V1_ROUTES)) {
      const r = await fetch(`${http}${path}`, { method: methods[0]!.toUpperCase(), headers: { 'X-Api-Key': key, 'Content-Type': 'application/json' }, ...(methods[0] === 'post' ? { body: '{}' } : {}) });
      expect(r.status, path).not.toBe(404);
    }
    expect((await fetch(`${http}/api/v1/nothing`, { headers: { 'X-Api-Key': key } })).status).toBe(404);
  });
});

describe('the webhook when the event closes', () => {
  const closeOverWire = async (eventId: string): Promise<void> => {
    const d = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await d.waitSynced();
    const department = [...backend.state.collections.departments.keys()][0]!;
    await d.command('event.accept', { eventId });
    await d.command('event.dispatch', { eventId, departmentId: department });
    await d.command('event.sign', { eventId });
    await d.command('event.feedback', { eventId, note: '已补装井盖' });
    await d.command('event.followup', { eventId, note: '回访市民', reached: true });
    await d.command('event.close', { eventId, satisfaction: 'satisfied', comment: '市民满意' });
    d.ws.close();
  };

  it('POSTs the closing, signed, to the key’s webhook', async () => {
    const { key, apiKey, webhookSecret } = await createKey('hotline', { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` });
    expect(apiKey.webhookUrl).toMatch(/\/hook$/);
    expect(webhookSecret).toMatch(/^whsec_/);
    const { eventId } = IngestAnswer.parse(await (await report(key, base('w-1'))).json());
    await closeOverWire(eventId);
    await until(() => received.length > 0, 'the webhook');
    const { headers, body } = received[0]!;
    const ts = Number(headers['x-zongzhi-timestamp']);
    expect(headers['x-zongzhi-signature']).toBe(webhookSignature(webhookSecret!, ts, body));
    expect(IngestWebhook.parse(JSON.parse(body))).toMatchObject({ eventId, sourceId: 'w-1', status: 'closed', satisfaction: 'satisfied', result: '已补装井盖', comment: '市民满意' });
    await until(() => false, 'settle', 300).catch(() => undefined);
    expect(received).toHaveLength(1);
  });

  it('tells the source when its event is merged into another (status merged, the event it went into), signed, once', async () => {
    const { key, webhookSecret } = await createKey('hotline', { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/merged` });
    const { eventId } = IngestAnswer.parse(await (await report(key, base('m-1'))).json());
    const { eventId: intoEventId } = IngestAnswer.parse(await (await report(key, base('m-2'))).json());
    const d = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await d.waitSynced();
    await d.command('event.merge', { eventId, intoEventId });
    d.ws.close();
    await until(() => received.some((r) => r.url === '/merged'), 'the merged webhook');
    const hooks = received.filter((r) => r.url === '/merged');
    const { headers, body } = hooks[0]!;
    expect(headers['x-zongzhi-signature']).toBe(webhookSignature(webhookSecret!, Number(headers['x-zongzhi-timestamp']), body));
    const told = IngestWebhook.parse(JSON.parse(body));
    expect(told).toMatchObject({ eventId, sourceId: 'm-1', status: 'merged', intoEventId });
    expect(Date.parse((told as { mergedAt: string }).mergedAt)).toBeGreaterThan(Date.now() - 60_000);
    await until(() => false, 'settle', 300).catch(() => undefined);
    expect(received.filter((r) => r.url === '/merged')).toHaveLength(1); // the event it went into is still open
  });

  it('sends a report’s own callbackUrl there (not to the key’s webhook), signed with the key’s secret', async () => {
    const port = (receiver.address() as AddressInfo).port;
    const { key, webhookSecret } = await createKey('hotline', { webhookUrl: `http://127.0.0.1:${port}/key-hook` });
    const { eventId } = IngestAnswer.parse(await (await report(key, { ...base('cb-1'), callbackUrl: `http://127.0.0.1:${port}/per-report?case=000123` })).json());
    await closeOverWire(eventId);
    await until(() => received.some((r) => r.url === '/per-report?case=000123'), 'the per-report callback');
    const { headers, body } = received.find((r) => r.url === '/per-report?case=000123')!;
    expect(headers['x-zongzhi-signature']).toBe(webhookSignature(webhookSecret!, Number(headers['x-zongzhi-timestamp']), body));
    expect(JSON.parse(body)).toMatchObject({ eventId, sourceId: 'cb-1', status: 'closed' });
    expect(received.some((r) => r.url === '/key-hook')).toBe(false);
  });

  it('refuses a callbackUrl from a key with no webhook secret, or not http(s), with the path; nothing made', async () => {
    const plain = await createKey('hotline');
    const events = backend.state.collections.events.size;
    const noSecret = await report(plain.key, { ...base('cb-2'), callbackUrl: 'https://12345.example/cb' });
    expect(noSecret.status).toBe(400);
    expect(await noSecret.json()).toMatchObject({ code: 'invalid', path: 'callbackUrl', message: expect.stringContaining('没有 webhook 签名密钥') });
    const hooked = await createKey('hotline', { webhookUrl: 'https://12345.example/hook' });
    for (const callbackUrl of ['ftp://12345.example/cb', 'https://u:p@12345.example/cb', 'not a url']) {
      const bad = await report(hooked.key, { ...base('cb-3'), callbackUrl });
      expect(bad.status, callbackUrl).toBe(400);
      expect(await bad.json()).toMatchObject({ path: 'callbackUrl' });
    }
    expect(backend.state.collections.events.size).toBe(events);
    expect((await backend.store.webhooksIn('waiting', 10_000)).some((d) => d.keyId === plain.apiKey.id || d.keyId === hooked.apiKey.id)).toBe(false);
  });

  it('prunes delivered and given-up deliveries 30 days after they ended (the webhooks’ clock moved, no waiting)', async () => {
    const ended = async (): Promise<number> => (await backend.store.webhooksIn('delivered', 10_000)).length + (await backend.store.webhooksIn('failed', 10_000)).length;
    expect(await ended()).toBeGreaterThan(0);
    const waitingBefore = (await backend.store.webhooksIn('waiting', 10_000)).length;
    expect(waitingBefore).toBeGreaterThan(0);
    clockAhead = 29 * 86_400_000 + 3_600_000; // an hour after the last prune, but younger than 30 days: kept
    const before = await ended();
    await until(() => false, 'a few rounds', 400).catch(() => undefined);
    expect(await ended()).toBe(before);
    clockAhead = 31 * 86_400_000 + 2 * 3_600_000;
    for (const started = Date.now(); (await ended()) > 0; ) {
      if (Date.now() - started > 5000) throw new Error('not pruned');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await backend.store.webhooksIn('waiting', 10_000)).length).toBe(waitingBefore);
    clockAhead = 0;
  });

  it('refuses a key whose webhook is not an http(s) URL (400 naming the field), nothing made', async () => {
    const before = (await backend.store.listApiKeys()).length;
    for (const webhookUrl of ['ftp://12345.example/hook', 'not a url', 'https://user:pw@12345.example/hook']) {
      const res = await fetch(`${http}/admin/api-keys`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: '坏回调', source: 'hotline', webhookUrl }) });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'invalid', path: 'webhookUrl', message: expect.stringContaining('http(s)') });
    }
    expect((await backend.store.listApiKeys()).length).toBe(before);
  });

  it('retries a failing receiver, then gives up and audits it', async () => {
    const { key, apiKey } = await createKey('hotline', { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/fail` });
    const { eventId } = IngestAnswer.parse(await (await report(key, base('w-2'))).json());
    await closeOverWire(eventId);
    await until(() => (backend.store as SqliteStore).auditLog(1000).some((e) => e.kind === 'webhook-failed' && (e.detail as { eventId?: string }).eventId === eventId), 'given up', 10_000);
    expect(failing).toBe(3);
    const [failed] = await backend.store.webhooksIn('failed', 10);
    expect(failed).toMatchObject({ keyId: apiKey.id, eventId, attempts: 3, lastError: 'HTTP 500', deliveredAt: null });
  });
});
