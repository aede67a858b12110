/**
 * Camera recording for 复盘回放 (the embedded backend's synthetic cameras): what flows through the camera streams
 * is cut into indexed segments (segmenter.ts, recording-index.ts), with no second encoder.
 * - Which cameras: every camera being watched (over the MPEG-TS WebSocket its encoder runs anyway: no extra cost;
 *   over HLS or WHEP its MPEG-TS source is pinned meanwhile, owners 'hls' and 'webrtc', index.ts); and, on the instance that
 *   runs the city life, every `pickEveryMs` (10 s), the configured ones (`--record-cameras`) and those within
 *   `radiusM` (300 m) of open events of severity ≥ `severity`, the most severe and newest first, at most `max`
 *   (16) pinned (camera-streams.ts pin: kept running with nobody watching).
 * - Retention, oldest first across cameras: by age (`days`, 7), by a quota (default min(20 GiB, 25 % of the free
 *   space at start)), and a free-space floor (2 GiB, fs.statfs); a deletion for space warns once an hour at most
 *   (「录像空间不足：已删除最早的录像（至 HH:MM）」, to every console).
 */
import { mkdirSync, rmdirSync, statfsSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { distanceMetres } from '../../domain';
import { VIDEO_PATH_PREFIX, type Camera, type GovEvent } from '../../protocol';
import type { Logger } from '../../node-util/logger';
import type { PacketListener } from './source-pins';
import { beijingHm } from '../beijing-time';
import { Segmenter } from './segmenter';
import { RecordingIndex, endCityMs, segmentFile, type SegmentRow } from './recording-index';

const GIB = 1024 ** 3;
const OWNER = 'recorder';

export interface RecorderOptions {
  /** Where the segments and index.sqlite live (default: `recordings` beside the SQLite file). */
  dir: string;
  radiusM?: number;
  severity?: number;
  cameras?: readonly string[];
  max?: number;
  days?: number;
  quotaBytes?: number;
  floorBytes?: number;
  /** Segment length (tests: short ones). */
  segmentMs?: number;
  pickEveryMs?: number;
  retentionEveryMs?: number;
}

export interface RecorderDeps {
  streams: {
    pin(cameraId: string, owner: string): { ok: true } | { ok: false; reason: string };
    unpin(cameraId: string, owner: string): void;
    onPackets(cameraId: string, listener: PacketListener): () => void;
  };
  cameras(): Iterable<Camera>;
  cameraById(id: string): Camera | undefined;
  events(): Iterable<GovEvent>;
  cityNow(): number;
  rate(): number;
  leading(): boolean;
  notice(level: 'warning', message: string): void;
  log: Logger;
  wallNow?: () => number;
  /** Free bytes where the recordings are (default fs.statfs). */
  freeBytes?: (dir: string) => number;
}

/** Only the backend's own test pictures are recorded here; a real platform records its cameras itself. */
export const ownCamera = (c: Camera): boolean => c.streams.some((s) => s.url.startsWith(VIDEO_PATH_PREFIX));

const statfsFree = (dir: string): number => {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
};


export class Recorder {
  readonly index: RecordingIndex;
  readonly quotaBytes: number;
  private readonly segmenters = new Map<string, Segmenter>();
  private readonly pins = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopTap: (() => void) | null = null;
  private lastWarnAt = -Infinity;
  /** The recordings' bytes (the index's sum, kept up to date here; read again at each periodic round). */
  private total: number;
  private readonly wallNow: () => number;
  private readonly freeBytes: (dir: string) => number;

  constructor(
    readonly o: RecorderOptions,
    private readonly d: RecorderDeps,
  ) {
    mkdirSync(o.dir, { recursive: true });
    this.index = new RecordingIndex(o.dir);
    this.wallNow = d.wallNow ?? Date.now;
    this.freeBytes = d.freeBytes ?? statfsFree;
    const recovered = this.index.recoverOpen();
    if (recovered.ok + recovered.corrupt > 0) d.log.warn('recordings left open by the last run checked', recovered);
    this.total = this.index.totalBytes();
    this.quotaBytes = o.quotaBytes ?? Math.min(20 * GIB, 0.25 * (this.freeBytes(o.dir) + this.total));
  }

  start(): void {
    this.stopTap = this.d.streams.onPackets('*', (cameraId, packets) => this.packets(cameraId, packets));
    const every = (ms: number, what: string, work: () => void): void => {
      const timer = setInterval(() => this.safely(what, work), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.o.pickEveryMs ?? 10_000, 'pick', () => this.pick());
    every(this.o.retentionEveryMs ?? 60_000, 'retention', () => this.retention());
    this.safely('pick', () => this.pick());
    this.safely('retention', () => this.retention());
  }

  /**
   * Work run from an encoder's stdout or a timer: an error there (the index's SQLite full, a directory gone)
   * would end the whole backend, so it is logged and the recorder tries again at the next packets or round.
   */
  private safely(what: string, work: () => void): void {
    try {
      work();
    } catch (e) {
      this.d.log.warn('recorder failed: retried at the next round', { what, error: (e as Error).message });
    }
  }

  private packets(cameraId: string, packets: Buffer | null): void {
    this.safely('segment', () => this.segment(cameraId, packets));
  }

  private segment(cameraId: string, packets: Buffer | null): void {
    let segmenter = this.segmenters.get(cameraId);
    if (packets === null) return segmenter?.end();
    if (!segmenter) {
      const camera = this.d.cameraById(cameraId);
      if (!camera || !ownCamera(camera)) return;
      segmenter = new Segmenter({
        dir: this.o.dir,
        cameraId,
        index: this.index,
        cityNow: this.d.cityNow,
        rate: this.d.rate,
        wallNow: this.wallNow,
        ...(this.o.segmentMs ? { segmentMs: this.o.segmentMs } : {}),
        closed: (_camera, _start, bytes) => this.afterSegment(bytes),
        failed: (e) => this.d.log.warn('recording write failed', { camera: cameraId, error: e.message }),
      });
      this.segmenters.set(cameraId, segmenter);
    }
    segmenter.push(packets);
  }

  /** After every segment: over the quota, the oldest go now rather than at the next round. */
  private afterSegment(bytes: number): void {
    this.total += bytes;
    if (this.total > this.quotaBytes) this.safely('retention', () => this.retention());
  }

  /** The cameras to keep recording with nobody watching (on the leading instance), pinned; the rest unpinned. */
  pick(): void {
    const wanted = this.d.leading() ? this.wanted() : [];
    const keep = new Set<string>();
    for (const id of wanted) {
      if (keep.size >= (this.o.max ?? 16)) break;
      // Pinned again each round (idempotent): an encoder whose restart gave up (offline then) is started again.
      const pinned = this.d.streams.pin(id, OWNER);
      if (pinned.ok) keep.add(id);
      else this.d.log.warn('camera not recorded', { camera: id, reason: pinned.reason });
    }
    for (const id of this.pins) if (!keep.has(id)) this.d.streams.unpin(id, OWNER);
    this.pins.clear();
    for (const id of keep) this.pins.add(id);
  }

  /** Configured cameras first, then those near open serious events (most severe, newest first). */
  private wanted(): string[] {
    const usable = (c: Camera | undefined): c is Camera => c !== undefined && c.online && ownCamera(c);
    const ids: string[] = (this.o.cameras ?? []).filter((id) => usable(this.d.cameraById(id)));
    const severity = this.o.severity ?? 3;
    const radius = this.o.radiusM ?? 300;
    const events = [...this.d.events()].filter((e) => e.severity >= severity && e.status !== 'closed' && e.status !== 'merged');
    if (events.length === 0) return ids;
    events.sort((a, b) => b.severity - a.severity || b.reportedAt.localeCompare(a.reportedAt));
    // A degree of latitude is ~111 km: a cheap box first, the great circle for what is inside it.
    const box = radius / 111_000;
    const cameras = [...this.d.cameras()].filter(usable);
    for (const e of events) {
      const lonBox = box / Math.max(0.2, Math.cos((e.location[1] * Math.PI) / 180));
      for (const c of cameras) {
        if (Math.abs(c.position[1] - e.location[1]) > box || Math.abs(c.position[0] - e.location[0]) > lonBox) continue;
        if (distanceMetres(c.position, e.location) <= radius && !ids.includes(c.id)) ids.push(c.id);
      }
      if (ids.length >= (this.o.max ?? 16)) break;
    }
    return ids;
  }

  /** The pinned cameras (tests, health). */
  get pinned(): string[] {
    return [...this.pins];
  }

  /** Deletes what is too old, then the oldest while over the quota or under the free-space floor. */
  retention(): { aged: number; forSpace: number } {
    const now = this.wallNow();
    const before = now - (this.o.days ?? 7) * 86_400_000;
    let aged = 0;
    for (let batch = this.index.oldest(500); batch.length > 0; batch = this.index.oldest(500)) {
      const old = batch.filter((s) => s.startWallMs < before);
      for (const s of old) this.delete(s);
      aged += old.length;
      if (old.length < batch.length) break;
    }
    let total = (this.total = this.index.totalBytes());
    let free: number;
    try {
      free = this.freeBytes(this.o.dir);
    } catch {
      free = Infinity;
    }
    const floor = this.o.floorBytes ?? 2 * GIB;
    let needFree = Math.max(0, floor - free);
    let forSpace = 0;
    let upTo: SegmentRow | null = null;
    while (total > this.quotaBytes || needFree > 0) {
      const batch = this.index.oldest(100);
      if (batch.length === 0) break;
      for (const s of batch) {
        if (!(total > this.quotaBytes || needFree > 0)) break;
        this.delete(s);
        total -= s.bytes;
        needFree = Math.max(0, needFree - s.bytes);
        forSpace++;
        upTo = s;
      }
    }
    this.total = total;
    if (aged > 0) this.d.log.info('old recordings deleted', { segments: aged, days: this.o.days ?? 7 });
    if (upTo) this.warnSpace(upTo, forSpace, total, free);
    return { aged, forSpace };
  }

  private warnSpace(upTo: SegmentRow, segments: number, total: number, free: number): void {
    const until = beijingHm(endCityMs(upTo));
    this.d.log.warn('recording space short: oldest recordings deleted', { segments, until, totalBytes: total, quotaBytes: this.quotaBytes, freeBytes: free });
    const now = this.wallNow();
    if (now - this.lastWarnAt < 3_600_000) return;
    this.lastWarnAt = now;
    this.d.notice('warning', `录像空间不足：已删除最早的录像（至 ${until}）`);
  }

  private delete(s: SegmentRow): void {
    const file = segmentFile(this.o.dir, s.cameraId, s.startWallMs);
    try {
      unlinkSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.d.log.warn('recording could not be deleted', { file, error: (e as Error).message });
    }
    this.index.remove(s.cameraId, s.startWallMs);
    try {
      rmdirSync(dirname(file)); // the day's folder, once empty
    } catch {
      /* not empty yet */
    }
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.stopTap?.();
    for (const segmenter of this.segmenters.values()) this.safely('stop', () => segmenter.end());
    for (const id of this.pins) this.d.streams.unpin(id, OWNER);
    this.pins.clear();
    this.safely('stop', () => this.index.close());
  }
}
