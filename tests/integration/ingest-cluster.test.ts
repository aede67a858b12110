/**
 * The ingest API on two backend instances of one city (one real PostgreSQL, started by this file): the same report
 * (key, sourceId) sent to both instances at once makes one event, the same id in both answers; the key's webhook
 * is POSTed once when the event is closed over the wire, by the instance that leads — and the outbox row says
 * delivered.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { IngestAnswer, type Grid } from '../../protocol';
import { newApiKey } from '../../backend/auth/api-keys';
import { TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';
import { startPostgres, type RunningPostgres } from '../../harness/postgres';
import { it } from '../../harness/fixtures';

let postgres: RunningPostgres;
let receiver: Server;
const received: string[] = [];
beforeAll(async () => {
  postgres = await startPostgres();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
}, 60_000);
afterAll(async () => {
  receiver?.close();
  await postgres?.stop();
});

describe('the ingest API on two instances', () => {
  it('makes one event of a report sent to both at once, and the leading instance alone tells the webhook', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('ingest_two');
    const webhooks = { pollMs: 100, retryDelaysMs: [100], timeoutMs: 2000, allowPrivate: true };
    const a = await startBackend({ databaseUrl, webhooks }, 'a');
    const b = await startBackend({ databaseUrl, webhooks }, 'b');
    await until(() => a.leading() !== b.leading(), 'one instance leads');
    const { key, record } = newApiKey({ name: '12345 热线平台', source: 'hotline', webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, createdBy: 'test', at: new Date().toISOString() });
    await a.store.createApiKey(record);

    const grid = a.state.all('grids').next().value as Grid;
    const category = a.state.collections.rules.keys().next().value!;
    const body = JSON.stringify({ sourceId: '12345-both', category, title: '两台同时收到', description: '', location: { lon: grid.center[0], lat: grid.center[1] } });
    const post = (port: number): Promise<Response> => fetch(`http://127.0.0.1:${port}/api/v1/reports`, { method: 'POST', headers: { 'X-Api-Key': key, 'Content-Type': 'application/json' }, body });
    const answers = await Promise.all([post(a.port), post(b.port)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 201]);
    const [first, second] = await Promise.all(answers.map(async (r) => IngestAnswer.parse(await r.json())));
    expect(first!.eventId).toBe(second!.eventId);
    const eventId = first!.eventId;
    await until(() => a.state.get('events', eventId) !== undefined && b.state.get('events', eventId) !== undefined, 'the event on both instances');
    for (const instance of [a, b]) expect([...instance.state.collections.events.values()].filter((e) => e.title === '两台同时收到')).toHaveLength(1);

    const d = new WireClient({ url: (a.leading() ? b : a).url, token: TEST_TOKENS.dispatcher });
    await d.waitSynced();
    const department = a.state.collections.departments.keys().next().value!;
    for (const [type, payload] of [
      ['event.accept', {}],
      ['event.dispatch', { departmentId: department }],
      ['event.sign', {}],
      ['event.feedback', { note: '已处理' }],
      ['event.followup', { note: '回访', reached: true }],
      ['event.close', { satisfaction: 'basic', comment: '基本满意' }],
    ] as const) {
      await d.command(type, { eventId, ...payload });
    }
    d.close();
    await until(() => received.length > 0, 'the webhook');
    await new Promise((r) => setTimeout(r, 600)); // a few more rounds of both instances: no second POST
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!)).toMatchObject({ eventId, sourceId: '12345-both', satisfaction: 'basic', result: '已处理' });
    const [delivered] = await a.store.webhooksIn('delivered', 10);
    expect(delivered).toMatchObject({ eventId, attempts: 1, deliveredAt: expect.any(String) });
  });
});
