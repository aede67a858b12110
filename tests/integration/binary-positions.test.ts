/**
 * Live positions as binary frames on a real backend: a client whose hello asks gets binary frames with the same
 * content a JSON client gets as JSON, in fewer bytes (both sizes printed, for 1,000 and 50,000 staff); each
 * scope's frames are encoded once per form and the same buffer goes to every socket of that scope and form; a
 * binary frame from a client is still refused. The real hub asks for binary and its replica takes positions
 * through that path.
 */
import { describe, expect, onTestFinished, vi } from 'vitest';
import { WebSocket } from 'ws';
import { MAX_FRAME_BYTES, STAFF_STATUS_CODES, type PositionsPayload, type StaffStatus } from '../../protocol';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { waitFor } from '../../harness/temp';
import { WireClient, until } from '../../harness/wire-client';
import { it } from '../../harness/fixtures';

let backend: Awaited<ReturnType<typeof startTestBackend>>;

it.override('backendConfig', { historyDays: 0, kpiIntervalMs: 60_000 });
it.beforeAll(async ({ backend: fileBackend }) => {
  backend = fileBackend;
}, 60_000);

type Row = { id: string; lon: number; lat: number; status: StaffStatus; districtId: string };
const DISTRICTS = ['d01', 'd02', 'd03', 'd04', 'd05'];

/** `count` positions in the city's districts, with some Chinese ids, coordinates at the simulator's 1e-6. */
function rows(count: number): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i % 97 === 0 ? `网格员-${i}` : `s${String(i).padStart(5, '0')}`,
    lon: Math.round((116.8 + ((i * 7919) % 100_000) / 200_000) * 1e6) / 1e6,
    lat: Math.round((36.5 + ((i * 104_729) % 100_000) / 400_000) * 1e6) / 1e6,
    status: STAFF_STATUS_CODES[i % STAFF_STATUS_CODES.length]!,
    districtId: DISTRICTS[i % DISTRICTS.length]!,
  }));
}

const asItems = (list: Row[]): PositionsPayload['items'] => list.map((r) => [r.id, r.lon, r.lat, STAFF_STATUS_CODES.indexOf(r.status)]);

function client(token: string, binaryPositions: boolean): WireClient {
  const c = new WireClient({ url: backend.url, token, binaryPositions });
  onTestFinished(() => c.close());
  return c;
}

/** Broadcasts a one-row tick until every client has had one: each is then live on the server's side. */
async function allLive(clients: WireClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.waitSynced()));
  const row: Row = { id: 'warm-up', lon: 117, lat: 36.6, status: 'idle', districtId: 'd01' };
  await until(() => {
    backend.server.broadcastPositions(new Date().toISOString(), [row]);
    return clients.every((c) => c.positions.length > 0);
  }, 'every client live');
  await new Promise((r) => setTimeout(r, 50));
}

/**
 * What the server's sockets are handed while recording: positions are the only sends with a `binary` option
 * (true for the binary form, false for the JSON text); restored after the test.
 */
function recordPositionSends(): { sends: Array<{ data: unknown; binary: boolean }>; stop: () => void } {
  const sends: Array<{ data: unknown; binary: boolean }> = [];
  const realSend = WebSocket.prototype.send;
  const spy = vi.spyOn(WebSocket.prototype, 'send').mockImplementation(function (this: WebSocket, ...args: Parameters<WebSocket['send']>) {
    const binary = (args[1] as { binary?: boolean } | undefined)?.binary;
    if (binary !== undefined) sends.push({ data: args[0], binary });
    return realSend.apply(this, args);
  });
  onTestFinished(() => spy.mockRestore());
  return { sends, stop: () => spy.mockRestore() };
}

/** How many times each distinct object was sent, ascending. */
function timesEachSent(sends: Array<{ data: unknown }>): number[] {
  const counts = new Map<unknown, number>();
  for (const { data } of sends) counts.set(data, (counts.get(data) ?? 0) + 1);
  return [...counts.values()].sort((a, b) => a - b);
}

