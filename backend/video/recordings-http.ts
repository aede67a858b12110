/**
 * Playback of the recorded cameras (recorder.ts), behind the same viewer-ticket gate as the live `/video/` routes
 * (players cannot send headers: `?ticket=`), any origin (CORS *, so canvas frames of the report are not tainted):
 * - `GET /recordings/<cam>?from=<cityMs>&to=<cityMs>`: JSON `{segments, notes}`, the playable segments and the
 *   spans that are not (missing, or damaged: skipped);
 * - `GET /recordings/<cam>/index.m3u8?from&to`: an HLS VOD playlist, each segment dated by its CITY start
 *   (#EXT-X-PROGRAM-DATE-TIME), a discontinuity across gaps and skipped segments, every URI carrying the ticket;
 * - `GET /recordings/<cam>/<startWallMs>.ts`: a segment (Range answered, 206);
 * - `GET /recordings/<cam>/frame.jpg?at=<cityMs>`: the frame at a city time, cut by ffmpeg (for the 复盘 report).
 * Refused as `{code, message}` in Chinese and English: no ticket or not this user's camera 403, a bad query 400,
 * an unknown camera or no recording there 404; frame.jpg beyond a user's rate 429, or while 2 cuts already run
 * 503 (a client that goes away has its cut killed). A user's successful reads of a camera are audited
 * ('history-read', what 'recording') once a minute at most.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { CAMERA_ID_PATTERN, type Camera } from '../../protocol';
import { parseByteRange } from '../../node-util/byte-range';
import type { Logger } from '../../node-util/logger';
import { decodeSegment, parseRequestTarget } from '../../web-serving/request-target';
import { TokenBucket } from '../rate-limit';
import { ticketIn, ticketPlaylist, type StreamGate } from './viewer-tickets';
import { endCityMs, segmentFile, type RecordingIndex, type SegmentRow } from './recording-index';

export const RECORDINGS_PREFIX = '/recordings/';
/** The longest range one request may ask for (a playlist of ~8,640 10-s segments). */
export const MAX_RANGE_MS = 24 * 3_600_000;
/**
 * A pause between two segments longer than this (wall clock) is a gap: a discontinuity and a note. Segments of one
 * encoder run follow each other exactly (one ends where the next starts); a gap means the encoder stopped, and a
 * new one starts its timestamps afresh.
 */
const GAP_MS = 250;

export interface RecordingNote {
  fromCityMs: number;
  toCityMs: number;
  kind: 'missing' | 'corrupt';
  note: string;
}

export interface RecordingsHttpOptions {
  index: () => RecordingIndex | null;
  cameraById(id: string): Camera | undefined;
  gate?: StreamGate;
  ffmpegPath?: string;
  log: Logger;
  /** Writes a successful read to the audit log ('history-read', what 'recording'); a read not audited is not answered. */
  audit?: (userId: string, detail: Record<string, unknown>) => Promise<void>;
}

/** frame.jpg: cuts a user may ask for (2 a second, bursts of 6), and ffmpeg cuts running at once on this backend. */
const FRAMES_PER_SECOND = 2;
const FRAMES_BURST = 6;
const MAX_FRAME_CUTS = 2;
/** A user's successful reads of one camera's recordings are audited once a minute at most (a player reads many segments). */
const AUDIT_EVERY_MS = 60_000;

/** What one backend's recordings routes share across requests: the frame limits and the audit's last times. */
interface Limits {
  buckets: Map<string, TokenBucket>;
  cutting: number;
  audited: Map<string, number>;
}

const CORS = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' };
const PATH = /^\/recordings\/([^/]+)(?:\/(index\.m3u8|frame\.jpg|(\d{1,15})\.ts))?$/;

function answer(res: ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8'): void {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  res.writeHead(status, { ...CORS, 'Content-Type': type, 'Content-Length': data.length }).end(data);
}
const refuse = (res: ServerResponse, status: number, code: string, message: string): void => answer(res, status, { code, message });

/** A city time in the query: epoch ms (digits), or null when absent or not one. */
function msParam(params: URLSearchParams, name: string): number | null | 'absent' {
  const value = params.get(name);
  if (value === null) return 'absent';
  return /^\d{1,15}$/.test(value) ? Number(value) : null;
}

/** The segments of a span and what is missing or damaged in it (city time). */
export function describeRange(rows: SegmentRow[], fromMs: number, toMs: number): { playable: Array<SegmentRow & { gapBefore: boolean }>; notes: RecordingNote[] } {
  const playable: Array<SegmentRow & { gapBefore: boolean }> = [];
  const notes: RecordingNote[] = [];
  let cursor = fromMs;
  let skipped = false;
  for (const s of rows) {
    const end = endCityMs(s);
    if (s.startCityMs - cursor > GAP_MS * s.rate) notes.push({ fromCityMs: cursor, toCityMs: s.startCityMs, kind: 'missing', note: '该时段没有录像 / no recording' });
    const gap = playable.length > 0 && (skipped || s.startCityMs - cursor > GAP_MS * s.rate);
    if (s.status === 'corrupt') {
      notes.push({ fromCityMs: s.startCityMs, toCityMs: end, kind: 'corrupt', note: `录像损坏，已跳过：${s.note ?? ''} / damaged segment skipped` });
      skipped = true;
    } else {
      playable.push({ ...s, gapBefore: gap });
      skipped = false;
    }
    cursor = Math.max(cursor, end);
  }
  if (toMs - cursor > GAP_MS) notes.push({ fromCityMs: cursor, toCityMs: toMs, kind: 'missing', note: '该时段没有录像 / no recording' });
  return { playable, notes };
}

