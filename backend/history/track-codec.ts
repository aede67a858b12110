/**
 * A staff member's track over one hour of city time as a compact blob (the `tracks` table: one row per hour and
 * staff member; tracks.ts writes them). Little-endian varints throughout:
 *
 *   u8      format version (1)
 *   varint  the hour (hours since the epoch: a blob read as another hour's is refused)
 *   varint  point count n (≥ 1)
 *   first:  varint tenths of a second into the hour (< 36000), u8 status code (index into STAFF_STATUS_CODES),
 *           zigzag varint lon, zigzag varint lat (1e-6 degrees, absolute)
 *   next:   varint (Δt in tenths of a second << 1 | status changed), [u8 status code when changed],
 *           zigzag varint Δlon, zigzag varint Δlat (1e-6 degrees)
 *   u32     CRC-32 of all the bytes before it
 *
 * A walker's point 10 s after the last is about 5 bytes. Tenths of a second rather than seconds: a position heard
 * at 0.5 s past a second and filed under the whole second would be off by half a second of walking (2.5 m by bike). Decoding is strict: a blob that is cut, damaged (the
 * checksum), of another version, or that holds a point outside its hour, out of time order, off the globe or of an
 * unknown status is refused whole with a TrackCodecError naming what is wrong; nothing is half-read.
 */
import { crc32 } from 'node:zlib';
import { STAFF_STATUS_CODES } from '../../protocol';

/** A point of a track: city time (epoch ms, to the tenth of a second once stored), degrees, status code (STAFF_STATUS_CODES). */
export interface TrackPoint {
  t: number;
  lon: number;
  lat: number;
  code: number;
}

export const TRACK_FORMAT_VERSION = 1;
export const HOUR_MS = 3_600_000;
/** At most this many points in an hour (ten a second): refused beyond. */
export const TRACK_MAX_POINTS = 36_000;
/** The time unit stored: a tenth of a second. */
const TICK_MS = 100;
const TICKS_PER_HOUR = HOUR_MS / TICK_MS;
const E6 = 1e6;

export class TrackCodecError extends Error {
  override readonly name = 'TrackCodecError';
}

/** The city hour a time falls in (hours since the epoch, what the `tracks` table is keyed by). */
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS);
/** A point as stored: the time to the tenth of a second, the position to 1e-6 degrees (about 0.1 m). */
export const quantize = (p: TrackPoint): TrackPoint => ({ t: Math.round(p.t / TICK_MS) * TICK_MS, lon: Math.round(p.lon * E6) / E6, lat: Math.round(p.lat * E6) / E6, code: p.code });

class Writer {
  private buf = Buffer.alloc(256);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }
  /** A non-negative integer below 2^35 (arithmetic, not 32-bit bitwise). */
  varint(v: number): void {
    this.room(5);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }
  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  done(): Buffer {
    const body = this.buf.subarray(0, this.length);
    const out = Buffer.alloc(this.length + 4);
    body.copy(out);
    out.writeUInt32LE(crc32(body), this.length);
    return out;
  }
}

class Reader {
  offset = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly end: number,
  ) {}
  byte(what: string): number {
    if (this.offset >= this.end) throw new TrackCodecError(`track blob cut short: ${what} missing at byte ${this.offset}`);
    return this.bytes[this.offset++]!;
  }
  varint(what: string): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      const b = this.byte(what);
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return v;
      scale *= 0x80;
    }
    throw new TrackCodecError(`track blob damaged: ${what} at byte ${this.offset} is a varint longer than 5 bytes`);
  }
  zigzag(what: string): number {
    const v = this.varint(what);
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
}

const micro = (deg: number): number => Math.round(deg * E6);

/**
 * The blob of one hour's points (in time order, every one within `hour`; times are rounded to the tenth of a second and
 * positions to 1e-6 degrees, as quantize() does). Throws on points it cannot store faithfully.
 */
