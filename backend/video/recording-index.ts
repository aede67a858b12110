/**
 * The index of the recorded camera segments: a small SQLite beside the files (`<recordings dir>/index.sqlite`),
 * not in the city's store, because the files are local to the instance that recorded them. One row per segment
 * file `<dir>/<cameraId>/<YYYYMMDD>/<startWallMs>.ts` (the day in Beijing time, UTC+8): when it started on the
 * wall clock (what the cameras burn into the picture) and on the city's clock, the city clock's rate then, its
 * size, and whether it plays (`ok`), is still being written (`open`) or is damaged (`corrupt`, with a note).
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, ftruncateSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, type Migration } from '../../node-util/sqlite';
import { beijingDay } from '../beijing-time';
import { TS_PACKET, packetInfo, pmtPidFromPat, videoFromPmt } from './ts-gop';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'recorded segments',
    sql: `CREATE TABLE segments (
      camera_id TEXT NOT NULL,
      start_wall_ms INTEGER NOT NULL,
      end_wall_ms INTEGER NOT NULL,
      start_city_ms INTEGER NOT NULL,
      rate REAL NOT NULL,
      bytes INTEGER NOT NULL DEFAULT 0,
      status TEXT NOT NULL CHECK (status IN ('open', 'ok', 'corrupt')),
      note TEXT,
      PRIMARY KEY (camera_id, start_wall_ms)
    );
    CREATE INDEX segments_city ON segments(camera_id, start_city_ms);
    CREATE INDEX segments_age ON segments(start_wall_ms);`,
  },
];

export type SegmentStatus = 'open' | 'ok' | 'corrupt';

export interface SegmentRow {
  cameraId: string;
  startWallMs: number;
  endWallMs: number;
  startCityMs: number;
  rate: number;
  bytes: number;
  status: SegmentStatus;
  note: string | null;
}

interface RawRow {
  camera_id: string;
  start_wall_ms: number;
  end_wall_ms: number;
  start_city_ms: number;
  rate: number;
  bytes: number;
  status: SegmentStatus;
  note: string | null;
}

const fromRaw = (r: RawRow): SegmentRow => ({ cameraId: r.camera_id, startWallMs: r.start_wall_ms, endWallMs: r.end_wall_ms, startCityMs: r.start_city_ms, rate: r.rate, bytes: r.bytes, status: r.status, note: r.note });

/** Where a segment's file lies (the day folder in Beijing time, so it does not move with the machine's zone). */
export function segmentFile(dir: string, cameraId: string, startWallMs: number): string {
  return join(dir, cameraId, beijingDay(startWallMs), `${startWallMs}.ts`);
}

/** When a segment ends on the city's clock. */
export const endCityMs = (s: SegmentRow): number => s.startCityMs + (s.endWallMs - s.startWallMs) * s.rate;

export class RecordingIndex {
  private readonly db: Database.Database;