/** The VOD playlist of the playable segments: dated in city time, a discontinuity after each gap. */
export function vodPlaylist(playable: Array<SegmentRow & { gapBefore: boolean }>): string {
  const durations = playable.map((s) => Math.max(0.001, (s.endWallMs - s.startWallMs) / 1000));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-PLAYLIST-TYPE:VOD', `#EXT-X-TARGETDURATION:${Math.ceil(Math.max(1, ...durations))}`, '#EXT-X-MEDIA-SEQUENCE:0'];
  playable.forEach((s, i) => {
    if (s.gapBefore) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.startCityMs).toISOString()}`, `#EXTINF:${durations[i]!.toFixed(3)},`, `${s.startWallMs}.ts`);
  });
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

export function recordingRoutes(o: RecordingsHttpOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limits: Limits = { buckets: new Map(), cutting: 0, audited: new Map() };
  return (req, res) => {
    const target = parseRequestTarget(req.url);
    if (!target?.pathname.startsWith(RECORDINGS_PREFIX)) return false;
    const match = PATH.exec(target.pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') return (refuse(res, 405, 'method', '只支持 GET / GET only'), true);
    const cameraId = match ? decodeSegment(match[1]!) : null;
    if (!match || cameraId === null || !CAMERA_ID_PATTERN.test(cameraId)) return (refuse(res, 400, 'bad-path', '地址无效：应为 /recordings/<摄像头>[/index.m3u8|/frame.jpg|/<开始>.ts] / bad recordings path'), true);
    const ticket = ticketIn(req.url);
    const verdict = o.gate ? o.gate.allows(cameraId, ticket) : Promise.resolve({ ok: true as const, userId: '' });
    void verdict
      .then((v) => {
        if (!v.ok) {
          o.gate!.refused(cameraId, 'recording', v);
          return refuse(res, 403, 'forbidden', '无权查看该摄像头的录像（需要有效的观看凭证且摄像头在您的辖区内）/ a viewer ticket that opens this camera is needed');
        }
        const read: Read = { cameraId, userId: v.userId, limits, audit: () => auditRead(o, limits, v.userId, cameraId, match[3] ? 'segment' : (match[2] ?? 'list')) };
        return serve(o, req, res, read, match[2] ?? null, match[3] ?? null, target.searchParams, ticket);
      })
      .catch((e: unknown) => {
        o.log.warn('recordings request failed', { camera: cameraId, error: (e as Error).message });
        if (!res.headersSent) refuse(res, 500, 'internal', `录像服务出错 / recordings failed: ${(e as Error).message.slice(0, 200)}`);
        else res.destroy();
      });
    return true;
  };
}

interface Read {
  cameraId: string;
  userId: string;
  limits: Limits;
  /** Called before a successful answer is sent. */
  audit(): Promise<void>;
}

async function auditRead(o: RecordingsHttpOptions, limits: Limits, userId: string, cameraId: string, what: string): Promise<void> {
  if (!o.audit || !userId) return;
  const key = `${userId}\u0000${cameraId}`;
  const now = Date.now();
  if (now - (limits.audited.get(key) ?? -Infinity) < AUDIT_EVERY_MS) return;
  if (limits.audited.size > 10_000) limits.audited.clear();
  limits.audited.set(key, now);
  await o.audit(userId, { camera: cameraId, read: what });
}

async function serve(o: RecordingsHttpOptions, req: IncomingMessage, res: ServerResponse, read: Read, name: string | null, startWall: string | null, params: URLSearchParams, ticket: string | null): Promise<void> {
  const { cameraId } = read;
  const index = o.index();
  if (!index) return refuse(res, 404, 'not-recording', '本后台不录像 / this backend does not record cameras');
  if (!o.cameraById(cameraId)) return refuse(res, 404, 'unknown-camera', `没有摄像头 ${cameraId} / no camera ${cameraId}`);
  if (startWall !== null) return serveSegment(index, req, res, read, Number(startWall));
  if (name === 'frame.jpg') {
    const at = msParam(params, 'at');
    if (at === null || at === 'absent') return refuse(res, 400, 'bad-query', '需要 at=城市时间（毫秒）/ at=<city time in epoch ms> is needed');
    return serveFrame(o, index, res, read, at);
  }
  const from = msParam(params, 'from');
  const to = msParam(params, 'to');
  if (from === null || to === null || from === 'absent' || to === 'absent') return refuse(res, 400, 'bad-query', '需要 from 和 to（城市时间，毫秒）/ from and to (city time, epoch ms) are needed');
  if (to <= from) return refuse(res, 400, 'bad-query', '结束时间须晚于开始时间 / to must be after from');
  if (to - from > MAX_RANGE_MS) return refuse(res, 400, 'range-too-long', `时间范围过长（至多 24 小时）/ the range is over ${MAX_RANGE_MS / 3_600_000} h`);
  const { playable, notes } = describeRange(index.inRange(cameraId, from, to), from, to);
  if (name === null) {
    const segments = playable.map((s) => ({ startCityMs: s.startCityMs, startWallMs: s.startWallMs, rate: s.rate, durationMs: s.endWallMs - s.startWallMs, url: `${RECORDINGS_PREFIX}${encodeURIComponent(cameraId)}/${s.startWallMs}.ts` }));
    await read.audit();
    return answer(res, 200, { segments, notes });
  }
  if (playable.length === 0) return refuse(res, 404, 'no-recording', '该时段没有录像 / no recording in this range');
  const playlist = vodPlaylist(playable);
  await read.audit();
  return answer(res, 200, ticket === null ? playlist : ticketPlaylist(playlist, ticket), 'application/vnd.apple.mpegurl');
}

async function serveSegment(index: RecordingIndex, req: IncomingMessage, res: ServerResponse, read: Read, startWallMs: number): Promise<void> {
  const { cameraId } = read;
  const row = index.get(cameraId, startWallMs);
  const file = segmentFile(index.dir, cameraId, startWallMs);
  if (!row || !existsSync(file)) return refuse(res, 404, 'no-recording', '没有这段录像（可能已按保留期删除）/ no such segment (it may have been deleted)');
  // An open segment is served as far as it is written: whole packets only.
  const total = statSync(file).size - (statSync(file).size % 188);
  const range = parseByteRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, total);
  const headers = { ...CORS, 'Content-Type': 'video/mp2t', 'Accept-Ranges': 'bytes' };
  if (range === null) return void res.writeHead(416, { ...headers, 'Content-Range': `bytes */${total}` }).end();
  const { start, end } = range === 'none' ? { start: 0, end: total - 1 } : range;
  await read.audit();
  res.writeHead(range === 'none' ? 200 : 206, { ...headers, 'Content-Length': Math.max(0, end - start + 1), ...(range === 'none' ? {} : { 'Content-Range': `bytes ${start}-${end}/${total}` }) });
  if (req.method === 'HEAD' || total === 0) return void res.end();
  // pipeline, not pipe: a client that goes away (hls.js aborts on every seek) closes the file too.
  pipeline(createReadStream(file, { start, end }), res, () => {});
}

