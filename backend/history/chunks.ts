/**
 * How a checkpoint cuts the city into chunks (backend/store: checkpoint_chunks): events by the day they were
 * reported, timeline records by the day they were written, every other collection whole. A chunk is the JSON
 * array of its records sorted by id, named by the SHA-256 of that JSON and stored gzip'd once: the days that no
 * longer change (and the static collections) are shared by every checkpoint, so an hourly one writes today's
 * chunks and the few collections that move.
 */
import { createHash } from 'node:crypto';
import { gunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { CollectionName } from '../../protocol';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Which chunk of its collection a record goes in ('' for collections kept whole). */
export function chunkKeyOf(collection: CollectionName, record: unknown): string {
  const r = record as { reportedAt?: unknown; at?: unknown };
  if (collection === 'events') return typeof r.reportedAt === 'string' ? r.reportedAt.slice(0, 10) : '';
  if (collection === 'timeline') return typeof r.at === 'string' ? r.at.slice(0, 10) : '';
  return '';
}

const idOf = (record: unknown): string => (record as { id: string }).id;

/** A collection's records cut into its chunks, each sorted by id (the same records: the same chunk, wherever they were loaded from). */
export function cutCollection(collection: CollectionName, records: readonly unknown[]): Map<string, unknown[]> {
  const groups = new Map<string, unknown[]>();
  for (const record of records) {
    const key = chunkKeyOf(collection, record);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(record);
  }
  for (const group of groups.values()) group.sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  return groups;
}

/** A chunk's hash and its stored bytes. */
export async function encodeChunk(records: readonly unknown[]): Promise<{ hash: string; data: Buffer; rawBytes: number }> {
  const json = JSON.stringify(records);
  const hash = createHash('sha256').update(json).digest('hex');
  const data = await gzipAsync(json);
  return { hash, data, rawBytes: Buffer.byteLength(json) };
}

/** A stored chunk's records; throws when the bytes are not what was stored under `hash`. */
export async function decodeChunk(hash: string, data: Buffer): Promise<{ records: unknown[]; rawBytes: number }> {
  const json = await gunzipAsync(data);
  if (createHash('sha256').update(json).digest('hex') !== hash) throw new Error(`checkpoint chunk ${hash.slice(0, 12)} is damaged (its content does not match its hash)`);
  const records = JSON.parse(json.toString('utf8')) as unknown;
  if (!Array.isArray(records)) throw new Error(`checkpoint chunk ${hash.slice(0, 12)} is not an array of records`);
  return { records, rawBytes: json.length };
}

/** Lets the event loop run between pieces of a long job. */
export const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