describe('binary positions to consoles that ask, JSON to the others', () => {
  it.each([1_000, 50_000])('%i positions: the same content, fewer bytes, one buffer per scope and form', async (count) => {
    const json = [client(TEST_TOKENS.dispatcher, false), client(TEST_TOKENS.duty, false)];
    const binary = [client(TEST_TOKENS.dispatcher, true), client(TEST_TOKENS.duty, true), client(TEST_TOKENS.leader, true)];
    const jsonD01 = client(TEST_TOKENS['dispatcher-d01'], false);
    const binaryD01 = [client(TEST_TOKENS['dispatcher-d01'], true), client(TEST_TOKENS['dispatcher-d01'], true)];
    const everyone = [...json, ...binary, jsonD01, ...binaryD01];
    await allLive(everyone);
    expect(binary.every((c) => c.welcome!.districtScope === null) && binaryD01.every((c) => c.welcome!.districtScope?.join() === 'd01')).toBe(true);

    const sent = recordPositionSends();
    const list = rows(count);
    const at = new Date().toISOString();
    backend.server.broadcastPositions(at, list);
    sent.stop();
    const d01 = list.filter((r) => r.districtId === 'd01');
    const received = (c: WireClient): PositionsPayload['items'] => c.positions.filter((p) => p.at === at).flatMap((p) => p.items);
    await until(() => [...json, ...binary].every((c) => received(c).length === count) && [jsonD01, ...binaryD01].every((c) => received(c).length === d01.length), 'every client got the tick', 20_000);

    // The same content in both forms (coordinates with 6 decimals come back exactly from 1e-7 degrees).
    for (const c of [...json, ...binary]) expect(received(c)).toEqual(asItems(list));
    for (const c of [jsonD01, ...binaryD01]) expect(received(c)).toEqual(asItems(d01));
    const frames = (c: WireClient): Array<{ binary: boolean; bytes: number }> => c.positionFrames.filter((f) => f.at === at);
    for (const c of [...binary, ...binaryD01]) expect(frames(c).every((f) => f.binary)).toBe(true);
    for (const c of [...json, jsonD01]) expect(frames(c).every((f) => !f.binary)).toBe(true);

    // Encoded once per scope and form: every socket of a scope and form was handed the same Buffer objects.
    const jsonFrames = frames(json[0]!).length;
    expect(timesEachSent(sent.sends.filter((s) => s.binary))).toEqual([2, 3]); // d01: 2 consoles, the whole city: 3; one frame each
    expect(timesEachSent(sent.sends.filter((s) => !s.binary))).toEqual([...Array<number>(frames(jsonD01).length).fill(1), ...Array<number>(jsonFrames).fill(2)]);
    expect(sent.sends.filter((s) => s.binary).every((s) => Buffer.isBuffer(s.data))).toBe(true);

    const bytes = (c: WireClient): number => frames(c).reduce((sum, f) => sum + f.bytes, 0);
    const jsonBytes = bytes(json[0]!);
    const binaryBytes = bytes(binary[0]!);
    expect(binaryBytes).toBeLessThan(jsonBytes * 0.6);
    console.log(
      `positions of ${count.toLocaleString('en')} staff on the wire: JSON ${jsonBytes.toLocaleString('en')} bytes in ${jsonFrames} frame(s), ` +
        `binary ${binaryBytes.toLocaleString('en')} bytes in ${frames(binary[0]!).length} frame(s) (${Math.round((100 * binaryBytes) / jsonBytes)} %)`,
    );
  }, 60_000);

  it('long ids: every frame of either form stays under the limit, and every row arrives', async () => {
    const binary = client(TEST_TOKENS.dispatcher, true);
    const json = client(TEST_TOKENS.duty, false);
    await allLive([binary, json]);
    const list = rows(20_000).map((r, i) => ({ ...r, id: `${'网格'.repeat(20)}-${String(i).padStart(20, '0')}` })); // 141 bytes of UTF-8
    const at = new Date().toISOString();
    backend.server.broadcastPositions(at, list);
    const received = (c: WireClient): PositionsPayload['items'] => c.positions.filter((p) => p.at === at).flatMap((p) => p.items);
    await until(() => [binary, json].every((c) => received(c).length === list.length), 'the tick', 20_000);
    for (const c of [binary, json]) {
      expect(received(c)).toEqual(asItems(list));
      const frames = c.positionFrames.filter((f) => f.at === at);
      expect(frames.length).toBeGreaterThan(1);
      expect(Math.max(...frames.map((f) => f.bytes))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    }
  });

  it('a tick with a row the binary layout cannot carry goes to binary clients as the JSON frame', async () => {
    const binary = client(TEST_TOKENS.dispatcher, true);
    const json = client(TEST_TOKENS.duty, false);
    await allLive([binary, json]);
    // Only a database edited by hand holds such an id (the generator's are like s00001).
    const list = [...rows(3), { id: `长${'x'.repeat(300)}`, lon: 117, lat: 36.6, status: 'idle' as const, districtId: 'd02' }];
    const at = new Date().toISOString();
    backend.server.broadcastPositions(at, list);
    await until(() => [binary, json].every((c) => c.positions.some((p) => p.at === at)), 'the tick');
    for (const c of [binary, json]) {
      expect(c.positions.find((p) => p.at === at)!.items).toEqual(asItems(list));
      expect(c.positionFrames.find((f) => f.at === at)!.binary).toBe(false);
    }
  });

  it('a client that asked for binary positions still may not send binary frames', async () => {
    const c = client(TEST_TOKENS.dispatcher, true);
    await c.waitSynced();
    c.sendRaw(Buffer.from([0x50, 1, 0, 0]));
    await until(() => c.errors.length > 0, 'the error');
    expect(c.errors[0]!.code).toBe('malformed');
    expect(c.errors[0]!.message).toMatch(/binary frames from clients/);
  });
});

describe('the hub', () => {
  it('asks for binary positions and its replica takes them through that path', async ({ newHub }) => {
    // The hub alone: the earlier tests' clients gone from the server.
    await waitFor(() => backend.server.sessionCount === 0, 'the earlier clients gone');
    const hub = newHub({ version: 'test', backend: { url: backend.url, token: TEST_TOKENS.dispatcher }, link: { backoffBaseMs: 50, backoffMaxMs: 400, silenceLimitMs: 4000 }, flushIntervalMs: 20 });
    await waitFor(() => hub.connection.value.status === 'online' && hub.cache.lastSeq === backend.state.seq, 'hub online', 30_000);
    expect(backend.server.sessionCount).toBe(1);
    const staff = [...backend.state.collections.staff.values()].slice(0, 200);
    // At the simulator's 1e-6 degrees, which the binary form's 1e-7 carries exactly.
    const moved: Row[] = staff.map((s, i) => ({ id: s.id, lon: (117_000_000 + i) / 1e6, lat: (36_700_000 - i) / 1e6, status: 'handling', districtId: s.districtId }));
    const sent = recordPositionSends();
    // The hub's session turns live on the server a moment after the hub is in step: send until it arrives.
    await waitFor(() => {
      backend.server.broadcastPositions(new Date().toISOString(), moved);
      return moved.every((m) => {
        const position = hub.confirmed.get('staff', m.id)?.position;
        return position?.[0] === m.lon && position[1] === m.lat;
      });
    }, 'the positions in the hub replica', 10_000);
    sent.stop();
    // The hub is the one console connected: its positions came as binary frames, and nothing was refused.
    expect(sent.sends.length).toBeGreaterThan(0);
    expect(sent.sends.every((s) => s.binary)).toBe(true);
    expect(hub.backendLink!.violations).toBe(0);
  });
});
