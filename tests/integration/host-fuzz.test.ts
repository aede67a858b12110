/**
 * Fuzzing the browser host, the real process (issue 15: no input may stop a process). Property-based runs over
 * HTTP request targets and methods (raw TCP), WebSocket upgrade targets and headers, and Hub API frames, plus
 * the outside fuzzing run's findings as named regression tests (a `//` upgrade target ended the host; 200
 * subscriptions to the events collection took it to 3.2 GiB). After each: the process answers GET /healthz, a
 * well-behaved page connected alongside still gets its hello answered and its subscription's updates, and at
 * the end the host's RSS is back near where it started. Prints the figures (cases, outcomes, RSS).
 */
import { afterAll, describe, expect } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { HUB_METHOD_LIST, HUB_WS_MAX_FRAME_BYTES, createHubClient, type HubApi } from '../../protocol';
import { connectWsTransport } from '../../renderer/src/transports/ws-transport';
import { startHostChild, type HostChild } from '../../harness/host-process';
import { rawRequest, requestText } from '../../harness/raw-http';
import { seedHubCache } from '../../harness/seeded-cache';
import { waitFor } from '../../harness/temp';
import { it } from '../../harness/fixtures';

const EVENTS = 1500; // two pages of a result: paging is exercised, and 128 results stay quick to send
let host: HostChild;
let good: { api: HubApi; outbox: Set<string>; events: number; submit(): Promise<void> };
let sample: ReturnType<typeof seedHubCache>['sample'];
const rss = { baseline: 0, peak: 0, after: 0 };
const outcomes = new Map<string, number>();
const count = (key: string): void => void outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
let sampler: NodeJS.Timeout;

// The host's data in the file's temp dir (the `fileDir` fixture, removed after the file). The host stays explicit:
// the report below asks it for its refusal counts before it is stopped.
it.beforeAll(async ({ fileDir }) => {
  const seeded = seedHubCache(join(fileDir, 'data'), EVENTS);
  sample = seeded.sample;
  host = await startHostChild(join(fileDir, 'data'));
  const api = createHubClient(await connectWsTransport({ origin: host.origin, token: host.token }), 'websocket');
  const outbox = new Set<string>();
  let events = 0;
  await api.subscribeRows({ topic: 'collection', collection: 'events' }, (rows) => (events = rows.size));
  await api.subscribeRows({ topic: 'outbox' }, (rows) => rows.forEach((_row, id) => outbox.add(id)));
  let n = 0;
  const submit = async (): Promise<void> => {
    const commandId = `good-${++n}-${Date.now()}`;
    const payload = { source: 'hotline' as const, category: sample.category, severity: 2, title: '巡查', description: '', location: sample.location };
    await api.submitCommand({ commandId, type: 'event.report', payload });
    await waitFor(() => outbox.has(commandId), `the good page's outbox update for ${commandId}`, 10_000);
  };
  good = { api, outbox, submit, get events() { return events; } }; // prettier-ignore
  await new Promise((r) => setTimeout(r, 1000));
  rss.baseline = rss.peak = host.rssMb();
  sampler = setInterval(() => (rss.peak = Math.max(rss.peak, host.rssMb())), 100);
}, 60_000);

afterAll(async () => {
  clearInterval(sampler);
  const health = host?.alive() ? await host.health().catch(() => null) : null;
  console.log(
    [
      `host fuzz: ${[...outcomes.values()].reduce((a, b) => a + b, 0)} cases`,
      `  outcomes: ${[...outcomes].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `  host's own refusal counts: ${JSON.stringify(health?.refused ?? {})}`,
      `  host RSS: baseline ${rss.baseline.toFixed(0)} MiB, peak ${rss.peak.toFixed(0)} MiB, after ${rss.after.toFixed(0)} MiB`,
    ].join('\n'),
  );
  good?.api.close();
  await host?.stop();
});

/** The process answers, and the well-behaved page still gets answers and updates. */
async function stillServing(): Promise<void> {
  expect(host.alive()).toBe(true);
  expect((await host.health()).ok).toBe(true);
  await expect(good.api.hello()).resolves.toMatchObject({ apiVersion: 1 });
  await good.submit();
  expect(good.events).toBeGreaterThanOrEqual(EVENTS);
}

const upgradeHeaders = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };

