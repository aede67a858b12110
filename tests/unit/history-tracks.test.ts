/**
 * Staff tracks for replay, without a backend: the hour blob round-trips exactly (to the second and 1e-6°) at about
 * 5 bytes a point, a damaged blob is refused whole with the reason, and the simplification keeps every sampled
 * position within its tolerance when read back at the sample's own time (stops and turns included), keeps every
 * status change, and drops most of a straight walk.
 */
import { describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { distance } from '@turf/turf';
import { STAFF_STATUS_CODES } from '../../protocol';
import { TrackCodecError, decodeTrack, encodeTrack, hourOf, quantize, type TrackPoint } from '../../backend/history/track-codec';
import { OFFLINE_CODE, offLineMetres, positionAt, simplify } from '../../backend/history/track-line';

const HOUR = 495_000; // an hour since the epoch (2026)
const T0 = HOUR * 3_600_000;
/** The hour as its blob's varint. */
const HOUR_BYTES = [HOUR % 128 | 0x80, (HOUR >> 7) % 128 | 0x80, HOUR >> 14];
const PATROL = STAFF_STATUS_CODES.indexOf('patrolling');
const HANDLING = STAFF_STATUS_CODES.indexOf('handling');
const metres = (a: { lon: number; lat: number }, b: { lon: number; lat: number }): number => distance([a.lon, a.lat], [b.lon, b.lat], { units: 'meters' });

/** A walker's hour: legs of random heading and speed (stops too), a status that changes now and then, sampled every `everyS`. */
const walk = fc
  .record({
    legs: fc.array(fc.record({ seconds: fc.integer({ min: 5, max: 400 }), heading: fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }), speed: fc.constantFrom(0, 0.5, 1.2, 1.5, 4), code: fc.constantFrom(PATROL, PATROL, PATROL, HANDLING) }), { minLength: 1, maxLength: 20 }),
    everyS: fc.constantFrom(1, 10, 60),
  })
  .map(({ legs, everyS }) => {
    const points: TrackPoint[] = [];
    let lon = 118.1;
    let lat = 24.5;
    let t = 0;
    for (const leg of legs) {
      for (let s = 0; s < leg.seconds && t < 3600; s += everyS, t += everyS) {
        points.push(quantize({ t: T0 + t * 1000, lon, lat, code: leg.code }));
        lon += (Math.cos(leg.heading) * leg.speed * everyS) / (111_320 * Math.cos((lat * Math.PI) / 180));
        lat += (Math.sin(leg.heading) * leg.speed * everyS) / 110_574;
      }
    }
    return points;
  });

describe('track blobs', () => {
  it('round-trip exactly, to the tenth of a second and to 1e-6 degrees', () => {
    fc.assert(
      fc.property(walk, (points) => {
        expect(decodeTrack(HOUR, encodeTrack(HOUR, points), points.length)).toEqual(points);
      }),
      { numRuns: 200 },
    );
    // Quantized on the way in: to the tenth of a second, 1e-7 degrees drop.
    const [p, q] = decodeTrack(HOUR, encodeTrack(HOUR, [{ t: T0 + 1449, lon: 118.12345678, lat: -24.00000049, code: OFFLINE_CODE }, { t: T0 + 3_599_949, lon: 0, lat: 0, code: 0 }]));
    expect(p).toEqual({ t: T0 + 1400, lon: 118.123457, lat: -24, code: OFFLINE_CODE });
    expect(q!.t).toBe(T0 + 3_599_900);
  });

  it('holds a walker at 10 s in about 5 bytes a point', () => {
    const points = Array.from({ length: 360 }, (_, i) => ({ t: T0 + i * 10_000, lon: 118.1 + i * 1.3e-4, lat: 24.5 + i * 0.6e-4, code: PATROL }));
    const blob = encodeTrack(HOUR, points);
    expect(blob.length / points.length).toBeLessThanOrEqual(5.5);
  });

  it('refuses a damaged blob whole, naming what is wrong', () => {
    const points = [0, 10, 20, 31].map((s, i) => ({ t: T0 + s * 1000, lon: 118.1 + i * 1e-4, lat: 24.5, code: i === 2 ? HANDLING : PATROL }));
    const blob = encodeTrack(HOUR, points);
    const resealed = (body: Buffer): Buffer => {
      const out = Buffer.alloc(body.length + 4);
      body.copy(out);
      out.writeUInt32LE(crc32(body), body.length);
      return out;
    };
    const body = blob.subarray(0, blob.length - 4);
    const flipped = Buffer.from(blob);
    flipped.writeUInt8(flipped.readUInt8(5) ^ 0x10, 5);
    const cases: Array<[Uint8Array, RegExp, number?]> = [
      [blob.subarray(0, blob.length - 1), /checksum/],
      [flipped, /checksum/],
      [Buffer.alloc(3), /too short/],
      [resealed(Buffer.concat([Buffer.from([2]), body.subarray(1)])), /format version 2/],
      [resealed(Buffer.concat([body, Buffer.from([0])])), /1 bytes left over/],
      [resealed(body.subarray(0, body.length - 1)), /cut short/],
      [resealed(Buffer.concat([Buffer.from([1, ...HOUR_BYTES, 9]), body.subarray(2 + HOUR_BYTES.length)])), /cut short/],
      [blob, /holds 4 points, its row says 5/, 5],
      [resealed(Buffer.from([1, ...HOUR_BYTES, 1, 0xc0, 0xb8, 0x02, 0, 0, 0])), /after hour/],
      [resealed(Buffer.from([1, ...HOUR_BYTES, 1, 0, 9, 0, 0])), /status code 9/],
      [resealed(Buffer.from([1, ...HOUR_BYTES, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0])), /off the globe/],
      [resealed(Buffer.from([1, ...HOUR_BYTES, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])), /longer than 5 bytes/],
    ];
    for (const [bytes, reason, n] of cases) expect(() => decodeTrack(HOUR, bytes, n), reason.source).toThrow(reason);
    for (const [bytes, , n] of cases) expect(() => decodeTrack(HOUR, bytes, n)).toThrow(TrackCodecError);
    // Read as another hour's (a row whose key and blob disagree).
    expect(decodeTrack(HOUR, blob)).toHaveLength(4);
    expect(() => decodeTrack(HOUR - 1, blob)).toThrow(/of hour 495000 read as hour 494999/);
  });

  it('refuses to encode what it cannot hold faithfully', () => {
    const p = { t: T0, lon: 118, lat: 24, code: PATROL };
    expect(() => encodeTrack(HOUR, [])).toThrow(/at least one point/);
    expect(() => encodeTrack(HOUR, [{ ...p, t: T0 + 3_600_000 }])).toThrow(/not in hour/);
    expect(() => encodeTrack(HOUR, [{ ...p, t: T0 + 5000 }, p])).toThrow(/earlier than the one before/);
    expect(() => encodeTrack(HOUR, [{ ...p, lon: 181 }])).toThrow(/off the globe/);
    expect(() => encodeTrack(HOUR, [{ ...p, code: 7 }])).toThrow(/status code 7/);
    expect(hourOf(T0 + 3_599_999)).toBe(HOUR);
  });
});

