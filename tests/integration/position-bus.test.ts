/**
 * The position bus between backend instances on a real nats-server (started once for the file, requiring a user
 * and password): positions from one instance reach the other and not their sender; the broker killed and brought
 * back on the same port — the buses go down (publish drops, never throws) and come back with positions flowing;
 * refusals at open as one clear line without the password; malformed messages on the subject dropped and counted.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { freePort } from '../../backend/ports';
import { DEFAULT_POSITION_SUBJECT, framePrefix, openPositionBus, type BusState, type PositionBus } from '../../backend/cluster/position-bus';
import { createLogger } from '../../node-util/logger';
import { startNats, type RunningNats } from '../../harness/nats';
import { waitFor } from '../../harness/temp';

const USER = 'bus';
const PASSWORD = 's3cret-pw';
let nats: RunningNats;
let lines: { level: string; message: string }[] = [];
const log = createLogger('position-bus', 'debug', (line) => lines.push(JSON.parse(line) as { level: string; message: string }));
const open: PositionBus[] = [];

beforeAll(async () => {
  nats = await startNats({ user: USER, password: PASSWORD });
}, 30_000);
afterAll(async () => {
  await nats?.stop();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
  if (nats.pid === undefined) await nats.restart();
  lines = [];
});

async function bus(instanceId: string, options: { maxBytes?: number } = {}): Promise<{ bus: PositionBus; got: { bytes: number[]; from: string }[]; states: BusState[] }> {
  const b = await openPositionBus({ url: nats.url, instanceId, log, backoff: { minMs: 25, maxMs: 200 }, ...options });
  open.push(b);
  const got: { bytes: number[]; from: string }[] = [];
  const states: BusState[] = [];
  b.onPositions((bytes, from) => got.push({ bytes: [...bytes], from }));
  b.onState((s) => states.push(s));
  return { bus: b, got, states };
}

const count = (message: RegExp): number => lines.filter((l) => message.test(l.message)).length;

describe('the position bus between instances', () => {
  it('delivers a publish to the other instance, not back to its sender', async () => {
    const a = await bus('instance-a');
    const b = await bus('instance-b');
    expect(a.bus.state).toBe('up');
    a.bus.publish(Uint8Array.of(1, 2, 3));
    await waitFor(() => b.got.length === 1, 'instance-b to get the positions');
    expect(b.got[0]).toEqual({ bytes: [1, 2, 3], from: 'instance-a' });
    // b's answer reaches a after a's own publish would have: a heard nothing of its own.
    b.bus.publish(Uint8Array.of(9));
    await waitFor(() => a.got.length === 1, 'instance-a to get the answer');
    expect(a.got).toEqual([{ bytes: [9], from: 'instance-b' }]);
    expect(a.bus.stats.own).toBe(0);
    expect(b.got).toHaveLength(1);
  });

  it('goes down when the broker is killed (publish drops, never throws) and flows again when it is back on the same port', async () => {
    const a = await bus('instance-a');
    const b = await bus('instance-b');
    await nats.kill();
    await waitFor(() => a.bus.state === 'down' && b.bus.state === 'down', 'both buses down');
    expect(() => a.bus.publish(Uint8Array.of(1))).not.toThrow();
    expect(a.bus.stats.droppedWhileDown).toBe(1);
    expect(count(/^position broker down/)).toBe(2);

    await nats.restart();
    await waitFor(() => a.bus.state === 'up' && b.bus.state === 'up', 'both buses up again', 10_000);
    expect(a.states).toEqual(['down', 'up']);
    expect(count(/^position broker back/)).toBe(2);
    a.bus.publish(Uint8Array.of(7, 7));
    await waitFor(() => b.got.length === 1, 'positions after the broker came back');
    expect(b.got[0]).toEqual({ bytes: [7, 7], from: 'instance-a' });
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toHaveLength(2);
  });

  it('refuses at open with one clear line, never the password: unreachable, wrong or missing credentials, a malformed URL', async () => {
    const refusal = (url: string, instanceId = 'instance-x'): Promise<string> =>
      openPositionBus({ url, instanceId, log }).then(
        async (b) => (await b.close(), 'opened'),
        (e: Error) => e.message,
      );
    const closedPort = await freePort();
    const unreachable = await refusal(`nats://${USER}:${PASSWORD}@127.0.0.1:${closedPort}`);
    expect(unreachable).toMatch(new RegExp(`^cannot reach the position broker at nats://bus@127\\.0\\.0\\.1:${closedPort}: connection refused`));
    const wrong = await refusal(`nats://${USER}:wrong-pw@127.0.0.1:${nats.port}`);
    expect(wrong).toBe(`the position broker at nats://bus@127.0.0.1:${nats.port} refused the connection: Authorization Violation (wrong or missing user/password)`);
    expect(await refusal(`nats://127.0.0.1:${nats.port}`)).toMatch(/refused the connection: Authorization Violation/);
    for (const message of [unreachable, wrong]) expect(message).not.toMatch(/s3cret-pw|wrong-pw/);
    for (const url of ['http://bus:pw-in-url@127.0.0.1:4222', 'nats://', 'nats://bus:pw-in-url@127.0.0.1:4222/path', 'not a url, bus:pw-in-url@']) {
      const refused = await refusal(url);
      expect(refused).toMatch(/^invalid position broker URL .*: expected nats:\/\/\[user:password@\]host\[:port\]$/);
      expect(refused).not.toContain('pw-in-url');
    }
    expect(await refusal(nats.url, 'no spaces allowed')).toMatch(/^invalid instance id/);
    expect(lines).toHaveLength(0);
  });

  it('drops and counts what is not a frame of ours, and keeps delivering', async () => {
    const b = await bus('instance-b', { maxBytes: 100 });
    const raw = await connect({ servers: `127.0.0.1:${nats.port}`, user: USER, pass: PASSWORD });
    try {
      const frame = (id: string, payload: Uint8Array): Uint8Array => {
        const prefix = framePrefix(id);
        const bytes = new Uint8Array(prefix.byteLength + payload.byteLength);
        bytes.set(prefix);
        bytes.set(payload, prefix.byteLength);
        return bytes;
      };
      const wrongVersion = frame('instance-z', Uint8Array.of(1));
      wrongVersion[2] = 99;
      const badId = frame('instance-z', Uint8Array.of(1));
      badId[5] = 0x20;
      for (const junk of [new Uint8Array(0), new TextEncoder().encode('{"lon":117}'), wrongVersion, badId, frame('instance-z', new Uint8Array(101))]) raw.publish(DEFAULT_POSITION_SUBJECT, junk);
      raw.publish(DEFAULT_POSITION_SUBJECT, frame('instance-b', Uint8Array.of(1)));
      raw.publish(DEFAULT_POSITION_SUBJECT, frame('instance-z', Uint8Array.of(4, 2)));
      await raw.flush();
      await waitFor(() => b.got.length === 1, 'the well-formed frame');
      expect(b.got).toEqual([{ bytes: [4, 2], from: 'instance-z' }]);
      expect(b.bus.stats).toMatchObject({ malformed: 5, own: 1, received: 1 });
      // One warning line for the lot, not one per message.
      expect(count(/^malformed position message dropped/)).toBe(1);
      expect(b.bus.state).toBe('up');
    } finally {
      await raw.close();
    }
  });
});