/** Request targets a fuzzer would try: path tricks, bad percent-encoding, huge, and raw bytes. */
const targets = (token: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom('//', '%zz', '/%zz', '/%', '/%E0%A4%A', '/../..', '/..%2f..%2fsecret', '/%2e%2e/%2e%2e/etc/passwd', '/\\..\\x', '*', 'http://127.0.0.1/', 'http://evil.example/x', '/%00', '/healthz?x=%zz', '//hub', '/hub/../hub', '/assets/app.js', '/'),
    fc.constantFrom(`/hub?token=${token}`, `/hub?token=${token}&role=%zz`, `/hub?token=${token}&role=kitchen`, `//hub?token=${token}`, `/hub?token=%zz`, `/hub?token=${token}%00`, `/hub?token=${token}&token=x`),
    fc.array(fc.oneof(fc.constantFrom('/', '..', '.', '%', '%2f', '%zz', '%00', '%C0%AF', '?', '#', '\\', ';', '~', '@', ':'), fc.string({ maxLength: 6 })), { maxLength: 12 }).map((parts) => '/' + parts.join('')),
    fc.integer({ min: 1000, max: 20_000 }).map((n) => '/' + 'a'.repeat(n)),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );

describe('HTTP requests: any target and method is answered, never fatal', () => {
  it('property: raw requests', async () => {
    const methods = fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'CONNECT', 'PRI', 'get', 'BREW'), fc.string({ maxLength: 8 }));
    await fc.assert(
      fc.asyncProperty(methods, targets(host.token), fc.boolean(), async (method, target, reset) => {
        const answer = await rawRequest(host.port, requestText(method, target), { reset: reset && target.length % 4 === 0, timeoutMs: 2000 });
        count(`http ${answer.status ?? answer.ended}`);
        // Only a target with a line break in it can leave the host waiting for more of a request (a body).
        if (!/[\r\n]/.test(target + method)) expect(answer.ended).not.toBe('timeout');
        expect(answer.status).not.toBe(500);
      }),
      { numRuns: 150, interruptAfterTimeLimit: 15_000 },
    );
    await stillServing();
  });

  it('regression: a `//` target, bad percent-encoding and an unparsable target get 400', async () => {
    for (const target of ['//', '/%zz', '%zz', '*']) {
      expect((await rawRequest(host.port, requestText('GET', target))).status).toBe(400);
    }
    await stillServing();
  });
});

describe('WebSocket upgrades: any target and headers are refused or accepted, never fatal', () => {
  it('regression: an upgrade to `//` (it ended the host: new URL threw in the upgrade handler)', async () => {
    expect((await rawRequest(host.port, requestText('GET', '//', upgradeHeaders))).status).toBe(404);
    expect((await rawRequest(host.port, requestText('GET', `//?token=${host.token}`, upgradeHeaders))).status).toBe(404);
    await stillServing();
  });

  it('regression: refused upgrades whose client resets the connection (an unheard socket error ended the host)', async () => {
    for (let i = 0; i < 100; i++) await rawRequest(host.port, requestText('GET', '/hub?token=wrong', upgradeHeaders), { reset: true });
    await stillServing();
  });

  it('property: raw upgrades', async () => {
    const headers = fc.record(
      {
        Upgrade: fc.constantFrom('websocket', 'WebSocket', 'h2c', '', 'websocket, h2c', 'x'.repeat(100)),
        Connection: fc.constantFrom('Upgrade', 'upgrade, keep-alive', 'close', 'Upgrade, close'),
        'Sec-WebSocket-Key': fc.oneof(fc.constant('dGhlIHNhbXBsZSBub25jZQ=='), fc.string({ maxLength: 30 })),
        'Sec-WebSocket-Version': fc.constantFrom('13', '8', '99', '', 'abc'),
        Origin: fc.constantFrom(host.origin, 'http://evil.example', 'null', '', '%zz'),
        'Sec-WebSocket-Extensions': fc.constantFrom('permessage-deflate', 'permessage-deflate; client_max_window_bits=99', 'x;;;'),
        'Sec-WebSocket-Protocol': fc.constantFrom('a,b', ',,,', 'x'.repeat(300)),
      },
      { requiredKeys: ['Upgrade', 'Connection'] },
    );
    await fc.assert(
      fc.asyncProperty(targets(host.token), headers, fc.boolean(), async (target, extra, reset) => {
        const answer = await rawRequest(host.port, requestText('GET', target, extra), { reset: reset && target.length % 3 === 0, timeoutMs: 2000 });
        count(`upgrade ${answer.status ?? answer.ended}`);
        expect(answer.ended).not.toBe('timeout');
        expect(answer.status).not.toBe(500);
      }),
      { numRuns: 150, interruptAfterTimeLimit: 15_000 },
    );
    await stillServing();
  });
});

