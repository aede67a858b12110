/**
 * The inputs an outside fuzzing run found that made the backend process exit, each as a regression test
 * against the real backend process: after each, the process still answers, a bystander console is still
 * served, and nothing it had is lost. Also the flow control a client can act on (every refusal names its
 * command, a flood is closed with the reason, per-user connection limits, idle sockets closed).
 */
import { afterAll, describe, expect } from 'vitest';
import { connect as tcpConnect, type Socket } from 'node:net';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { encodeFrame, type GovEvent, type Grid, type TimelineRecord } from '../../protocol';
import { historyOf } from '../../harness/history';
import type { BackendProcess } from '../../harness/backend-process';
import { WireClient } from '../../harness/wire-client';
import { it } from '../../harness/fixtures';

let backend: BackendProcess & { dir: string };
let bystander: WireClient;

// The file's backend process (the `backendProcess` fixture: started here, stopped after the file, after the bystander).
it.beforeAll(async ({ backendProcess }) => {
  backend = backendProcess;
  bystander = new WireClient({ url: backend.url, token: backend.tokens.leader! });
  await bystander.waitSynced();
}, 90_000);
afterAll(async () => {
  bystander?.close();
});

/** The process answers, the bystander's ping is answered and its delta stream has no gap. */
async function stillServing(): Promise<void> {
  expect((await backend.health()).ok).toBe(true);
  const pong = await new Promise<string>((resolve) => {
    bystander.ws.once('message', (data) => resolve(data.toString()));
    bystander.sendRaw(encodeFrame('ping', { clientTime: new Date().toISOString() }, `ping-${Date.now()}`));
  });
  expect(pong).toContain('"pong"');
  expect(bystander.closed).toBeNull();
  expect(bystander.gaps).toEqual([]);
}

function rawSocket(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(backend.url);
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

/** Sends one text and collects what comes back until the socket closes or goes quiet. */
function answerTo(ws: WebSocket, text: string): Promise<{ frames: Array<{ type: string; id?: string; payload: { code?: string; message?: string } }>; close: number | null }> {
  return new Promise((resolve) => {
    const frames: Array<{ type: string; id?: string; payload: { code?: string; message?: string } }> = [];
    let timer = setTimeout(() => resolve({ frames, close: null }), 1500);
    ws.on('message', (data) => {
      frames.push(JSON.parse(data.toString()));
      clearTimeout(timer);
      timer = setTimeout(() => resolve({ frames, close: null }), 300);
    });
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve({ frames, close: code });
    });
    ws.send(text);
  });
}

async function signedIn(token = backend.tokens.dispatcher!): Promise<WireClient> {
  const c = new WireClient({ url: backend.url, token });
  await c.waitSynced();
  return c;
}

describe('before sign-in, no single frame stops the backend', () => {
  it.each([
    ['an over-long type', JSON.stringify({ v: 1, type: 'x'.repeat(100_000), payload: {} })],
    ['an over-long version', JSON.stringify({ v: 'v'.repeat(200_000), type: 'hello', payload: {} })],
    ['a value nested 100,000 deep', `{"v":1,"type":"hello","payload":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
    ['a version nested 100,000 deep', `{"v":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)},"type":"hello","payload":{}}`],
    ['an over-long id', JSON.stringify({ v: 1, type: 'hello', id: 'i'.repeat(5000), payload: {} })],
    ['a hello whose fields are all wrong and long', JSON.stringify({ v: 1, type: 'hello', payload: { token: 't'.repeat(100_000), clientId: '中'.repeat(50_000), protocolVersion: 'x', lastSeq: -1 } })],
  ])('%s: refused with a valid error frame or close, and the process serves on', async (_what, text) => {
    const ws = await rawSocket();
    const answer = await answerTo(ws, text);
    expect(answer.frames.length + (answer.close === null ? 0 : 1)).toBeGreaterThan(0);
    for (const frame of answer.frames) {
      expect(frame.type).toBe('error');
      expect(frame.payload.message!.length).toBeLessThanOrEqual(2000);
    }
    ws.terminate();
    await stillServing();
  });
});

describe('after sign-in', () => {
  it('long comments on one event never grow its record: each is a small history record of its own; fresh and resuming consoles sync', async () => {
    const d = new WireClient({ url: backend.url, token: backend.tokens.dispatcher!, record: true });
    await d.waitSynced();
    const grid = d.all<Grid>('grids')[0]!;
    const eventId = String((await d.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '长备注', description: '', location: grid.center })).result.eventId);
    const before = Buffer.byteLength(JSON.stringify(d.get<GovEvent>('events', eventId)));
    const from = d.frames.length;
    const long = '很长的备注'.repeat(400); // 2,000 characters, 6,000 bytes
    // 200 × 6 KB: well past the 1 MiB frame limit the history used to reach inside one record.
    for (let i = 0; i < 200; i++) await d.command('event.comment', { eventId, text: `${i} ${long}`.slice(0, 2000) });
    await d.command('event.accept', { eventId });
    const event = d.get<GovEvent>('events', eventId)!;
    expect(event.timelineCount).toBe(202);
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(before + 200);
    // Every delta of those commands carried one event and one entry: none near the frame limit.
    const deltas = d.frames.slice(from).filter((f) => f.type === 'delta').map((f) => Buffer.byteLength(JSON.stringify(f)));
    expect(Math.max(...deltas)).toBeLessThan(16 * 1024);
    expect(historyOf(d.all<TimelineRecord>('timeline'), eventId)).toHaveLength(202);
    // A console with an empty cache syncs by snapshot, one resuming gets the deltas.
    const fresh = await signedIn();
    expect(fresh.get<GovEvent>('events', eventId)?.status).toBe('accepted');
    expect(historyOf(fresh.all<TimelineRecord>('timeline'), eventId)).toHaveLength(202);
    const resumed = new WireClient({ url: backend.url, token: backend.tokens.dispatcher!, lastSeq: d.seq - 5 });
    await resumed.waitSynced();
    expect(resumed.gaps).toEqual([]);
    for (const c of [d, fresh, resumed]) c.close();
    await stillServing();
  });

  it('a valid command with an extra deeply nested field is applied, and the audit keeps the validated payload only', async () => {
    const d = await signedIn();
    const grid = d.all<Grid>('grids')[0]!;
    const deep = JSON.parse(`${'{"a":'.repeat(25)}1${'}'.repeat(25)}`) as unknown;
    const ack = await d.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '多余字段', description: '', location: grid.center, extra: deep });
    const db = new Database(join(backend.dir, 'backend.sqlite'), { readonly: true });
    const row = db.prepare<[], { detail: string }>("SELECT detail FROM audit WHERE kind = 'command' ORDER BY id DESC LIMIT 1").get()!;
    db.close();
    const detail = JSON.parse(row.detail) as { seq: number; payload: Record<string, unknown> };
    expect(detail.seq).toBe(ack.seq);
    expect(detail.payload.title).toBe('多余字段');
    expect(detail.payload).not.toHaveProperty('extra');
    d.close();
    await stillServing();
  });

  it('a command with an extra field nested 100,000 deep is refused under its command id; nothing is applied or audited raw', async () => {
    const d = await signedIn();
    const grid = d.all<Grid>('grids')[0]!;
    const answer = await answerTo(d.ws, `{"v":1,"type":"command","payload":{"commandId":"deep-extra-0001","type":"event.report","issuedAt":"${new Date().toISOString()}","payload":{"source":"hotline","category":"noise","severity":1,"title":"很深的字段","description":"","location":[${grid.center.join(',')}],"extra":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}}`);
    const refusal = answer.frames.find((f) => f.id === 'deep-extra-0001');
    expect(refusal).toMatchObject({ type: 'error', payload: { code: 'malformed' } });
    expect(d.all<GovEvent>('events').some((e) => e.title === '很深的字段')).toBe(false);
    d.close();
    await stillServing();
  });

  it('a malformed percent-encoding in a camera stream path gets 400, over HTTP and as a WebSocket upgrade', async () => {
    expect((await fetch(`${backend.httpUrl}/video/%E0%A4%A/index.m3u8`)).status).toBe(400);
    expect((await fetch(`${backend.httpUrl}/video/%zz/index.m3u8`)).status).toBe(400);
    // WHEP is routed only with a Janus configured: without one the path is simply not there.
    expect([400, 404]).toContain((await fetch(`${backend.httpUrl}/video/%zz/whep`, { method: 'POST' })).status);
    const upgrade = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${backend.url.replace('/ws', '')}/video/%E0%A4%A`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(upgrade).toBe(400);
    await stillServing();
  });
});