export function encodeTrack(hour: number, points: readonly TrackPoint[]): Buffer {
  if (!Number.isSafeInteger(hour) || hour < 0 || hour >= 2 ** 32) throw new TrackCodecError(`hour ${hour} is not an hour since the epoch`);
  if (points.length === 0) throw new TrackCodecError('a track needs at least one point');
  if (points.length > TRACK_MAX_POINTS) throw new TrackCodecError(`a track of ${points.length} points is more than ${TRACK_MAX_POINTS} in an hour`);
  const w = new Writer();
  w.byte(TRACK_FORMAT_VERSION);
  w.varint(hour);
  w.varint(points.length);
  const start = hour * TICKS_PER_HOUR;
  let prev: { s: number; x: number; y: number; code: number } | null = null;
  for (const [i, p] of points.entries()) {
    const s = Math.round(p.t / TICK_MS);
    const x = micro(p.lon);
    const y = micro(p.lat);
    if (!(s >= start && s < start + TICKS_PER_HOUR)) throw new TrackCodecError(`point ${i} at ${new Date(p.t).toISOString()} is not in hour ${hour}`);
    if (!(Math.abs(x) <= 180 * E6 && Math.abs(y) <= 90 * E6)) throw new TrackCodecError(`point ${i} (${p.lon}, ${p.lat}) is off the globe`);
    if (!(Number.isInteger(p.code) && p.code >= 0 && p.code < STAFF_STATUS_CODES.length)) throw new TrackCodecError(`point ${i} has status code ${p.code}, not in STAFF_STATUS_CODES`);
    if (!prev) {
      w.varint(s - start);
      w.byte(p.code);
      w.zigzag(x);
      w.zigzag(y);
    } else {
      if (s < prev.s) throw new TrackCodecError(`point ${i} is earlier than the one before it`);
      const changed = p.code !== prev.code;
      w.varint((s - prev.s) * 2 + (changed ? 1 : 0));
      if (changed) w.byte(p.code);
      w.zigzag(x - prev.x);
      w.zigzag(y - prev.y);
    }
    prev = { s, x, y, code: p.code };
  }
  return w.done();
}

/**
 * The points of a blob of `hour`, or a TrackCodecError. `expectedCount`: the count stored beside it (the row's
 * `n`), checked too.
 */
export function decodeTrack(hour: number, blob: Uint8Array, expectedCount?: number): TrackPoint[] {
  if (blob.length < 1 + 1 + 1 + 4 + 4) throw new TrackCodecError(`track blob of ${blob.length} bytes is too short to hold a point`);
  const end = blob.length - 4;
  const stored = Buffer.from(blob.buffer, blob.byteOffset, blob.length).readUInt32LE(end);
  if (crc32(blob.subarray(0, end)) !== stored) throw new TrackCodecError('track blob damaged: its checksum does not match');
  const r = new Reader(blob, end);
  const version = r.byte('version');
  if (version !== TRACK_FORMAT_VERSION) throw new TrackCodecError(`track blob of format version ${version}; this backend reads ${TRACK_FORMAT_VERSION}`);
  const own = r.varint('hour');
  if (own !== hour) throw new TrackCodecError(`track blob of hour ${own} read as hour ${hour}`);
  const n = r.varint('point count');
  if (n < 1 || n > TRACK_MAX_POINTS) throw new TrackCodecError(`track blob says ${n} points (1 to ${TRACK_MAX_POINTS})`);
  if (expectedCount !== undefined && expectedCount !== n) throw new TrackCodecError(`track blob holds ${n} points, its row says ${expectedCount}`);
  const start = hour * TICKS_PER_HOUR;
  const points: TrackPoint[] = [];
  let s = 0;
  let x = 0;
  let y = 0;
  let code = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0) {
      s = start + r.varint('first time');
      code = r.byte('first status');
      x = r.zigzag('first lon');
      y = r.zigzag('first lat');
    } else {
      const head = r.varint(`point ${i} time`);
      s += Math.floor(head / 2);
      if (head % 2 === 1) code = r.byte(`point ${i} status`);
      x += r.zigzag(`point ${i} lon`);
      y += r.zigzag(`point ${i} lat`);
    }
    if (s >= start + TICKS_PER_HOUR) throw new TrackCodecError(`track blob damaged: point ${i} falls after hour ${hour}`);
    if (code >= STAFF_STATUS_CODES.length) throw new TrackCodecError(`track blob damaged: point ${i} has status code ${code}`);
    if (Math.abs(x) > 180 * E6 || Math.abs(y) > 90 * E6) throw new TrackCodecError(`track blob damaged: point ${i} is off the globe`);
    points.push({ t: s * TICK_MS, lon: x / E6, lat: y / E6, code });
  }
  if (r.offset !== end) throw new TrackCodecError(`track blob damaged: ${end - r.offset} bytes left over after its ${n} points`);
  return points;
}