async function serveFrame(o: RecordingsHttpOptions, index: RecordingIndex, res: ServerResponse, read: Read, at: number): Promise<void> {
  const { cameraId, limits } = read;
  let bucket = limits.buckets.get(read.userId);
  if (!bucket) {
    if (limits.buckets.size > 10_000) limits.buckets.clear();
    limits.buckets.set(read.userId, (bucket = new TokenBucket(FRAMES_PER_SECOND, FRAMES_BURST)));
  }
  if (!bucket.take()) return refuse(res, 429, 'too-many', '截取录像画面过于频繁，请稍后再试 / too many frames asked for: try again in a moment');
  const row = index.inRange(cameraId, at, at).find((s) => s.status === 'ok');
  if (!row) return refuse(res, 404, 'no-recording', '该时刻没有录像 / no recording at that time');
  if (limits.cutting >= MAX_FRAME_CUTS) return refuse(res, 503, 'busy', `正在截取的录像画面过多（至多 ${MAX_FRAME_CUTS} 个），请稍后再试 / too many frames being cut: try again in a moment`);
  const durationS = (row.endWallMs - row.startWallMs) / 1000;
  const offset = Math.min(Math.max(0, (at - row.startCityMs) / row.rate / 1000), Math.max(0, durationS - 0.1));
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-ss', offset.toFixed(3), '-i', segmentFile(index.dir, cameraId, row.startWallMs), '-frames:v', '1', '-q:v', '2', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1'];
  limits.cutting++;
  let left = false;
  let cut: ChildProcess | null = null;
  // The client went away: its cut is not finished for nobody.
  const gone = (): void => {
    left = true;
    cut?.kill('SIGKILL');
  };
  res.once('close', gone);
  const stdout = await new Promise<Buffer | null>((resolve) => {
    cut = execFile(o.ffmpegPath ?? 'ffmpeg', args, { encoding: 'buffer', timeout: 15_000, maxBuffer: 8 << 20 }, (error, out: Buffer) => {
      res.off('close', gone);
      if (error && !left) o.log.warn('recording frame failed', { camera: cameraId, error: error.message });
      resolve(error || out.length === 0 ? null : out);
    });
  }).finally(() => limits.cutting--);
  if (left) return;
  if (!stdout) return refuse(res, 500, 'frame-failed', '无法从录像中取帧 / the frame could not be cut from the recording');
  await read.audit();
  answer(res, 200, stdout, 'image/jpeg');
}