describe('track simplification', () => {
  it('reads every sampled position back within the tolerance at its own time, and keeps every status change', () => {
    fc.assert(
      fc.property(walk, fc.constantFrom(1, 2, 5), (sampled, tolerance) => {
        const kept = simplify(sampled, tolerance);
        const keptTimes = new Set(kept.map((p) => p.t));
        for (const p of sampled) {
          const at = positionAt(kept, p.t)!;
          expect(at, `${p.t}`).not.toBeNull();
          expect(metres(at, p)).toBeLessThanOrEqual(tolerance + 0.01);
          expect(at.code).toBe(p.code);
        }
        for (let i = 1; i < sampled.length; i++) if (sampled[i]!.code !== sampled[i - 1]!.code) expect(keptTimes.has(sampled[i]!.t)).toBe(true);
        // No line spans more than 2 minutes where samples were closer: a longer one would read as a gap.
        for (let i = 1; i < kept.length; i++) expect(kept[i]!.t - kept[i - 1]!.t).toBeLessThanOrEqual(120_000);
        expect(kept[0]).toEqual(sampled[0]);
        expect(kept.at(-1)).toEqual(sampled.at(-1));
      }),
      { numRuns: 200 },
    );
  });

  it('measures off the line as @turf/turf does, to the centimetre over a walker’s reach', () => {
    fc.assert(
      fc.property(fc.double({ min: -60, max: 60, noNaN: true }), fc.double({ min: -0.005, max: 0.005, noNaN: true }), fc.double({ min: -0.005, max: 0.005, noNaN: true }), (lat, dlon, dlat) => {
        const a = { t: T0, lon: 118, lat, code: PATROL };
        const p = { t: T0, lon: 118 + dlon, lat: lat + dlat, code: PATROL };
        expect(Math.abs(offLineMetres(a, { ...a, t: T0 + 1000 }, p) - metres(a, p))).toBeLessThan(0.01);
      }),
    );
  });

  it('drops most of a straight walk, keeps a turn, and keeps everything at tolerance 0', () => {
    const straight = Array.from({ length: 360 }, (_, i) => quantize({ t: T0 + i * 10_000, lon: 118.1 + (i < 200 ? i : 200) * 1.2e-4, lat: 24.5 + (i < 200 ? 0 : i - 200) * 1.1e-4, code: PATROL }));
    const kept = simplify(straight, 2);
    // One point at least every 2 minutes (30 in the hour), and the turn.
    expect(kept.length).toBeLessThanOrEqual(40);
    expect(kept.map((p) => p.t)).toContain(T0 + 200 * 10_000);
    expect(simplify(straight, 0)).toEqual(straight);
  });

  it('places nobody from a point older than 2 minutes, nor anyone offline', () => {
    const points = [
      { t: T0, lon: 118, lat: 24, code: PATROL },
      { t: T0 + 60_000, lon: 118.001, lat: 24, code: PATROL },
      { t: T0 + 120_000, lon: 118.001, lat: 24, code: OFFLINE_CODE },
      { t: T0 + 600_000, lon: 118.002, lat: 24, code: PATROL },
    ];
    expect(positionAt(points, T0 - 1)).toBeNull();
    const near = (at: ReturnType<typeof positionAt>, lon: number): void => {
      expect(at?.code).toBe(PATROL);
      expect(at!.lon).toBeCloseTo(lon, 9);
      expect(at!.lat).toBe(24);
    };
    near(positionAt(points, T0 + 30_000), 118.0005);
    near(positionAt(points, T0 + 90_000), 118.001);
    expect(positionAt(points, T0 + 120_000)).toBeNull();
    expect(positionAt(points, T0 + 300_000)).toBeNull();
    near(positionAt(points, T0 + 600_000 + 120_000), 118.002);
    expect(positionAt(points, T0 + 600_000 + 120_001)).toBeNull();
  });
});
