/**
 * Property-based fuzzing (fast-check) of the real backend process: wire frames before and after sign-in,
 * command payloads of every command type, HTTP request targets and upgrade targets. The property each time:
 * the answer is a valid refusal (an error frame within the schema, naming the command when there is one, or
 * a close with a protocol code) and never an internal failure; and over the whole run the process stays up,
 * a bystander console is served without a gap, a well-behaved console's commands are each applied exactly
 * once, and memory comes back near where it started. Bounded: a fixed number of cases per property, a
 * minute or so in all. Prints the figures (cases, refusals by kind, RSS before / during / after).
 */
import { afterAll, describe, expect } from 'vitest';
import fc from 'fast-check';
import { connect as tcpConnect } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import { COMMAND_TYPES, decodeFrame, encodeFrame, type GovEvent, type Grid, type TimelineRecord } from '../../protocol';
import type { BackendProcess } from '../../harness/backend-process';
import { WireClient } from '../../harness/wire-client';
import { it } from '../../harness/fixtures';

let backend: BackendProcess;
let bystander: WireClient;
let steady: WireClient;
const tally = new Map<string, number>();
const count = (kind: string): void => void tally.set(kind, (tally.get(kind) ?? 0) + 1);
const rss: Record<string, number> = {};
const steadyCommands: string[] = [];
let eventIds: string[] = [];
let gridCenter: [number, number] = [0, 0];
let steadyEvent = '';

// The file's backend process (the `backendProcess` fixture: started here, stopped after the file, after the clients).
it.beforeAll(async ({ backendProcess }) => {
  backend = backendProcess;
  bystander = new WireClient({ url: backend.url, token: backend.tokens.leader! });
  steady = new WireClient({ url: backend.url, token: backend.tokens.dispatcher! });
  await Promise.all([bystander.waitSynced(), steady.waitSynced()]);
  eventIds = steady.all<GovEvent>('events').slice(0, 20).map((e) => e.id);
  gridCenter = steady.all<Grid>('grids')[0]!.center as [number, number];
  // The steady console's own event, which the fuzzing never targets.
  steadyEvent = String((await steady.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '稳定客户端的事件', description: '', location: gridCenter })).result.eventId);
  rss.before = (await backend.health()).rss;
}, 90_000);

afterAll(async () => {
  bystander?.close();
  steady?.close();
  const mb = (b: number | undefined): string => (b === undefined ? '?' : `${(b / 1048576).toFixed(0)} MB`);
  const cases = [...tally.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
  process.stdout.write(`\nbackend fuzz: ${[...tally.values()].reduce((a, b) => a + b, 0)} answers — ${cases.join(', ')}\nRSS before ${mb(rss.before)}, peak during ${mb(rss.during)}, after ${mb(rss.after)}\n`);
});

/**
 * A signed-in connection that catches up by deltas from where the city is now (no snapshot: the fuzzing
 * connections are closed and reopened often, and a whole city each time would be the test's own cost).
 */
async function lightClient(user: string, record = false): Promise<WireClient> {
  const client = new WireClient({ url: backend.url, token: backend.tokens[user]!, lastSeq: (await backend.health()).seq, record });
  await client.waitSynced(60_000);
  return client;
}

/** The well-behaved console keeps working meanwhile: one real command per call, answered. */
async function steadyStep(): Promise<void> {
  const commandId = `steady-${steadyCommands.length.toString().padStart(6, '0')}`;
  steadyCommands.push(commandId);
  await steady.command('event.comment', { eventId: steadyEvent, text: `稳定客户端 ${commandId}` }, commandId);
  const now = (await backend.health()).rss;
  rss.during = Math.max(rss.during ?? 0, now);
}

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(backend.url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

type Answer = { frames: string[]; close: number | null };

/** Sends texts and collects the answers until the socket closes or stays quiet for `quietMs`. */
function exchange(ws: WebSocket, texts: string[], quietMs = 150): Promise<Answer> {
  return new Promise((resolve) => {
    const frames: string[] = [];
    let timer: NodeJS.Timeout;
    const onMessage = (data: RawData): void => {
      frames.push(data.toString());
      rearm();
    };
    const onClose = (code: number): void => done(code);
    const done = (close: number | null): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve({ frames, close });
    };
    const rearm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => done(null), quietMs);
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    rearm();
    for (const t of texts) if (ws.readyState === ws.OPEN) ws.send(t);
  });
}

