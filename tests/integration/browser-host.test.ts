/** The browser host as a real HTTP + WebSocket server: what it serves, and what it refuses. */
import { afterAll, describe, expect } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket as WsClient } from 'ws';
import { Hub } from '../../hub';
import { startBrowserHost, type BrowserHost } from '../../host/server';
import { HUB_WS_MAX_FRAME_BYTES } from '../../protocol';
import { it } from '../../harness/fixtures';

let hub: Hub;
let host: BrowserHost;

// A renderer dir and the hub's data in the file's temp dir (the `fileDir` fixture, removed after the file).
it.beforeAll(async ({ fileDir }) => {
  const rendererDir = join(fileDir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>综治</title>');
  writeFileSync(join(rendererDir, 'assets', 'app-abc123.js'), 'console.log(1)');
  writeFileSync(join(fileDir, 'secret.txt'), 'outside the renderer dir');
  hub = new Hub({ dataDir: join(fileDir, 'data'), version: 't' });
  host = await startBrowserHost({ hub, rendererDir });
});
afterAll(async () => {
  await host.close();
  hub.close();
});

/** Opens a raw socket and reports how it ended: 'open' (then closed by us) or the HTTP refusal / close code. */
function tryConnect(path: string, headers: Record<string, string> = {}): Promise<{ opened: boolean; status?: number; ws?: WsClient }> {
  return new Promise((resolve) => {
    const ws = new WsClient(`ws://127.0.0.1:${host.port}${path}`, { headers });
    ws.on('open', () => resolve({ opened: true, ws }));
    ws.on('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
    ws.on('error', () => resolve({ opened: false }));
  });
}

function closeOf(ws: WsClient): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

describe('browser host: static files', () => {
  it('serves the renderer with a strict CSP and no caching of index.html', async () => {
    const res = await fetch(`${host.origin}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('综治');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    // WebAssembly compilation (Cesium's decoders) is allowed; string eval is not.
    expect(csp).toContain("'wasm-unsafe-eval'");
    expect(csp).not.toMatch(/'unsafe-eval'/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const asset = await fetch(`${host.origin}/assets/app-abc123.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('never serves files outside the renderer dir', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00', '/..%5csecret.txt']) {
      const res = await fetch(`${host.origin}${path}`);
      expect([400, 404]).toContain(res.status);
      expect(await res.text()).not.toContain('outside the renderer dir');
    }
    expect((await fetch(`${host.origin}/nope.js`)).status).toBe(404);
    expect((await fetch(`${host.origin}/`, { method: 'POST' })).status).toBe(405);
  });

  it('listens on loopback only', () => {
    expect(host.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('browser host: the Hub API socket refuses strangers', () => {
  it('refuses a missing or wrong token with 401', async () => {
    expect(await tryConnect('/hub')).toMatchObject({ opened: false, status: 401 });
    expect(await tryConnect('/hub?token=guess')).toMatchObject({ opened: false, status: 401 });
    expect(await tryConnect(`/hub?token=${host.token}x`)).toMatchObject({ opened: false, status: 401 });
  });

  it('refuses a page from another origin even with the right token', async () => {
    const result = await tryConnect(`/hub?token=${host.token}`, { Origin: 'http://evil.example' });
    expect(result).toMatchObject({ opened: false, status: 403 });
  });

  it('refuses unknown paths and bad roles', async () => {
    expect(await tryConnect(`/other?token=${host.token}`)).toMatchObject({ opened: false, status: 404 });
    expect(await tryConnect(`/hub?token=${host.token}&role=kitchen`)).toMatchObject({ opened: false, status: 400 });
  });

  it('accepts its own origin with the token', async () => {
    const result = await tryConnect(`/hub?token=${host.token}`, { Origin: host.origin });
    expect(result.opened).toBe(true);
    result.ws?.close();
  });
});

describe('browser host: bad frames close the socket with a reason, and the host keeps serving', () => {
  const cases: Array<[string, (ws: WsClient) => void, number]> = [
    ['not JSON', (ws) => ws.send('{oops'), 4400],
    ['JSON but not a request', (ws) => ws.send(JSON.stringify({ hello: 1 })), 4400],
    ['a binary frame', (ws) => ws.send(Buffer.from([1, 2, 3])), 4400],
    ['an oversized frame', (ws) => ws.send('x'.repeat(HUB_WS_MAX_FRAME_BYTES + 1)), 1009],
  ];
  it.each(cases)('%s', async (_name, sendBad, expectedCode) => {
    const { ws } = await tryConnect(`/hub?token=${host.token}`);
    const closed = closeOf(ws!);
    sendBad(ws!);
    expect((await closed).code).toBe(expectedCode);
    // Everyone else is unaffected: a fresh client still gets answers.
    const { ws: good } = await tryConnect(`/hub?token=${host.token}`);
    const reply = new Promise<unknown>((resolve) => good!.once('message', (data) => resolve(JSON.parse(data.toString()))));
    good!.send(JSON.stringify({ id: 7, method: 'hello', params: {} }));
    expect(await reply).toMatchObject({ id: 7, reply: { ok: true, result: { apiVersion: 1 } } });
    good!.close();
  });

  it('a flood of calls on one socket is answered in order without losing any', async () => {
    const { ws } = await tryConnect(`/hub?token=${host.token}`);
    const ids: number[] = [];
    const done = new Promise<void>((resolve) =>
      ws!.on('message', (data) => {
        ids.push((JSON.parse(data.toString()) as { id: number }).id);
        if (ids.length === 500) resolve();
      }),
    );
    for (let id = 0; id < 500; id++) ws!.send(JSON.stringify({ id, method: 'getSettings', params: {} }));
    await done;
    expect(new Set(ids).size).toBe(500);
    ws!.close();
  });
});
