/**
 * One camera's recording: its MPEG-TS packets as the encoder sends them (camera-streams.ts onPackets, never
 * encoded again) cut into segment files at the first video keyframe after at least `segmentMs` (10 s), each file
 * led by the latest PAT and PMT so that it plays alone, written to `<dir>/<cameraId>/<YYYYMMDD>/<startWallMs>.ts`
 * and indexed (recording-index.ts) with its wall and city start. Nothing is written before the first keyframe.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { TS_PACKET, TsTables } from './ts-gop';
import { segmentFile, type RecordingIndex } from './recording-index';

/** A segment shorter than this (an encoder that ended right after a keyframe) is dropped. */
const MIN_SEGMENT_MS = 200;

export interface SegmenterOptions {
  dir: string;
  cameraId: string;
  index: RecordingIndex;
  /** A segment is cut at the first keyframe after this long (default 10 s). */
  segmentMs?: number;
  /** The city's clock and its rate, read when a segment starts. */
  cityNow(): number;
  rate(): number;
  wallNow?: () => number;
  /** A segment was closed (the recorder's retention counts its bytes). */
  closed?: (cameraId: string, startWallMs: number, bytes: number) => void;
  /** Writing failed (disk full, directory gone): the segment is closed and the next keyframe starts another. */
  failed?: (error: Error) => void;
}

interface OpenSegment {
  startWallMs: number;
  fd: number;
  bytes: number;
  lastWallMs: number;
}

export class Segmenter {
  private readonly tables = new TsTables();
  private current: OpenSegment | null = null;
  private pending: Buffer[] = [];
  private readonly segmentMs: number;
  private readonly wallNow: () => number;

  constructor(private readonly o: SegmenterOptions) {
    this.segmentMs = o.segmentMs ?? 10_000;
    this.wallNow = o.wallNow ?? Date.now;
  }

  /** Whether a segment is being written now. */
  get recording(): boolean {
    return this.current !== null;
  }

  /** Whole TS packets from the encoder (what TsGopCache.push returns). */
  push(packets: Buffer): void {
    const now = this.wallNow();
    for (let at = 0; at + TS_PACKET <= packets.length; at += TS_PACKET) {
      const packet = packets.subarray(at, at + TS_PACKET);
      if (packet[0] !== 0x47) continue;
      const keyframe = this.tables.see(packet);
      if (keyframe && this.current && now - this.current.startWallMs >= this.segmentMs) this.close(now);
      if (keyframe && !this.current && this.tables.ready) this.open(now);
      if (this.current) this.pending.push(packet);
    }
    this.flush(now);
  }

  /** The encoder ended (or the recording stops): the open segment is closed. */
  end(): void {
    this.flush(this.wallNow());
    if (this.current) this.close(this.current.lastWallMs);
    // A new encoder starts its own tables: wait for them.
    this.tables.reset();
  }

  private open(now: number): void {
    const file = segmentFile(this.o.dir, this.o.cameraId, now);
    let fd: number | null = null;
    try {
      mkdirSync(dirname(file), { recursive: true });
      fd = openSync(file, 'w');
      this.o.index.open({ cameraId: this.o.cameraId, startWallMs: now, startCityMs: Math.round(this.o.cityNow()), rate: this.o.rate() });
      this.current = { startWallMs: now, fd, bytes: 0, lastWallMs: now };
      this.pending.push(this.tables.pat!, this.tables.pmt!);
    } catch (e) {
      // Not indexed (disk full): no file left behind either, as retention only deletes what the index holds.
      if (fd !== null) {
        tryTo(() => closeSync(fd!));
        tryTo(() => rmSync(file, { force: true }));
      }
      this.o.failed?.(e as Error);
    }
  }

  private flush(now: number): void {
    if (!this.current || this.pending.length === 0) return void (this.pending = []);
    const data = Buffer.concat(this.pending);
    this.pending = [];
    try {
      // A short write (disk nearly full) goes on from where it stopped; none at all is a failure.
      for (let at = 0; at < data.length; ) {
        const n = writeSync(this.current.fd, data, at);
        if (n <= 0) throw new Error('写入中断 / short write');
        at += n;
        this.current.bytes += n;
      }
      this.current.lastWallMs = now;
    } catch (e) {
      this.o.failed?.(e as Error);
      this.close(now);
    }
  }

  private close(now: number): void {
    this.flush(now);
    const segment = this.current;
    if (!segment) return;
    this.current = null;
    try {
      closeSync(segment.fd);
    } catch {
      /* already gone: the index still says what was written */
    }
    try {
      if (now - segment.startWallMs < MIN_SEGMENT_MS) {
        // The encoder ended just after a keyframe: a picture with no length to play is not kept.
        this.o.index.remove(this.o.cameraId, segment.startWallMs);
        rmSync(segmentFile(this.o.dir, this.o.cameraId, segment.startWallMs), { force: true });
        return;
      }
      this.o.index.finish(this.o.cameraId, segment.startWallMs, { endWallMs: now, bytes: segment.bytes, status: segment.bytes > 0 ? 'ok' : 'corrupt', note: segment.bytes > 0 ? null : '录像为空 / empty segment' });
    } catch (e) {
      // The index could not be written (disk full): the row stays open, judged by recoverOpen at the next start.
      return this.o.failed?.(e as Error);
    }
    this.o.closed?.(this.o.cameraId, segment.startWallMs, segment.bytes);
  }
}

function tryTo(work: () => void): void {
  try {
    work();
  } catch {
    /* best effort: the caller reports the first failure */
  }
}