/** Every answer is a valid frame; an error is within its schema; a close uses a code of the protocol. */
function checkAnswer(answer: Answer): void {
  for (const text of answer.frames) {
    const decoded = decodeFrame(text);
    expect(decoded.ok, text.slice(0, 200)).toBe(true);
    if (!decoded.ok) continue;
    if (decoded.frame.type === 'error') {
      const code = (decoded.frame.payload as { code: string }).code;
      expect(code, text.slice(0, 300)).not.toBe('internal');
      count(`error:${code}`);
    } else count(decoded.frame.type);
  }
  if (answer.close !== null) {
    // Every close is one the server chose, with its code (1006 would be a connection cut without one).
    expect([1000, 1002, 1005, 1009, 4001, 4003, 4009, 4029]).toContain(answer.close);
    count(`close:${answer.close}`);
  }
}

// ── generators ───────────────────────────────────────────────────────────────────────────────────────────
const deep = fc.integer({ min: 20, max: 200_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
const junkText = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.json({ maxDepth: 6 }), deep, fc.string({ minLength: 10_000, maxLength: 100_000 }));
const anyPayload = fc.oneof(fc.anything({ maxDepth: 5, maxKeys: 6 }), fc.jsonValue({ maxDepth: 8 }));
const frameText = fc.oneof(
  junkText,
  fc.record({ v: fc.oneof(fc.constant(1), fc.anything({ maxDepth: 2 })), type: fc.oneof(fc.constantFrom('hello', 'ping', 'command', 'welcome', 'delta'), fc.string({ maxLength: 200 })), id: fc.option(fc.string({ maxLength: 100 })), payload: anyPayload }).map((f) => JSON.stringify(f)),
);

describe('backend fuzz (real process)', () => {
  it('frames before sign-in: each answered with a valid refusal, nothing internal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frameText, { minLength: 1, maxLength: 3 }), async (texts) => {
        const ws = await open();
        checkAnswer(await exchange(ws, texts));
        ws.terminate();
      }),
      { numRuns: 120 },
    );
    await steadyStep();
  }, 180_000);

  it('frames after sign-in: refusals name the command they refuse; the connection is only closed for cause', async () => {
    let client = await lightClient('duty-2');
    await fc.assert(
      fc.asyncProperty(frameText, fc.option(fc.stringMatching(/^[0-9a-zA-Z_-]{8,64}$/)), fc.constantFrom('junk payload', 'nested 100,000 deep', 'not JSON'), async (text, commandId, kind) => {
        if (client.closed) {
          client = await lightClient('duty-2');
        }
        // A command the server cannot take in three ways; each refusal must still name it.
        const issuedAt = new Date().toISOString();
        const asCommand = !commandId
          ? text
          : kind === 'junk payload'
            ? encodeFrame('command', { commandId, type: 'event.comment', payload: JSON.parse(JSON.stringify({ junk: text.slice(0, 500) })), issuedAt })
            : kind === 'nested 100,000 deep'
              ? `{"v":1,"type":"command","payload":{"commandId":"${commandId}","type":"event.comment","issuedAt":"${issuedAt}","payload":{"eventId":"E1","text":"x","extra":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`
              : `{"v":1,"type":"command","payload":{"commandId":"${commandId}","type":"event.comment",${JSON.stringify(text.slice(0, 50))}`;
        const answer = await exchange(client.ws, [asCommand], 60);
        checkAnswer(answer);
        if (commandId && answer.close === null) {
          const named = answer.frames.map((f) => JSON.parse(f) as { type: string; id?: string }).filter((f) => f.type === 'error' || f.type === 'command.ack');
          expect(named.map((f) => f.id)).toContain(commandId);
        }
      }),
      { numRuns: 100 },
    );
    client.close();
    await steadyStep();
  }, 180_000);

  it('command payloads of every type: an ack or a refusal naming the command, never an internal error', async () => {
    const client = await lightClient('dispatcher');
    const plausible = fc.record(
      {
        eventId: fc.oneof(fc.constantFrom(...eventIds), fc.string({ maxLength: 80 })),
        text: fc.string({ maxLength: 2500 }),
        note: fc.string({ maxLength: 2500 }),
        reason: fc.string({ maxLength: 2500 }),
        title: fc.string({ maxLength: 250 }),
        category: fc.constantFrom('noise', 'road-damage', 'x'),
        severity: fc.integer({ min: -1, max: 6 }),
        source: fc.constantFrom('hotline', 'grid-app', 'nope'),
        description: fc.string({ maxLength: 100 }),
        location: fc.oneof(fc.constant(gridCenter), fc.tuple(fc.double(), fc.double())),
        level: fc.constantFrom('daily', 'reinforced', 'emergency', 'x'),
        extra: fc.anything({ maxDepth: 4 }),
      },
      { requiredKeys: [] },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...COMMAND_TYPES, 'no.such.type'), fc.oneof(plausible, anyPayload), async (type, payload) => {
        const commandId = `fuzz-cmd-${(n++).toString().padStart(6, '0')}`;
        const answer = await new Promise<{ type: string; code?: string }>((resolve) => {
          setTimeout(() => resolve({ type: 'error', code: 'no answer within 3 s' }), 3000).unref();
          client.command(type, payload, commandId).then(
            () => resolve({ type: 'ack' }),
            (e: { wire?: { code: string } }) => resolve({ type: 'error', code: e.wire?.code ?? 'none' }),
          );
        });
        count(answer.type === 'ack' ? 'command.ack' : `error:${answer.code}`);
        expect(answer.code).not.toBe('internal');
        expect(answer.code).not.toBe('no answer within 3 s');
      }),
      { numRuns: 250, endOnFailure: true },
    );
    expect(client.closed).toBeNull();
    client.close();
    await steadyStep();
  }, 180_000);

  it('HTTP request targets and upgrade targets, bare or with a field session, a console token or junk as bearer: every answer under 500, the server serves on', async () => {
    // A 网格员 account made by the administrator and signed in to the field app: its session is tried everywhere.
    const staffId = steady.all<{ id: string }>('staff')[0]!.id;
    const made = await fetch(`${backend.httpUrl}/admin/users`, { method: 'POST', headers: { Authorization: `Bearer ${backend.tokens.admin!}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ id: 'fuzz-field', name: '模糊测试网格员', role: 'field', scope: null, password: 'fuzz-field-password', staffId }) });
    expect(made.status).toBe(201);
    const signedIn = await fetch(`${backend.httpUrl}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'fuzz-field', password: 'fuzz-field-password', client: { id: 'fuzz-field' }, app: 'field' }) });
    expect(signedIn.status).toBe(200);
    const fieldToken = ((await signedIn.json()) as { sessionToken: string }).sessionToken;
    const authorization = fc.constantFrom('', `Authorization: Bearer ${fieldToken}\r\n`, `Authorization: Bearer ${backend.tokens.viewer!}\r\n`, 'Authorization: Bearer x\r\n', 'Authorization: Field a:12345678\r\n');
    const target = fc.oneof(
      fc.webPath(),
      fc.string({ maxLength: 200 }).map((s) => `/${s.replace(/[\s]/g, '')}`),
      fc.constantFrom('//', '///', '/video/%', '/video/%zz/index.m3u8', '/video/%E0%A4%A', '/..%2f..%2f', '/city/buildings', '*', 'http://[', '/ws?%'),
      fc.constantFrom('/field/api/me', '/department/api/me', '/audit', '/admin/users', '/key-persons'),
      fc.tuple(fc.constantFrom('/video/', '/field/', '/city/', '/department/', '/admin/users/'), fc.string({ maxLength: 60 })).map(([a, b]) => a + encodeURIComponent(b).replace(/%[0-9A-F]{2}/g, (m) => (Math.random() < 0.3 ? '%Z' : m))),
    );
    const rawRequest = (request: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = tcpConnect({ host: '127.0.0.1', port: backend.port });
        let head = '';
        socket.on('data', (d) => {
          head += d.toString('latin1');
          if (head.includes('\r\n')) socket.destroy();
        });
        socket.on('close', () => resolve(head.split('\r\n')[0] ?? ''));
        socket.on('error', () => resolve(''));
        socket.setTimeout(3000, () => socket.destroy());
        socket.write(request);
      });
    await fc.assert(
      fc.asyncProperty(target, fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS', 'BREW'), fc.boolean(), authorization, async (path, method, upgrade, auth) => {
        const headers = (upgrade ? 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' : '') + auth;
        const status = await rawRequest(`${upgrade ? 'GET' : method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Content-Length: 0\r\n\r\n`);
        const code = Number(/^HTTP\/1\.1 (\d{3})/.exec(status)?.[1] ?? 0);
        count(code === 0 ? 'http:closed' : `http:${code}`);
        expect(code, `${method} ${path} → ${status}`).toBeLessThan(500);
      }),
      { numRuns: 250 },
    );
    // The field session still answers at its own route, and is still refused at the console's.
    expect((await fetch(`${backend.httpUrl}/field/api/me`, { headers: { Authorization: `Bearer ${fieldToken}` } })).status).not.toBe(401);
    expect((await fetch(`${backend.httpUrl}/audit`, { headers: { Authorization: `Bearer ${fieldToken}` } })).status).toBe(403);
    await steadyStep();
  }, 180_000);

  it('an attack: 1,000 silent TCP sockets and 35 signed-in floods at once; the steady console is served meanwhile, every flood closed (4029) or answered in full', async () => {
    const silent = Array.from({ length: 1000 }, () => {
      const socket = tcpConnect({ host: '127.0.0.1', port: backend.port });
      socket.on('error', () => {});
      return socket;
    });
    const users = ['dispatcher', 'dispatcher-d01', 'duty', 'leader', 'viewer'];
    const floods: WireClient[] = [];
    for (const user of users) for (let i = 0; i < 7; i++) floods.push(await lightClient(user, true));
    const started = Date.now();
    process.stdout.write(`attack: ${floods.length} connections signed in\n`);
    for (const [i, c] of floods.entries()) {
      for (let k = 0; k < 1000 && c.ws.readyState === c.ws.OPEN; k++) {
        c.sendRaw(encodeFrame('command', { commandId: `attack-${i}-${k.toString().padStart(5, '0')}`, type: 'event.comment', payload: { eventId: 'E-not-there', text: `攻击 ${k}` }, issuedAt: new Date().toISOString() }));
      }
    }
    const steadyMs: number[] = [];
    const poll = setInterval(() => void backend.health().then((h) => (rss.during = Math.max(rss.during ?? 0, h.rss)), () => count('attack: health check slow')), 200);
    try {
      const answered = (c: WireClient): number => c.frames.filter((f) => f.id?.startsWith('attack-')).length;
      while (floods.some((c) => !c.closed && answered(c) < 1000) && Date.now() - started < 30_000) {
        const t0 = Date.now();
        await steadyStep();
        steadyMs.push(Date.now() - t0);
      }
    } finally {
      clearInterval(poll);
    }
    // A connection sending faster than it is allowed is closed as a flood; one the server could take at its
    // allowed rate gets every command answered. Never open with commands unanswered.
    const outcomes = floods.map((c) => (c.closed ? `close:${c.closed.code}` : `answered:${c.frames.filter((f) => f.id?.startsWith('attack-')).length}`));
    for (const o of outcomes) count(`attack ${o.startsWith('close') ? o : 'all answered'}`);
    for (const o of outcomes) expect(['close:4029', 'answered:1000']).toContain(o);
    steadyMs.sort((a, b) => a - b);
    process.stdout.write(`attack: ${floods.length} floods closed in ${Date.now() - started} ms; steady command answered p50 ${steadyMs[Math.floor(steadyMs.length / 2)]} ms, max ${steadyMs.at(-1)} ms over ${steadyMs.length}\n`);
    expect(steadyMs.at(-1)!).toBeLessThan(5000);
    for (const c of floods) c.close();
    for (const socket of silent) socket.destroy();
  }, 90_000);

  it('after it all: the process is up, the bystander was served without a gap, every steady command applied once, memory back near the start', async () => {
    expect((await backend.health()).ok).toBe(true);
    expect(bystander.closed).toBeNull();
    expect(bystander.gaps).toEqual([]);
    expect(steady.closed).toBeNull();
    // Each steady command left exactly one timeline entry, on the console that sent it and on the bystander.
    for (const id of steadyCommands) {
      for (const c of [steady, bystander]) {
        const hits = c.all<TimelineRecord>('timeline').filter((t) => t.eventId === steadyEvent && t.note === `稳定客户端 ${id}`);
        expect(hits, `${id}`).toHaveLength(1);
      }
    }
    await new Promise((r) => setTimeout(r, 1500));
    rss.after = (await backend.health()).rss;
    expect(rss.after - rss.before!).toBeLessThan(100 * 1024 * 1024);
  }, 30_000);
});