/** A page's raw socket: sends text, waits for the reply with `id` or for the close. */
async function openPage(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/hub?token=${host.token}`, { maxPayload: 64 * 2 ** 20 });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return ws;
}

function answer(ws: WebSocket, text: string, id: number | null, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const done = (outcome: string): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(outcome);
    };
    const onMessage = (data: Buffer): void => {
      if (id === null || data[2] !== 0x69) return; // replies start with {"id": — updates are skipped unparsed
      const reply = JSON.parse(data.toString()) as { id: number; reply: { ok: boolean; error?: { code: string } } };
      if (reply.id === id) done(reply.reply.ok ? 'reply ok' : `reply ${reply.reply.error!.code}`);
    };
    const onClose = (code: number): void => done(`close ${code}`);
    const timer = setTimeout(() => done('no answer'), timeoutMs);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.send(text);
  });
}

describe('Hub API frames: any frame gets a reply or a close with a reason, never fatal', () => {
  it('property: arbitrary JSON, requests with any method and params, valid methods with garbage params', async () => {
    const methods = fc.oneof(fc.constantFrom(...HUB_METHOD_LIST), fc.string({ maxLength: 70 }));
    const anyOf = <T>(...values: T[]): fc.Arbitrary<T | string> => fc.oneof(fc.constantFrom(...values), fc.string({ maxLength: 12 }));
    // Valid methods with params that are nearly right: right keys, wrong or odd values.
    const nearlyValid = fc.oneof(
      fc.record({ method: fc.constant('subscribe'), params: fc.record({ query: fc.record({ topic: anyOf('collection', 'positions', 'outbox', 'connection', 'calls'), collection: anyOf('events', 'staff', 'rules', 'grids'), filter: fc.dictionary(anyOf('ids', 'statuses', 'openOnly', 'categories'), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: ['topic'] }) }) }),
      fc.record({ method: fc.constant('submitCommand'), params: fc.record({ commandId: fc.string({ maxLength: 80 }), type: anyOf('event.report', 'event.accept', 'event.dispatch', 'level.set'), payload: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })) }) }),
      fc.record({ method: fc.constant('updateSettings'), params: fc.record({ locale: anyOf('zh-CN', 'en-US'), theme: anyOf('day', 'night'), map: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }) }),
      fc.record({ method: fc.constantFrom('unsubscribe', 'retryCommand', 'discardCommand', 'getCityLayer', 'showOnWall', 'logCall', 'hello'), params: fc.dictionary(anyOf('subscriptionId', 'commandId', 'layer', 'wall', 'id'), fc.jsonValue({ maxDepth: 2 })) }),
    );
    const frame = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.nat(), nearlyValid).map(([id, call]) => ({ id, ...call })) },
      { weight: 3, arbitrary: fc.record({ id: fc.nat(), method: methods, params: fc.jsonValue({ maxDepth: 4 }) }) },
      { weight: 2, arbitrary: fc.record({ id: fc.oneof(fc.nat(), fc.double(), fc.string()), method: fc.jsonValue({ maxDepth: 1 }), params: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 5 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ raw: text })) },
    );
    let ws = await openPage();
    await fc.assert(
      fc.asyncProperty(frame, async (value) => {
        if (ws.readyState !== ws.OPEN) ws = await openPage();
        const isRaw = typeof value === 'object' && value !== null && !Array.isArray(value) && 'raw' in value && Object.keys(value).length === 1;
        const text = isRaw ? String((value as { raw: string }).raw) : JSON.stringify(value);
        const candidate = value as { id?: unknown };
        const id = typeof candidate === 'object' && candidate !== null && Number.isInteger(candidate.id) && (candidate.id as number) >= 0 ? (candidate.id as number) : null;
        const outcome = await answer(ws, text, id, id === null ? 1000 : 5000);
        count(`frame ${outcome}`);
        expect(outcome).not.toBe('close 1011');
        if (id !== null && outcome === 'no answer') throw new Error(`no reply to ${text.slice(0, 200)}`);
      }),
      { numRuns: 400, interruptAfterTimeLimit: 20_000 },
    );
    ws.terminate();
    await stillServing();
  });

  it('deep nesting (100,000 levels), huge strings and oversized frames', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const big = 'x'.repeat(250_000);
    const report = { source: 'hotline', category: sample.category, severity: 2, title: '巡查', description: '', location: sample.location };
    const cases: Array<[string, number | null]> = [
      [deep, null],
      [`{"id":1,"method":"subscribe","params":{"query":${deep}}}`, 1],
      [`{"id":2,"method":"submitCommand","params":{"commandId":"deep-1","type":"event.report","payload":${JSON.stringify(report).slice(0, -1)},"x":${deep}}}}`, 2],
      [`{"id":3,"method":"updateSettings","params":{"map":${deep}}}`, 3],
      [`{"id":4,"method":"logCall","params":${deep}}`, 4],
      [JSON.stringify({ id: 5, method: 'hello', params: { big } }), 5],
      [JSON.stringify({ id: 6, method: 'submitCommand', params: { commandId: 'big-1', type: 'event.report', payload: { title: big } } }), 6],
      [JSON.stringify({ id: 7, method: big.slice(0, 60_000), params: {} }), null],
      [JSON.stringify({ id: 8, method: 'hello', params: { big: big + big } }), null], // over the frame limit
    ];
    for (const [text, id] of cases) {
      const ws = await openPage();
      const outcome = await answer(ws, text, id, 5000);
      count(`named ${outcome}`);
      if (id === null) expect(outcome, text.slice(0, 60)).toBe(text.length > HUB_WS_MAX_FRAME_BYTES ? 'close 1009' : 'close 4400');
      else expect(outcome, text.slice(0, 60)).toMatch(/^reply (ok|invalid-params|unknown-method)$/);
      ws.terminate();
    }
    await stillServing();
  });

  it('thousands of subscribe calls from one page: 128 held, the rest refused, every call answered', async () => {
    const ws = await openPage();
    const replies: string[] = [];
    ws.on('message', (data: Buffer) => {
      if (data[2] === 0x69) replies.push((JSON.parse(data.toString()) as { reply: { ok: boolean; error?: { code: string } } }).reply.error?.code ?? 'ok');
    });
    for (let id = 0; id < 3000; id++) ws.send(JSON.stringify({ id, method: 'subscribe', params: { query: { topic: 'collection', collection: 'rules' } } }));
    await waitFor(() => replies.length === 3000, '3,000 replies', 20_000);
    expect(replies.filter((r) => r === 'ok').length).toBe(128);
    expect(replies.filter((r) => r === 'unavailable').length).toBe(3000 - 128);
    count('named 3,000 subscribes');
    ws.terminate();
    await stillServing();
  });
});

describe('what one page may ask for', () => {
  it('regression: 200 subscriptions to the events collection from a page that reads', async () => {
    const ws = await openPage();
    let results = 0;
    let refused = 0;
    ws.on('message', (data: Buffer) => {
      if (data[2] === 0x69) refused += data.includes('"ok":false') ? 1 : 0;
      else if (data.subarray(-20).toString().endsWith('"more":true}}') === false && data.includes('"kind":"snapshot"')) results++;
    });
    for (let id = 0; id < 200; id++) ws.send(JSON.stringify({ id, method: 'subscribe', params: { query: { topic: 'collection', collection: 'events' } } }));
    await stillServing(); // while the results go out
    await waitFor(() => results === 128 && refused === 72, '128 results and 72 refusals', 45_000);
    count('named 200 subscriptions (reading)');
    ws.terminate();
    await stillServing();
  }, 60_000);

  it('regression: 200 subscriptions to the events collection from a page that never reads', async () => {
    const ws = await openPage();
    for (let id = 0; id < 200; id++) ws.send(JSON.stringify({ id, method: 'subscribe', params: { query: { topic: 'collection', collection: 'events' } } }));
    ws.pause();
    const before = host.rssMb();
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      await stillServing();
    }
    // The host holds at most its high-water mark (4 MiB) and one page for it, not 200 encoded results (~2 GiB).
    expect(host.rssMb() - before).toBeLessThan(100);
    count('named 200 subscriptions (stuck)');
    ws.terminate();
  }, 30_000);

  it('the host is back near its starting memory once the pages are gone', async () => {
    await new Promise((r) => setTimeout(r, 3000));
    rss.after = host.rssMb();
    await stillServing();
    expect((await host.health()).sessions).toBe(1); // only the good page is left
    // V8 keeps some of the heap it grew into; what matters is that nothing per page stays behind.
    expect(rss.after - rss.baseline).toBeLessThan(100);
  });
});