describe('flow control a client can act on', () => {
  it('a flood of commands: every refusal names its command, the flood is closed (4029) with the reason, refusals are audited', async () => {
    const c = new WireClient({ url: backend.url, token: backend.tokens['duty-2']!, record: true });
    await c.waitSynced();
    const sent = new Set<string>();
    for (let i = 0; i < 3000 && !c.closed; i++) {
      const commandId = `flood-${i.toString().padStart(6, '0')}`;
      sent.add(commandId);
      c.sendRaw(encodeFrame('command', { commandId, type: 'event.comment', payload: { eventId: 'E-none', text: 'x' }, issuedAt: new Date().toISOString() }));
    }
    const closed = await c.waitClosed();
    expect(closed.code).toBe(4029);
    expect(closed.reason).toContain('flood');
    const refusals = c.frames.filter((f) => f.type === 'error' && (f.payload as { code: string }).code === 'rate-limited');
    expect(refusals.length).toBeGreaterThan(0);
    // Every answer names a command that was sent (the closing refusal itself names none).
    const answered = c.frames.filter((f) => f.type === 'error' || f.type === 'command.ack').filter((f) => !String((f.payload as { message?: string }).message).startsWith('flood'));
    for (const f of answered) expect(sent.has(f.id ?? '')).toBe(true);
    const db = new Database(join(backend.dir, 'backend.sqlite'), { readonly: true });
    const audited = db.prepare<[], { detail: string }>("SELECT detail FROM audit WHERE kind = 'command-refused' AND user_id = 'duty-2'").all();
    db.close();
    expect(audited.length).toBeGreaterThan(0);
    await stillServing();
  });

  it('one user may hold a limited number of connections; the next is refused with the reason', async () => {
    const clients: WireClient[] = [];
    for (let i = 0; i < 8; i++) clients.push(await signedIn(backend.tokens.duty!));
    const extra = new WireClient({ url: backend.url, token: backend.tokens.duty!, record: true });
    const closed = await extra.waitClosed();
    expect(closed.code).toBe(4029);
    expect(closed.reason).toContain('connections open');
    for (const c of clients) expect(c.closed).toBeNull();
    for (const c of clients) c.close();
    await stillServing();
  });

  it('TCP connections that never send a request are closed within seconds', async () => {
    const sockets: Socket[] = [];
    const closedAt: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) {
      const s = tcpConnect({ host: '127.0.0.1', port: backend.port });
      s.on('close', () => closedAt.push(Date.now() - t0));
      s.on('error', () => {});
      sockets.push(s);
    }
    const deadline = Date.now() + 12_000;
    while (closedAt.length < sockets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(closedAt.length).toBe(200);
    expect(Math.max(...closedAt)).toBeLessThan(8000);
    await stillServing();
  }, 20_000);
});
