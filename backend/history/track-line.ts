/**
 * Tracks as lines in time: the simplification the recorder applies to what it samples (tracks.ts), and the
 * position at a time T read back from the kept points (the /history/positions route, replay).
 *
 * Simplification is an opening window judged in time as well as space (the synchronized Euclidean distance):
 * a sampled point may be dropped only while it lies within `toleranceM` of where the straight line from the last
 * kept point to the newest one puts the walker *at that point's time*. So the
 * position read back at any sampled time is within the tolerance of the sample, even where a walker stopped
 * on a straight line. A status change is always kept, and no line spans more than `maxSpanMs` (2 min): a longer
 * span between two kept points is a real gap (nothing was heard from them), which positionAt() leaves out.
 */
import { STAFF_STATUS_CODES } from '../../protocol';
import type { TrackPoint } from './track-codec';

export const OFFLINE_CODE = STAFF_STATUS_CODES.indexOf('offline');
/** A point older than this before T says nothing about T (and no simplified line spans longer). */
export const TRACK_STALE_MS = 120_000;

/** Where the line from a to b puts the walker at time t (a's place before a, b's after b). */
export function along(a: TrackPoint, b: TrackPoint, t: number): [number, number] {
  const span = b.t - a.t;
  const f = span <= 0 ? 1 : Math.min(1, Math.max(0, (t - a.t) / span));
  return [a.lon + (b.lon - a.lon) * f, a.lat + (b.lat - a.lat) * f];
}

/** Metres per degree of latitude on the sphere @turf/turf measures on (radius 6,371,008.8 m). */
const M_PER_DEG = (6_371_008.8 * Math.PI) / 180;

/**
 * Metres between p and where the line a→b puts the walker at p's time, on the local scale at p's latitude: the
 * simplifier asks this for every point it holds at every position heard, and over a walker's few hundred metres it
 * agrees with @turf/turf's distance to well under a centimetre (the unit test), at a fraction of the cost.
 */
export function offLineMetres(a: TrackPoint, b: TrackPoint, p: TrackPoint): number {
  const [lon, lat] = along(a, b, p.t);
  return Math.hypot((lon - p.lon) * M_PER_DEG * Math.cos((p.lat * Math.PI) / 180), (lat - p.lat) * M_PER_DEG);
}

/** Half a 1e-6 degree step each way, as metres (the routes answer positions to 1e-6 degrees). */
const ANSWER_ROUNDING_M = 0.08;

export class TrackSimplifier {
  private readonly kept: TrackPoint[] = [];
  /** The points since the last kept one, the newest last (the line's open end). */
  private window: TrackPoint[] = [];
  private lastCode = -1;
  /** Points pushed (sampled). */
  pushed = 0;

  constructor(
    private readonly toleranceM: number,
    private readonly maxSpanMs = TRACK_STALE_MS,
  ) {}

  push(p: TrackPoint): void {
    this.pushed++;
    const changed = p.code !== this.lastCode;
    this.lastCode = p.code;
    const anchor = this.kept.at(-1);
    if (!anchor || this.toleranceM <= 0) {
      this.kept.push(p);
      return;
    }
    // Less the rounding of a position read back to 1e-6 degrees (up to 8 cm), so what is answered stays within the tolerance.
    const within = Math.max(0, this.toleranceM - ANSWER_ROUNDING_M);
    const fits = this.window.length > 0 && p.t - anchor.t <= this.maxSpanMs && this.window.every((w) => offLineMetres(anchor, p, w) <= within);
    if (!fits && this.window.length > 0) this.kept.push(this.window.at(-1)!);
    if (changed) {
      this.kept.push(p);
      this.window = [];
    } else if (fits) this.window.push(p);
    else this.window = [p];
  }

  /** The kept points and the open end: the track as it would be stored now. */
  points(): TrackPoint[] {
    return this.window.length > 0 ? [...this.kept, this.window.at(-1)!] : [...this.kept];
  }

  /** The newest point pushed. */
  last(): TrackPoint | undefined {
    return this.window.at(-1) ?? this.kept.at(-1);
  }
}

/** Every sampled point simplified at once (tests, the bench). */
export function simplify(points: readonly TrackPoint[], toleranceM: number, maxSpanMs = TRACK_STALE_MS): TrackPoint[] {
  const s = new TrackSimplifier(toleranceM, maxSpanMs);
  for (const p of points) s.push(p);
  return s.points();
}

/**
 * Where a track (points in time order) puts its staff member at T: between the points around T along the line,
 * at the last point when none follows yet. Null when the last point at or before T is older than `staleMs`, or
 * says offline, or there is none.
 */
export function positionAt(points: readonly TrackPoint[], t: number, staleMs = TRACK_STALE_MS): { lon: number; lat: number; code: number } | null {
  let lo = 0;
  let hi = points.length;
  // The first point after t.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.t <= t) lo = mid + 1;
    else hi = mid;
  }
  const prev = points[lo - 1];
  if (!prev || t - prev.t > staleMs || prev.code === OFFLINE_CODE) return null;
  const next = points[lo];
  const [lon, lat] = next ? along(prev, next, t) : [prev.lon, prev.lat];
  return { lon, lat, code: prev.code };
}
