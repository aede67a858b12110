/**
 * Bad data from the backend: a scripted fake server (behind the same proxy the real backend was behind) sends
 * an invalid frame, a sequence going backwards, a gap, an oversized frame, an invalid entity, binary positions
 * frames that do not decode, and a protocol version refusal. Each is refused and logged, the link is reset, and
 * the cache stays exactly as it was.
 */
import { afterAll, describe, expect } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { POSITIONS_BINARY, encodeFrame, encodePositionsBinary, type HelloPayload } from '../../protocol';
import type { Hub } from '../../hub';
import { startTestBackend } from '../../harness/backend';
import { TcpProxy } from '../../harness/tcp-proxy';
import { waitFor } from '../../harness/temp';
import { expectInStep, hubDir, makeHub, waitCaughtUp, waitOnline } from '../../harness/hub-fixtures';
import { it } from '../../harness/fixtures';

let temp: { dir: string };
let backend: Awaited<ReturnType<typeof startTestBackend>>;
let proxy: TcpProxy;
let hub: Hub;
let fake: WebSocketServer;
let fakePort = 0;
const hellos: HelloPayload[] = [];
let script: (ws: WebSocket, hello: HelloPayload) => void = () => {};

it.override('backendConfig', { historyDays: 0, kpiIntervalMs: 60_000 });
// The file's backend and temp dir (fixtures: closed and removed after the file, after the hub, fake and proxy below).
it.beforeAll(async ({ backend: fileBackend, fileDir }) => {
  temp = { dir: fileDir };
  backend = fileBackend;
  proxy = await TcpProxy.start(backend.port);
  hub = makeHub(hubDir(temp.dir), proxy);
  await waitOnline(hub);
  fake = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  await new Promise<void>((resolve) => fake.once('listening', () => resolve()));
  fakePort = (fake.address() as { port: number }).port;
  fake.on('connection', (ws) => {
    ws.once('message', (data) => {
      const hello = (JSON.parse(data.toString()) as { payload: HelloPayload }).payload;
      hellos.push(hello);
      script(ws, hello);
    });
  });
}, 60_000);

afterAll(async () => {
  hub.close();
  fake.close();
  await proxy.close();
});

function welcome(currentSeq: number): string {
  return encodeFrame('welcome', {
    sessionId: 'fake',
    user: { id: 'dispatcher', name: '调度员 张敏', role: 'dispatcher' },
    districtScope: null,
    serverTime: new Date().toISOString(),
    clockRate: 1,
    currentSeq,
    sync: 'deltas',
    heartbeatIntervalMs: 15_000,
    limits: { maxFrameBytes: 1048576, commandsPerSecond: 200, framesPerSecond: 400 },
  });
}

/** Points the hub at the fake server with `bad` as what it sends after welcome; checks the cache is untouched. */
async function refuses(bad: (ws: WebSocket, lastSeq: number) => void, expectedError: RegExp): Promise<void> {
  const before = { seq: hub.cache.lastSeq, state: JSON.stringify([...hub.cache.loadState().collections.events.entries()]) };
  const violations = hub.backendLink!.violations;
  const helloCount = hellos.length;
  script = (ws, hello) => {
    ws.send(welcome((hello.lastSeq ?? 0) + 1));
    bad(ws, hello.lastSeq ?? 0);
  };
  proxy.targetPort = fakePort;
  proxy.cut();
  await waitFor(() => hub.backendLink!.violations > violations || (hub.connection.value.lastError?.code === 'bad-data' && hellos.length > helloCount), 'the refusal');
  await waitFor(() => hub.connection.value.status !== 'online' && hellos.length > helloCount, 'the link reset');
  expect(hub.connection.value.lastError?.message ?? '').toMatch(expectedError);
  expect(hub.cache.lastSeq).toBe(before.seq);
  expect(JSON.stringify([...hub.cache.loadState().collections.events.entries()])).toBe(before.state);
  // Back to the real backend: the hub recovers and is in step.
  proxy.targetPort = backend.port;
  proxy.cut();
  await waitCaughtUp(hub, backend);
  expectInStep(hub, backend);
}

