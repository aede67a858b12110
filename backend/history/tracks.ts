/**
 * Staff tracks for replay (复盘回放), recorded by the instance that runs the city life (holds the store's lead)
 * from the positions relay's broadcast (index.ts): it sees the positions this instance makes (the simulator, its
 * phones) and, through the broker, those the other instances' phones send.
 *
 * - Sampling, per staff member: a point when at least `sampleS` city seconds have passed since the last one
 *   taken (default 1: every position heard, the simulator's once a second), or when the status changed. Going
 *   offline is not broadcast (offline staff have no position): the recorder looks at the state now and then and
 *   ends such a track with an offline point at the status change's time, where they were last.
 * - Simplification (track-line.ts): points within `toleranceM` (2 m) of the line, judged at their own time, are
 *   dropped; 0 keeps every point taken. Every position heard goes through it rather than one in 10 s: a walker's
 *   turn between two samples 10 s apart would be cut by up to tens of metres (bench/tracks.ts), while the line test
 *   on every position keeps the turns, drops the straight stretches and stores fewer bytes.
 * - Storage: the open hour of each staff member is held here and upserted whole (track-codec.ts) every `flushMs`
 *   (60 s wall) for those whose buffer changed, so a crash loses at most that; flushed on stop. What the store
 *   already held of an hour before a buffer's first point (a restart, a new leader) stays in front of it; the lead
 *   lost, the buffers are written once and dropped (a lead taken again looks the store up afresh). Hours
 *   older than the replay retention (`keepDays`) are pruned hourly, a bounded batch at a time.
 * - Reading (read()): the stored rows with the buffers held here laid over them (newer than what is stored).
 */