  constructor(readonly dir: string) {
    this.db = new Database(join(dir, 'index.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    migrate(this.db, MIGRATIONS);
  }

  /** A segment begun (status open until closed). */
  open(s: { cameraId: string; startWallMs: number; startCityMs: number; rate: number }): void {
    this.db
      .prepare(`INSERT OR REPLACE INTO segments (camera_id, start_wall_ms, end_wall_ms, start_city_ms, rate, bytes, status, note) VALUES (?, ?, ?, ?, ?, 0, 'open', NULL)`)
      .run(s.cameraId, s.startWallMs, s.startWallMs, s.startCityMs, s.rate);
  }

  /** A segment finished or judged: its end, size, status and note. */
  finish(cameraId: string, startWallMs: number, f: { endWallMs: number; bytes: number; status: SegmentStatus; note?: string | null }): void {
    this.db.prepare('UPDATE segments SET end_wall_ms = ?, bytes = ?, status = ?, note = ? WHERE camera_id = ? AND start_wall_ms = ?').run(f.endWallMs, f.bytes, f.status, f.note ?? null, cameraId, startWallMs);
  }

  get(cameraId: string, startWallMs: number): SegmentRow | null {
    const row = this.db.prepare('SELECT * FROM segments WHERE camera_id = ? AND start_wall_ms = ?').get(cameraId, startWallMs) as RawRow | undefined;
    return row ? fromRaw(row) : null;
  }

  /** A camera's finished segments (ok and corrupt) overlapping [fromCityMs, toCityMs] of city time, in order. */
  inRange(cameraId: string, fromCityMs: number, toCityMs: number): SegmentRow[] {
    const rows = this.db
      .prepare(`SELECT * FROM segments WHERE camera_id = ? AND status != 'open' AND start_city_ms <= ? AND start_city_ms + (end_wall_ms - start_wall_ms) * rate >= ? ORDER BY start_city_ms`)
      .all(cameraId, toCityMs, fromCityMs) as RawRow[];
    return rows.map(fromRaw);
  }

  /** The oldest segments first (retention), open ones left out. */
  oldest(limit: number): SegmentRow[] {
    return (this.db.prepare(`SELECT * FROM segments WHERE status != 'open' ORDER BY start_wall_ms LIMIT ?`).all(limit) as RawRow[]).map(fromRaw);
  }

  withStatus(status: SegmentStatus): SegmentRow[] {
    return (this.db.prepare('SELECT * FROM segments WHERE status = ? ORDER BY start_wall_ms').all(status) as RawRow[]).map(fromRaw);
  }

  totalBytes(): number {
    return (this.db.prepare('SELECT COALESCE(SUM(bytes), 0) AS n FROM segments').get() as { n: number }).n;
  }

  remove(cameraId: string, startWallMs: number): void {
    this.db.prepare('DELETE FROM segments WHERE camera_id = ? AND start_wall_ms = ?').run(cameraId, startWallMs);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Segments left open by a process that ended (crash, kill): each file trimmed to whole 188-byte packets and
   * checked; one with no keyframe or with bad sync bytes is marked corrupt with a note, the rest ok. Returns how
   * many of each.
   */
  recoverOpen(): { ok: number; corrupt: number } {
    const counts = { ok: 0, corrupt: 0 };
    for (const s of this.withStatus('open')) {
      const file = segmentFile(this.dir, s.cameraId, s.startWallMs);
      const verdict = existsSync(file) ? checkSegmentFile(file, true) : { bytes: 0, note: '文件缺失 / file missing' };
      const endWallMs = existsSync(file) ? Math.max(s.startWallMs, Math.round(statSync(file).mtimeMs)) : s.startWallMs;
      this.finish(s.cameraId, s.startWallMs, { endWallMs, bytes: verdict.bytes, status: verdict.note ? 'corrupt' : 'ok', note: verdict.note });
      counts[verdict.note ? 'corrupt' : 'ok']++;
    }
    return counts;
  }
}

/**
 * Whether a segment file plays: whole packets (trimmed to them when `trim`), every packet's sync byte, a PAT, a
 * PMT and a video keyframe. Returns its size and, when it does not play, why (Chinese / English).
 */
export function checkSegmentFile(file: string, trim = false): { bytes: number; note: string | null } {
  const size = statSync(file).size;
  const whole = size - (size % TS_PACKET);
  const fd = openSync(file, trim && whole !== size ? 'r+' : 'r');
  try {
    if (trim && whole !== size) ftruncateSync(fd, whole);
    if (whole === 0) return { bytes: 0, note: '录像为空 / empty segment' };
    const chunk = Buffer.alloc(TS_PACKET * 2048);
    let pmtPid: number | null = null;
    let videoPid: number | null = null;
    let keyframe = false;
    for (let offset = 0; offset < whole; ) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, whole - offset), offset);
      for (let at = 0; at + TS_PACKET <= n; at += TS_PACKET) {
        if (chunk[at] !== 0x47) return { bytes: whole, note: `同步字节错误（第 ${(offset + at) / TS_PACKET} 个包）/ bad sync byte at packet ${(offset + at) / TS_PACKET}` };
        const info = packetInfo(chunk, at);
        const packet = chunk.subarray(at, at + TS_PACKET);
        if (info.pid === 0 && info.payloadStart) pmtPid = pmtPidFromPat(packet) ?? pmtPid;
        else if (info.pid === pmtPid && info.payloadStart) videoPid = videoFromPmt(packet)?.pid ?? videoPid;
        else if (info.pid === videoPid && info.payloadStart && info.randomAccess) keyframe = true;
      }
      offset += n;
      if (n === 0) break;
    }
    return { bytes: whole, note: keyframe ? null : '没有关键帧 / no keyframe' };
  } finally {
    closeSync(fd);
  }
}
