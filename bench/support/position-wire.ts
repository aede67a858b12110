/**
 * The position-broker bench's messages and the three candidates' client sides (NATS, Redis pub/sub, PostgreSQL
 * NOTIFY/LISTEN), shared by the bench (subscribers) and its publisher process.
 *
 * A burst is one second's positions, split into messages; each message is a 16-byte header (u32 burst, u16 index,
 * u16 count, f64 the burst's start on the monotonic clock in ms — process.hrtime is CLOCK_MONOTONIC, the same
 * clock in every process of the machine) and 20-byte records: u32 staff index, i32 lon and lat in 1e-7 degrees,
 * u32 fix time (s), u16 speed (cm/s), u8 heading (2° steps), u8 status.
 */
import { randomFillSync } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createClient } from 'redis';
import pg from 'pg';

export type Candidate = 'nats' | 'redis' | 'postgres';
export const HEADER_BYTES = 16;
export const RECORD_BYTES = 20;
export const SUBJECT = 'zongzhi.bench.positions';
const PG_CHANNEL = 'bench_positions';

/** The largest message each candidate is given: 64 KiB on NATS and Redis; NOTIFY payloads are text of at most
 *  8000 bytes, so 5,925 binary bytes there (7,900 base64 characters). */
export function maxMessageBytes(candidate: Candidate): number {
  return candidate === 'postgres' ? Math.floor(7900 / 4) * 3 : 64 * 1024;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function recordsPerMessage(maxBytes: number): number {
  return Math.floor((maxBytes - HEADER_BYTES) / RECORD_BYTES);
}

/** One burst of `positions` random records split into messages of at most `maxBytes`; the start time is stamped by `stamp`. */
export function makeBurst(burst: number, positions: number, maxBytes: number): Uint8Array[] {
  const perMessage = recordsPerMessage(maxBytes);
  const count = Math.ceil(positions / perMessage);
  const messages: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const records = Math.min(perMessage, positions - i * perMessage);
    const bytes = new Uint8Array(HEADER_BYTES + records * RECORD_BYTES);
    randomFillSync(bytes, HEADER_BYTES);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, burst, true);
    view.setUint16(4, i, true);
    view.setUint16(6, count, true);
    for (let r = 0; r < records; r++) view.setUint32(HEADER_BYTES + r * RECORD_BYTES, i * perMessage + r, true);
    messages.push(bytes);
  }
  return messages;
}

export function stamp(messages: readonly Uint8Array[], startMs: number): void {
  for (const m of messages) new DataView(m.buffer, m.byteOffset).setFloat64(8, startMs, true);
}

export interface Header {
  burst: number;
  index: number;
  count: number;
  startMs: number;
}

export function readHeader(bytes: Uint8Array): Header {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { burst: view.getUint32(0, true), index: view.getUint16(4, true), count: view.getUint16(6, true), startMs: view.getFloat64(8, true) };
}

export interface Publisher {
  /** Hands a burst to the broker; resolves once the broker has it (flushed / acknowledged). */
  publish(messages: readonly Uint8Array[]): Promise<void>;
  close(): Promise<void>;
}

export interface Subscriber {
  close(): Promise<void>;
}

function natsServer(url: string): string {
  return new URL(url).host;
}

export async function openPublisher(candidate: Candidate, url: string): Promise<Publisher> {
  if (candidate === 'nats') {
    const nc: NatsConnection = await connect({ servers: natsServer(url) });
    return {
      async publish(messages) {
        for (const m of messages) nc.publish(SUBJECT, m);
        await nc.flush();
      },
      close: () => nc.close(),
    };
  }
  if (candidate === 'redis') {
    const client = createClient({ url });
    await client.connect();
    return {
      async publish(messages) {
        // Issued in one tick: node-redis writes them as one pipeline.
        await Promise.all(messages.map((m) => client.publish(SUBJECT, Buffer.from(m.buffer, m.byteOffset, m.byteLength))));
      },
      close: () => client.close(),
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    async publish(messages) {
      // One statement (one round trip, one transaction): the notifications go out together at commit.
      const payloads = messages.map((m) => Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64'));
      await client.query('SELECT count(pg_notify($1, p)) FROM unnest($2::text[]) AS p', [PG_CHANNEL, payloads]);
    },
    close: () => client.end(),
  };
}

/** A subscriber on its own connection (one backend instance); `onMessage` gets each message's bytes. */
export async function openSubscriber(candidate: Candidate, url: string, onMessage: (bytes: Uint8Array) => void): Promise<Subscriber> {
  if (candidate === 'nats') {
    const nc = await connect({ servers: natsServer(url) });
    nc.subscribe(SUBJECT, {
      callback: (err, msg) => {
        if (!err) onMessage(msg.data);
      },
    });
    await nc.flush();
    return { close: () => nc.close() };
  }
  if (candidate === 'redis') {
    const client = createClient({ url });
    await client.connect();
    await client.subscribe(SUBJECT, (message: Buffer) => onMessage(message), true);
    return {
      close: () => client.close(),
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  client.on('notification', (n) => n.payload !== undefined && onMessage(Buffer.from(n.payload, 'base64')));
  await client.query(`LISTEN ${PG_CHANNEL}`);
  return { close: () => client.end() };
}
