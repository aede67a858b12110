/**
 * The binary positions frame: what goes in comes out (odd and Chinese ids, the ends of the coordinate ranges,
 * every status code), split under the frame limit like the JSON form, and every malformed input — each
 * truncation of a valid frame, another type or version, a count its bytes cannot hold, bytes left over, an
 * oversized frame, invalid UTF-8 — is a typed error, never an exception.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_FRAME_BYTES,
  POSITIONS_BINARY_HEADER_BYTES,
  POSITIONS_BINARY_TYPE,
  POSITIONS_BINARY_VERSION,
  PositionsPayload,
  STAFF_STATUS_CODES,
  WireProtocolError,
  decodePositionsBinary,
  encodeFrame,
  encodePositionsBinary,
  utf8ByteLength,
} from '../../protocol';

const AT = '2025-03-01T08:30:15.123Z';

function encodeOne(payload: PositionsPayload, maxBytes?: number): Uint8Array {
  const encoded = encodePositionsBinary(payload, maxBytes);
  if (!encoded.ok) throw encoded.error;
  expect(encoded.frames).toHaveLength(1);
  return encoded.frames[0]!;
}

function decodeOk(bytes: Uint8Array): PositionsPayload {
  const decoded = decodePositionsBinary(bytes);
  if (!decoded.ok) throw decoded.error;
  return decoded.payload;
}

function decodeError(bytes: Uint8Array, maxBytes?: number): WireProtocolError {
  const decoded = decodePositionsBinary(bytes, maxBytes);
  expect(decoded.ok).toBe(false);
  if (decoded.ok) throw new Error('decoded');
  expect(decoded.error).toBeInstanceOf(WireProtocolError);
  return decoded.error;
}

const sample: PositionsPayload = {
  at: AT,
  items: [
    ['s00001', 117.1234567, 36.6543210, 0],
    ['网格员-张三', 116.397428, 39.90923, 1],
    ['👮‍♀️ 巡查', -0.1276, 51.5072, 2],
    ['\uFEFFbom-first', 0, 0, 3],
    ['nul\u0000inside', 1e-7, -1e-7, 0],
    ['a'.repeat(255), 180, 90, 1],
    ['长'.repeat(85), -180, -90, 2], // 255 bytes of UTF-8
  ],
};

describe('binary positions: round trip', () => {
  it('gives back the JSON form: odd and Chinese ids, both ends of each range, every status code', () => {
    const bytes = encodeOne(sample);
    expect(bytes[0]).toBe(POSITIONS_BINARY_TYPE);
    expect(bytes[1]).toBe(POSITIONS_BINARY_VERSION);
    const back = decodeOk(bytes);
    expect(back).toEqual(sample);
    expect(PositionsPayload.safeParse(back).success).toBe(true);
    expect(new Set(back.items.map((i) => i[3]))).toEqual(new Set(STAFF_STATUS_CODES.map((_, i) => i)));
  });

  it('reads the layout the protocol page documents, byte by byte', () => {
    const bytes = encodeOne({ at: '1970-01-01T00:00:01.000Z', items: [['ab', 1.5, -2.25, 3]] });
    expect([...bytes]).toEqual([
      0x50, 0x01, // type 'P', format version 1
      0xe8, 0x03, 0, 0, 0, 0, 0, 0, // at: 1000 ms, u64 little-endian
      1, 0, 0, 0, // count
      2, 0x61, 0x62, // id: length, UTF-8
      ...[15_000_000, -22_500_000].flatMap((v) => {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setInt32(0, v, true);
        return [...b];
      }),
      3, // status
    ]);
  });

  it('an empty payload is a header alone', () => {
    const bytes = encodeOne({ at: AT, items: [] });
    expect(bytes.byteLength).toBe(POSITIONS_BINARY_HEADER_BYTES);
    expect(decodeOk(bytes)).toEqual({ at: AT, items: [] });
  });

  it('brings an ISO time with an offset back as the same instant in UTC', () => {
    expect(decodeOk(encodeOne({ at: '2025-03-01T16:30:15.123+08:00', items: [] })).at).toBe(AT);
  });

  it('keeps coordinates with up to 7 decimals exactly and rounds finer ones to 1e-7 degrees', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_800_000_000, max: 1_800_000_000 }), fc.integer({ min: -900_000_000, max: 900_000_000 }), (lonE7, latE7) => {
        const lon = lonE7 / 1e7;
        const lat = latE7 / 1e7;
        const [item] = decodeOk(encodeOne({ at: AT, items: [['x', lon, lat, 0]] })).items;
        expect(item).toEqual(['x', lon, lat, 0]);
      }),
    );
    const [item] = decodeOk(encodeOne({ at: AT, items: [['x', 117.123456789, 36.000000049, 0]] })).items;
    expect(item![1]).toBe(117.1234568);
    expect(item![2]).toBe(36);
  });

  it('round-trips any valid payload (property)', () => {
    const id = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => utf8ByteLength(s) <= 255);
    const row = fc.tuple(id, fc.integer({ min: -1_800_000_000, max: 1_800_000_000 }), fc.integer({ min: -900_000_000, max: 900_000_000 }), fc.integer({ min: 0, max: 3 }));
    fc.assert(
      fc.property(fc.array(row, { maxLength: 50 }), fc.date({ min: new Date(0), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (rows, date) => {
        const payload: PositionsPayload = { at: date.toISOString(), items: rows.map(([i, lon, lat, s]) => [i, lon / 1e7, lat / 1e7, s]) };
        expect(decodeOk(encodeOne(payload))).toEqual(payload);
      }),
    );
  });

  it('splits under the frame limit into complete frames with the same time, in order', () => {
    const items: PositionsPayload['items'] = Array.from({ length: 50_000 }, (_, i) => [`s${String(i).padStart(5, '0')}`, 117 + i * 1e-6, 36 + i * 1e-6, i % 4]);
    const encoded = encodePositionsBinary({ at: AT, items }, 64 * 1024);
    if (!encoded.ok) throw encoded.error;
    expect(encoded.frames.length).toBeGreaterThan(10);
    for (const frame of encoded.frames) expect(frame.byteLength).toBeLessThanOrEqual(64 * 1024);
    const back = encoded.frames.map(decodeOk);
    expect(back.every((p) => p.at === AT)).toBe(true);
    expect(back.flatMap((p) => p.items)).toEqual(items.map(([i, lon, lat, s]) => [i, Math.round(lon * 1e7) / 1e7, Math.round(lat * 1e7) / 1e7, s]));
    // At the real limit 50,000 positions are one frame, well under half the JSON form's bytes.
    const one = encodeOne({ at: AT, items });
    expect(one.byteLength).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(one.byteLength * 2).toBeLessThan(utf8ByteLength(JSON.stringify({ v: 1, type: 'staff.positions', payload: { at: AT, items } })));
  });

  it('leaves no frame over the limit even with every id at its longest', () => {
    const items: PositionsPayload['items'] = Array.from({ length: 5000 }, (_, i) => [`${'长'.repeat(80)}${String(i).padStart(5, '0')}`, 117, 36, 0]);
    const encoded = encodePositionsBinary({ at: AT, items });
    if (!encoded.ok) throw encoded.error;
    expect(encoded.frames.length).toBeGreaterThan(1);
    for (const frame of encoded.frames) expect(frame.byteLength).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(encoded.frames.flatMap((f) => decodeOk(f).items)).toEqual(items);
  });
});

describe('binary positions: what the layout cannot carry is refused when encoding (the sender sends JSON)', () => {
  it.each<[string, PositionsPayload['items'][number]]>([
    ['an empty id', ['', 117, 36, 0]],
    ['an id of 256 bytes', ['a'.repeat(256), 117, 36, 0]],
    ['an id of 86 Chinese characters (258 bytes)', ['长'.repeat(86), 117, 36, 0]],
    ['an id with a lone surrogate', ['s\uD800x', 117, 36, 0]],
    ['a longitude past 180', ['s1', 180.0000001, 36, 0]],
    ['a latitude past -90', ['s1', 117, -90.5, 0]],
    ['NaN', ['s1', NaN, 36, 0]],
    ['Infinity', ['s1', 117, Infinity, 0]],
    ['status 4', ['s1', 117, 36, 4]],
    ['status -1', ['s1', 117, 36, -1]],
    ['status 1.5', ['s1', 117, 36, 1.5]],
  ])('%s', (_what, row) => {
    const encoded = encodePositionsBinary({ at: AT, items: [['ok', 1, 1, 0], row] });
    expect(encoded.ok).toBe(false);
    if (!encoded.ok) expect(encoded.error.code).toBe('invalid');
  });

  it('a time before 1970 or not a time at all', () => {
    for (const at of ['1969-12-31T23:59:59.999Z', 'yesterday']) expect(encodePositionsBinary({ at, items: [] }).ok).toBe(false);
  });

  it('a frame limit too small for one item', () => {
    expect(encodePositionsBinary({ at: AT, items: [] }, 100).ok).toBe(false);
  });
});

describe('binary positions: bad input is a typed error, never an exception', () => {
  const valid = encodeOne(sample);

  it('every truncation of a valid frame', () => {
    for (let n = 0; n < valid.byteLength; n++) {
      const error = decodeError(valid.subarray(0, n));
      expect(error.code, `cut at ${n}`).toBe('malformed');
    }
  });

  it('bytes after the last item', () => {
    const longer = new Uint8Array(valid.byteLength + 1);
    longer.set(valid);
    expect(decodeError(longer).message).toMatch(/1 bytes after its 7 items/);
  });

  it("another type byte (a JSON frame's first byte included)", () => {
    for (const first of [0x00, 0x7b, 0x51, 0xff]) {
      const other = valid.slice();
      other[0] = first;
      expect(decodeError(other).code).toBe('malformed');
    }
  });

  it('another format version is unsupported', () => {
    for (const version of [0, 2, 255]) {
      const other = valid.slice();
      other[1] = version;
      expect(decodeError(other).code).toBe('unsupported-version');
    }
  });

  it('a count larger than the bytes can hold is refused before anything is built for it', () => {
    for (const count of [8, 1000, 0xffffffff]) {
      const other = valid.slice();
      new DataView(other.buffer).setUint32(10, count, true);
      expect(decodeError(other).message).toMatch(/cannot hold|cut inside|after its/);
    }
    // A header claiming 4 billion items and nothing else.
    const header = new Uint8Array(POSITIONS_BINARY_HEADER_BYTES);
    header.set([POSITIONS_BINARY_TYPE, POSITIONS_BINARY_VERSION]);
    new DataView(header.buffer).setUint32(10, 0xffffffff, true);
    expect(decodeError(header).message).toMatch(/claims 4294967295 items/);
  });

  it('a count smaller than the items is bytes left over', () => {
    const other = valid.slice();
    new DataView(other.buffer).setUint32(10, 6, true);
    expect(decodeError(other).message).toMatch(/bytes after its 6 items/);
  });

  it('an oversized frame, before reading it', () => {
    const big = new Uint8Array(MAX_FRAME_BYTES + 1);
    big.set(valid);
    expect(decodeError(big).code).toBe('frame-too-large');
    expect(decodeError(valid, valid.byteLength - 1).code).toBe('frame-too-large');
  });

  it('a time past year 9999, an empty id, invalid UTF-8, coordinates and status out of range', () => {
    const one = encodeOne({ at: AT, items: [['ab', 1, 1, 0]] });
    const at = one.slice();
    new DataView(at.buffer).setBigUint64(2, 253_402_300_800_000n, true);
    expect(decodeError(at).message).toMatch(/past year 9999/);
    const idStart = POSITIONS_BINARY_HEADER_BYTES;
    const empty = new Uint8Array([...one.subarray(0, idStart), 0, ...one.subarray(idStart + 3), 0, 0]);
    expect(decodeError(empty).message).toMatch(/empty staff id/);
    for (const bad of [[0xff, 0x61], [0xe9, 0x95], [0xc0, 0x80], [0xed, 0xa0]]) {
      const utf = one.slice();
      utf.set(bad, idStart + 1);
      expect(decodeError(utf).message).toMatch(/not UTF-8/);
    }
    const lonAt = idStart + 3;
    for (const [offset, value] of [[lonAt, 1_800_000_001], [lonAt, -1_800_000_001], [lonAt + 4, 900_000_001], [lonAt + 4, -(2 ** 31)]] as const) {
      const range = one.slice();
      new DataView(range.buffer).setInt32(offset, value, true);
      expect(decodeError(range).message).toMatch(/out of range/);
    }
    const status = one.slice();
    status[lonAt + 8] = 4;
    expect(decodeError(status).message).toMatch(/status code 4/);
  });

  it('reads a frame at an offset inside a larger buffer (as Node hands received bytes)', () => {
    const pool = new Uint8Array(valid.byteLength + 37);
    pool.set(valid, 37);
    expect(decodeOk(pool.subarray(37))).toEqual(sample);
  });

  it('not bytes at all', () => {
    expect(decodePositionsBinary('PQ' as unknown as Uint8Array).ok).toBe(false);
    expect(decodePositionsBinary(null as unknown as Uint8Array).ok).toBe(false);
  });

  it('random bytes and random mutations of a valid frame: an error or a valid payload, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
        const decoded = decodePositionsBinary(junk);
        if (decoded.ok) expect(PositionsPayload.safeParse(decoded.payload).success).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: valid.byteLength - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
        const mutated = valid.slice();
        for (const [at, value] of edits) mutated[at] = value;
        const decoded = decodePositionsBinary(mutated);
        if (decoded.ok) expect(PositionsPayload.safeParse(decoded.payload).success).toBe(true);
      }),
    );
  });
});

describe('the JSON form stays the readable one', () => {
  it('the same payload as a staff.positions JSON frame, for comparison', () => {
    const json = encodeFrame('staff.positions', sample);
    expect(PositionsPayload.parse((JSON.parse(json) as { payload: unknown }).payload)).toEqual(sample);
    expect(encodeOne(sample).byteLength).toBeLessThan(utf8ByteLength(json));
  });
});