import type { CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import type { SimClock } from '../clock';
import type { BackendStore, TrackRow } from '../store/types';
import { STAFF_STATUS_CODES, type StaffStatus } from '../../protocol';
import { TrackCodecError, decodeTrack, encodeTrack, hourOf, quantize, type TrackPoint } from './track-codec';
import { OFFLINE_CODE, TrackSimplifier } from './track-line';
import { DAY_MS } from './retention';
import { yieldNow } from './chunks';

export interface TrackOptions {
  /** Metres a dropped point may lie off the kept line (default 2); 0 keeps every point sampled. */
  toleranceM?: number;
  /** City seconds between two points taken of one staff member, status changes aside (default 1: every position heard). */
  sampleS?: number;
  /** Wall ms between two writes of the changed buffers (default 60 s); 0: only when flush() is called (tests). */
  flushMs?: number;
}

export interface TrackStats {
  /** Positions seen, points taken (sampled, before simplification), rows written, rows that could not be encoded. */
  seen: number;
  sampled: number;
  rowsWritten: number;
  refusedRows: number;
}

interface Buffered {
  hour: number;
  staffId: string;
  line: TrackSimplifier;
  /** When the last point was taken (city ms) and its status code. */
  lastT: number;
  lastCode: number;
  dirty: boolean;
  /**
   * What the store held for this hour and staff member before this buffer's first point (written before a restart,
   * or by the instance that led before): kept in front of it, so a write never drops the hour's start. Undefined
   * until looked up (before the first write or read of the buffer).
   */
  before?: TrackPoint[];
}

const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_BATCH = 5000;
const PRUNE_ROUNDS = 40;
/** How often (city time) the recorder looks for staff gone offline. */
const OFFLINE_LOOK_MS = 10_000;

export class TrackRecorder {
  readonly toleranceM: number;
  readonly stats: TrackStats = { seen: 0, sampled: 0, rowsWritten: 0, refusedRows: 0 };
  /** The open hour of each staff member. */
  private readonly open = new Map<string, Buffered>();
  /** Hours closed since the last flush, still to be written (then dropped). */
  private closing: Buffered[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<number> | null = null;
  private prunedAt = -Infinity;
  private offlineLookAt = -Infinity;

  constructor(
    private readonly o: TrackOptions & {
      store: BackendStore;
      state: CityState;
      clock: SimClock;
      log: Logger;
      /** Days of city time kept (the replay retention). */
      keepDays: number;
      /** Whether this instance runs the city life now (only it records). */
      leading(): boolean;
    },
  ) {
    this.toleranceM = o.toleranceM ?? 2;
  }

  start(): void {
    const every = this.o.flushMs ?? 60_000;
    if (every > 0) this.timer ??= setInterval(() => void this.round(), every);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Positions broadcast at city time `at` (the relay's callback). */
  saw(at: string, items: ReadonlyArray<{ id: string; lon: number; lat: number; status: StaffStatus }>): void {
    if (!this.o.leading()) return this.leadLost();
    const t = Date.parse(at);
    if (!Number.isFinite(t)) return;
    const sampleMs = (this.o.sampleS ?? 1) * 1000;
    for (const item of items) {
      this.stats.seen++;
      const code = STAFF_STATUS_CODES.indexOf(item.status);
      if (code < 0 || !Number.isFinite(item.lon) || !Number.isFinite(item.lat)) continue;
      const point = quantize({ t, lon: item.lon, lat: item.lat, code });
      const last = this.open.get(item.id);
      if (last && code === last.lastCode && point.t - last.lastT < sampleMs) continue;
      this.take(item.id, point);
    }
    if (t - this.offlineLookAt >= OFFLINE_LOOK_MS) {
      this.offlineLookAt = t;
      this.endOffline(t, new Set(items.map((i) => i.id)));
    }
  }

  /**
   * Another instance leads now: what is held is written once and dropped, so that a lead taken again later starts
   * new buffers that look up the store again (a stale buffer would overwrite what the other instance recorded).
   */
  private leadLost(): void {
    if (this.open.size === 0) return;
    for (const b of this.open.values()) if (b.dirty) this.closing.push(b);
    this.open.clear();
    void this.flush();
  }

  /**
   * Staff tracked as on duty whom the state now says are offline (or gone), not among the positions just seen
   * (the status change is committed after its tick's positions): an offline point where they were last.
   */
  private endOffline(now: number, seen: ReadonlySet<string>): void {
    for (const b of this.open.values()) {
      if (b.lastCode === OFFLINE_CODE || seen.has(b.staffId)) continue;
      const staff = this.o.state.get('staff', b.staffId);
      if (staff && staff.status !== 'offline') continue;
      const changedAt = staff ? Date.parse(staff.updatedAt) : NaN;
      const last = b.line.last()!;
      // At the status change (when the record says it came after the last point), else now.
      const t = Number.isFinite(changedAt) && changedAt >= b.lastT && changedAt <= now ? changedAt : now;
      this.take(b.staffId, { t, lon: last.lon, lat: last.lat, code: OFFLINE_CODE });
    }
  }

  private take(staffId: string, raw: TrackPoint): void {
    const p = quantize(raw);
    const hour = hourOf(p.t);
    let b = this.open.get(staffId);
    if (b && p.t < b.line.last()!.t) return; // older than what is held (a late message): the track stays in time order
    if (b && b.hour !== hour) {
      if (b.dirty) this.closing.push(b);
      b = undefined;
    }
    if (!b) {
      b = { hour, staffId, line: new TrackSimplifier(this.toleranceM), lastT: p.t, lastCode: p.code, dirty: false };
      this.open.set(staffId, b);
    }
    b.line.push(p);
    b.lastT = p.t;
    b.lastCode = p.code;
    b.dirty = true;
    this.stats.sampled++;
  }

  /** The buffers that changed since the last write, as rows. */
  private rowsOf(buffers: Iterable<Buffered>): Array<{ row: TrackRow; buffer: Buffered }> {
    const out: Array<{ row: TrackRow; buffer: Buffered }> = [];
    for (const b of buffers) {
      const points = [...(b.before ?? []), ...b.line.points()];
      try {
        out.push({ row: { hour: b.hour, staffId: b.staffId, points: encodeTrack(b.hour, points), n: points.length }, buffer: b });
      } catch (e) {
        this.stats.refusedRows++;
        b.dirty = false;
        this.o.log.warn('a staff track could not be encoded: not kept', { staffId: b.staffId, hour: b.hour, error: (e as Error).message });
      }
    }
    return out;
  }

  /** The stored points of each buffer's hour from before its first point, looked up once per buffer. */
  private async lookUpBefore(buffers: readonly Buffered[]): Promise<void> {
    const byHour = new Map<number, Buffered[]>();
    for (const b of buffers) if (!b.before) (byHour.get(b.hour) ?? byHour.set(b.hour, []).get(b.hour)!).push(b);
    for (const [hour, list] of byHour) {
      const rows = new Map((await this.o.store.tracksIn(hour, hour, list.map((b) => b.staffId))).map((r) => [r.staffId, r]));
      for (const b of list) {
        const row = rows.get(b.staffId);
        const first = b.line.points()[0]!.t;
        b.before = [];
        if (!row) continue;
        try {
          b.before = decodeTrack(hour, row.points, row.n).filter((p) => p.t < first);
        } catch (e) {
          if (!(e instanceof TrackCodecError)) throw e;
          this.o.log.warn('a stored staff track is damaged: written anew from what is held', { staffId: b.staffId, hour, error: e.message });
        }
      }
    }
  }

  /** Writes the buffers changed since the last write (not re-entered); how many rows. */
  flush(): Promise<number> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    const run = async (): Promise<number> => {
      const closing = this.closing;
      this.closing = [];
      const changed = [...closing, ...[...this.open.values()].filter((b) => b.dirty)];
      for (const b of changed) b.dirty = false;
      try {
        await this.lookUpBefore(changed);
        const rows = this.rowsOf(changed);
        if (rows.length > 0) await this.o.store.putTracks(rows.map((r) => r.row));
        this.stats.rowsWritten += rows.length;
        return rows.length;
      } catch (e) {
        // Kept for the next write (a closed hour goes back to the closing list).
        for (const b of changed) {
          b.dirty = true;
          if (this.open.get(b.staffId) !== b) this.closing.push(b);
        }
        this.o.log.error('staff tracks not written: kept for the next try', { rows: changed.length, error: (e as Error).message });
        return 0;
      }
    };
    this.flushing = run().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** The timer's round: a write, and the retention at most once an hour (on the leader). */
  private async round(): Promise<void> {
    await this.flush();
    if (this.o.leading() && Date.now() - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = Date.now();
      await this.prune().catch((e: unknown) => this.o.log.error('staff tracks not pruned', { error: (e as Error).message }));
    }
  }

  /** Tracks of hours wholly older than the retention dropped now, in bounded batches; how many rows. */
  async prune(): Promise<number> {
    const beforeHour = hourOf(this.o.clock.nowMs() - this.o.keepDays * DAY_MS);
    let total = 0;
    for (let round = 0; round < PRUNE_ROUNDS; round++) {
      const n = await this.o.store.pruneTracks(beforeHour, PRUNE_BATCH);
      total += n;
      if (n < PRUNE_BATCH) break;
      await yieldNow();
    }
    if (total > 0) this.o.log.info('staff tracks pruned', { beforeHour, rows: total });
    return total;
  }

  /**
   * The points of the hours `hourFrom`..`hourTo` by staff member (in time order), of these staff only when given:
   * the stored rows, with what this instance holds and has not written yet laid over them. A damaged row is left
   * out (`damaged` counts them) rather than half-read.
   */
  async read(hourFrom: number, hourTo: number, staffIds?: readonly string[]): Promise<{ tracks: Map<string, TrackPoint[]>; rows: number; damaged: number }> {
    const byKey = new Map<string, TrackRow>();
    for (const row of await this.o.store.tracksIn(hourFrom, hourTo, staffIds)) byKey.set(`${row.staffId}\u0000${row.hour}`, row);
    const wanted = staffIds ? new Set(staffIds) : null;
    const held = [...this.closing, ...this.open.values()].filter((b) => b.dirty && b.hour >= hourFrom && b.hour <= hourTo && (!wanted || wanted.has(b.staffId)));
    await this.lookUpBefore(held);
    for (const { row } of this.rowsOf(held)) byKey.set(`${row.staffId}\u0000${row.hour}`, row);
    const tracks = new Map<string, TrackPoint[]>();
    let damaged = 0;
    for (const row of [...byKey.values()].sort((a, b) => a.hour - b.hour)) {
      let points: TrackPoint[];
      try {
        points = decodeTrack(row.hour, row.points, row.n);
      } catch (e) {
        if (!(e instanceof TrackCodecError)) throw e;
        damaged++;
        this.o.log.warn('a stored staff track is damaged: left out', { staffId: row.staffId, hour: row.hour, error: e.message });
        continue;
      }
      const list = tracks.get(row.staffId);
      if (list) list.push(...points);
      else tracks.set(row.staffId, points);
    }
    return { tracks, rows: byKey.size, damaged };
  }
}