describe('bad data from the backend is refused, the link reset, the cache intact', () => {
  it('an invalid frame', async () => {
    await refuses((ws, last) => ws.send(JSON.stringify({ v: 1, type: 'delta', payload: { seq: String(last + 1), changes: [] } })), /invalid delta/);
  });

  it('a sequence going backwards', async () => {
    await refuses((ws, last) => ws.send(encodeFrame('delta', { seq: last, at: new Date().toISOString(), changes: [] })), /sequence went backwards/);
  });

  it('a gap in the sequence (then the hub asks again from its last applied seq)', async () => {
    const helloCount = hellos.length;
    await refuses((ws, last) => ws.send(encodeFrame('delta', { seq: last + 2, at: new Date().toISOString(), changes: [] })), /gap: expected delta/);
    expect(hellos[helloCount]!.lastSeq).toBe(hub.cache.lastSeq);
  });

  it('an entity that does not match the model', async () => {
    await refuses(
      (ws, last) => ws.send(encodeFrame('delta', { seq: last + 1, at: new Date().toISOString(), changes: [{ op: 'upsert', collection: 'events', id: 'E1', data: { id: 'E1', status: 'teleported' } }] })),
      /invalid events in delta/,
    );
  });

  it('a frame over the size limit', async () => {
    const violations = hub.backendLink!.violations;
    await refuses((ws) => ws.send('x'.repeat(1024 * 1024 + 100)), /over 1048576 bytes/);
    expect(hub.backendLink!.violations).toBeGreaterThan(violations);
  });

  describe('a binary positions frame that does not decode (the hello asked for binary positions)', () => {
    const valid = (): Buffer => {
      const encoded = encodePositionsBinary({ at: new Date().toISOString(), items: [['s00001', 117.1, 36.6, 0], ['网格员', 117.2, 36.7, 1]] });
      if (!encoded.ok) throw encoded.error;
      return Buffer.from(encoded.frames[0]!);
    };
    const withCount = (count: number): Buffer => {
      const bytes = valid();
      bytes.writeUInt32LE(count, 10);
      return bytes;
    };
    it.each<[string, () => Buffer, RegExp]>([
      ['garbage', () => Buffer.from('garbage, not positions'), /invalid binary positions frame: binary frame type 0x67 is not positions/],
      ['cut short', () => valid().subarray(0, 40), /invalid binary positions frame: .*cut inside item 1/],
      ['a count larger than its bytes', () => withCount(0xffffffff), /invalid binary positions frame: .*claims 4294967295 items/],
      ['another format version', () => Buffer.from([0x50, 9, ...valid().subarray(2)]), /invalid binary positions frame: binary positions format 9 is not supported/],
    ])('%s', async (_what, bad, expected) => {
      await refuses((ws) => ws.send(bad(), { binary: true }), expected);
      expect(hellos.at(-1)!.accept).toContain(POSITIONS_BINARY);
    });
  });

  it('a backend that speaks another protocol version is named clearly, and retried slowly', async () => {
    script = (ws) => {
      ws.send(encodeFrame('error', { code: 'unsupported-version', message: 'client speaks protocol 1, this server speaks 2', retryable: false }));
      ws.close(4001, 'client speaks protocol 1, this server speaks 2');
    };
    proxy.targetPort = fakePort;
    proxy.cut();
    await waitFor(() => hub.connection.value.lastError?.code === 'unsupported-version' && hub.connection.value.status === 'offline', 'the version refusal');
    expect(hub.connection.value.lastError!.message).toMatch(/does not speak protocol v1/);
    expect(Date.parse(hub.connection.value.nextRetryAt!) - Date.now()).toBeGreaterThan(200); // the longest backoff (400 ms here)
    proxy.targetPort = backend.port;
    await waitCaughtUp(hub, backend);
  });
});
