/**
 * Synthetic live cameras for the demo and the tests: one ffmpeg per camera (test-picture.ts) renders a test picture with the
 * camera's name, a millisecond wall clock and the same clock as a bit strip (for latency measurement), encodes
 * it as low-latency H.264 baseline (or H.265 for the cameras that only offer that) and streams MPEG-TS over
 * WebSocket. Started when the first viewer comes, shared by every viewer, stopped a little after the last one
 * leaves. A watchdog restarts an encoder that stops producing; a slow viewer is dropped without holding up
 * the others. Each viewer opens with its ticket (viewer-tickets.ts), checked again every second while it
 * watches: a viewer whose sign-in ended or whose scope no longer holds the camera is closed (4008).
 * The recorder pins the cameras it records (kept running with nobody watching, restarted with back-off when
 * their encoder exits) and taps every encoder's packets (source-pins.ts): recording costs no second encoder.
 */
import type { ChildProcess } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { ticketIn, ticketPlaylist, type StreamGate, type StreamVerdict } from './viewer-tickets';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, type Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CAMERA_ID_PATTERN, VIDEO_PATH_PREFIX, VideoCloseCode, type Camera } from '../../protocol';
import { defaultFontFile, ffmpegArgs } from './test-picture';
import type { Logger } from '../../node-util/logger';
// Encoders end with the backend however it ends (SIGKILL: an encoder has nothing to save and no children).
import { spawnOwned } from '../../node-util/child-process';
import { TsGopCache } from './ts-gop';
import { HlsEncoders } from './hls-encoders';
import { SourcePins, type PacketListener } from './source-pins';
import { decodeSegment } from '../../web-serving/request-target';


export interface CameraStreamsOptions {
  cameraById(id: string): Camera | undefined;
  log: Logger;
  ffmpegPath?: string;
  /** For the name and clock overlay; null: none (the bit strip and the test picture still run). */
  fontFile?: string | null;
  lingerMs?: number;
  stallMs?: number;
  maxSources?: number;
  maxViewersPerCamera?: number;
  /** A viewer whose socket holds more than this unsent is dropped. */
  maxBufferedBytes?: number;
  /** An HLS encoder nobody asked for its playlist this long is stopped. */
  hlsIdleMs?: number;
  /**
   * Who may open a camera's stream: the viewer's ticket checked (video/viewer-tickets.ts), a refusal reported
   * (audited). Without it every stream is open (tests of the encoders alone).
   */
  gate?: StreamGate;
  /**
   * Whether a camera watched over HLS has its MPEG-TS source pinned meanwhile (owner 'hls'), so that the recorder,
   * which taps only those sources, records it too (a second encoder while it is watched so).
   */
  pinHlsWatched?: (cameraId: string) => boolean;
}

export type { StreamGate } from './viewer-tickets';

/** How often open viewers' tickets are checked again (their answers are cached up to TICKET_CACHE_MS). */
export const RECHECK_MS = 1000;
const FORBIDDEN_TEXT = '无权打开该摄像头的视频（登录已结束或不在您的辖区内）/ this stream needs a viewer ticket that opens this camera';

const HLS_PATH = /^\/video\/([^/]+)\/(index\.m3u8|seg\d{5}\.ts)$/;

interface Source {
  cameraId: string;
  process: ChildProcess;
  cache: TsGopCache;
  viewers: Set<WebSocket>;
  lastDataAt: number;
  startedAt: number;
  linger: NodeJS.Timeout | null;
  stopping: boolean;
  stderr: string[];
}

export class CameraStreams {
  private readonly sources = new Map<string, Source>();
  private readonly hls: HlsEncoders;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false });
  private readonly watchdog: NodeJS.Timeout;
  private readonly recheck: NodeJS.Timeout;
  /** The ticket each WebSocket viewer opened with (checked again while it watches). */
  private readonly tickets = new WeakMap<WebSocket, string | null>();
  private rechecking = false;
  private encoderMissing = false;
  private readonly fontFile: string | null;
  private readonly lingerMs: number;
  private readonly stallMs: number;
  private closed = false;
  private readonly pins = new SourcePins();

  constructor(private readonly options: CameraStreamsOptions) {
    this.fontFile = options.fontFile === undefined ? defaultFontFile() : options.fontFile;
    this.lingerMs = options.lingerMs ?? 3000;
    this.stallMs = options.stallMs ?? 3000;
    this.hls = new HlsEncoders({
      log: options.log,
      fontFile: this.fontFile,
      ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
      ...(options.hlsIdleMs ? { idleMs: options.hlsIdleMs } : {}),
      started: (id) => void (options.pinHlsWatched?.(id) && this.pin(id, 'hls')),
      stopped: (id) => this.unpin(id, 'hls'),
    });
    this.watchdog = setInterval(() => this.checkStalls(), 500);
    this.watchdog.unref();
    this.recheck = setInterval(() => void this.recheckViewers(), RECHECK_MS);
    this.recheck.unref();
  }

  /** For BackendServer's upgradeRoutes: takes `/video/<cameraId>` upgrades. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith(VIDEO_PATH_PREFIX)) return false;
    const cameraId = decodeSegment(path.slice(VIDEO_PATH_PREFIX.length));
    if (cameraId === null) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    const ticket = ticketIn(req.url);
    void this.verdict(cameraId, ticket)
      .then((verdict) => {
        if (socket.destroyed) return;
        if (!verdict.ok) {
          this.options.gate!.refused(cameraId, 'mpegts', verdict);
          socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => {
          this.tickets.set(ws, ticket);
          this.attach(ws, cameraId);
        });
      })
      .catch((e: unknown) => {
        this.options.log.warn('stream ticket check failed', { camera: cameraId, error: (e as Error).message });
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      });
    return true;
  }

  /**
   * For BackendServer's httpRoutes: HLS at `/video/<cameraId>/index.m3u8` and its segments. The playlist
   * request of a cold camera waits (up to 8 s) for the encoder's first segments instead of failing.
   */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    const match = HLS_PATH.exec((req.url ?? '').split('?')[0] ?? '');
    if (!match) return false;
    // Test pictures, fetched cross-origin by the console's player (hls.js): any origin may read them.
    const headers = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-cache' };
    const fail = (status: number, text: string): void => void res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
    if (req.method !== 'GET') return (fail(405, 'GET only'), true);
    const cameraId = decodeSegment(match[1]!);
    if (cameraId === null) return (fail(400, 'bad camera id encoding'), true);
    const ticket = ticketIn(req.url);
    void this.verdict(cameraId, ticket)
      .then((verdict) => {
        if (verdict.ok) return this.serveHls(cameraId, match[2]!, ticket, res, fail, headers);
        this.options.gate!.refused(cameraId, 'hls', verdict);
        fail(403, FORBIDDEN_TEXT);
      })
      .catch((e: unknown) => {
        this.options.log.warn('stream ticket check failed', { camera: cameraId, error: (e as Error).message });
        fail(503, 'the stream check failed / 视频权限检查失败');
      });
    return true;
  }

  /** The gate's answer (open to all without a gate: tests of the encoders alone). */
  private verdict(cameraId: string, ticket: string | null): Promise<StreamVerdict> {
    return this.options.gate ? this.options.gate.allows(cameraId, ticket) : Promise.resolve({ ok: true, userId: '' });
  }

  private serveHls(cameraId: string, name: string, ticket: string | null, res: ServerResponse, fail: (status: number, text: string) => void, headers: Record<string, string>): void {
    const camera = CAMERA_ID_PATTERN.test(cameraId) ? this.options.cameraById(cameraId) : undefined;
    if (!camera) return fail(404, `no camera ${cameraId}`);
    if (!camera.online) return fail(404, `camera ${cameraId} is offline`);
    if (this.encoderMissing || this.hls.missing || this.closed) return fail(503, this.closed ? 'server stopping' : 'ffmpeg is not installed on the backend machine');
    const isPlaylist = name === 'index.m3u8';
    let full = false;
    const mayStart = (): boolean => !(full = this.sources.size + this.hls.size >= (this.options.maxSources ?? 48));
    void (async () => {
      const file = await this.hls.file(camera, name, mayStart);
      if (full) return fail(503, 'too many live cameras');
      if (!file) return fail(404, isPlaylist ? 'the stream did not start' : 'segment gone');
      if (isPlaylist && ticket !== null) {
        // The segments are fetched by URIs relative to the playlist, without its query: each carries the ticket.
        const body = Buffer.from(ticketPlaylist(readFileSync(file, 'utf8'), ticket));
        res.writeHead(200, { ...headers, 'Content-Type': 'application/vnd.apple.mpegurl', 'Content-Length': body.length }).end(body);
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Type': isPlaylist ? 'application/vnd.apple.mpegurl' : 'video/mp2t', 'Content-Length': statSync(file).size });
      pipeline(createReadStream(file), res, () => {}); // a client gone closes the file too
    })().catch(() => res.destroy());
  }

  /**
   * Keeps a camera's encoder running for `owner` with nobody watching (the recorder); an encoder of a pinned
   * camera that exits is started again with back-off. Refused (with why) for an unknown or offline camera, with
   * no ffmpeg, or when the live sources are at their limit.
   */
  pin(cameraId: string, owner: string): { ok: true } | { ok: false; reason: string } {
    const camera = CAMERA_ID_PATTERN.test(cameraId) ? this.options.cameraById(cameraId) : undefined;
    if (!camera) return { ok: false, reason: `no camera ${cameraId}` };
    if (!camera.online) return { ok: false, reason: `camera ${cameraId} is offline` };
    if (this.encoderMissing || this.closed) return { ok: false, reason: this.closed ? 'server stopping' : 'ffmpeg is not installed on the backend machine' };
    let source = this.sources.get(cameraId);
    if (!source) {
      if (this.sources.size >= (this.options.maxSources ?? 48)) return { ok: false, reason: 'too many live cameras' };
      source = this.start(camera);
    }
    if (source.linger) clearTimeout(source.linger);
    source.linger = null;
    this.pins.pin(cameraId, owner);
    return { ok: true };
  }

  /** An owner's pin taken away: the encoder lingers and stops as usual once nobody watches or pins it. */
  unpin(cameraId: string, owner: string): void {
    if (!this.pins.unpin(cameraId, owner)) return;
    const source = this.sources.get(cameraId);
    if (source) this.detachLast(source);
  }

  /** Every packet of a camera's encoders ('*': of every camera), across restarts; null when an encoder ends. */
  onPackets(cameraId: string, listener: PacketListener): () => void {
    return this.pins.listen(cameraId, listener);
  }

  /** The pinned cameras and who pins them (tests, health). */
  get pinned(): Array<{ cameraId: string; owners: string[] }> {
    return this.pins.list();
  }

  /** Live encoders (for tests and the health line). */
  get running(): Array<{ cameraId: string; viewers: number; pid: number | undefined; kind: 'ws' | 'hls' }> {
    return [
      ...[...this.sources.values()].map((s) => ({ cameraId: s.cameraId, viewers: s.viewers.size, pid: s.process.pid, kind: 'ws' as const })),
      ...this.hls.running().map((s) => ({ cameraId: s.cameraId, viewers: 0, pid: s.pid, kind: 'hls' as const })),
    ];
  }

  private attach(ws: WebSocket, cameraId: string): void {
    const refuse = (code: number, reason: string): void => ws.close(code, reason);
    if (this.closed) return refuse(1001, 'server stopping');
    if (!CAMERA_ID_PATTERN.test(cameraId)) return refuse(VideoCloseCode.unknownCamera, 'bad camera id');
    const camera = this.options.cameraById(cameraId);
    if (!camera) return refuse(VideoCloseCode.unknownCamera, `no camera ${cameraId}`);
    if (!camera.online) return refuse(VideoCloseCode.cameraOffline, `camera ${cameraId} is offline`);
    if (this.encoderMissing) return refuse(VideoCloseCode.encoderMissing, 'ffmpeg is not installed on the backend machine');
    let source = this.sources.get(cameraId);
    if (!source) {
      if (this.sources.size >= (this.options.maxSources ?? 48)) return refuse(VideoCloseCode.busy, 'too many live cameras');
      source = this.start(camera);
    }
    if (source.viewers.size >= (this.options.maxViewersPerCamera ?? 32)) return refuse(VideoCloseCode.busy, 'too many viewers of this camera');
    if (source.linger) clearTimeout(source.linger);
    source.linger = null;
    source.viewers.add(ws);
    const join = source.cache.joinBuffer();
    if (join.length > 0) ws.send(join);
    const owner = source;
    ws.on('message', () => ws.close(1003, 'viewers do not send')); // a stream socket carries video one way
    ws.on('close', () => this.detach(owner, ws));
    ws.on('error', () => this.detach(owner, ws));
  }

  /**
   * The open viewers' tickets checked again (answers cached per ticket): a viewer whose sign-in ended, whose user
   * was disabled or whose scope no longer holds the camera is closed and the refusal audited.
   */
  private async recheckViewers(): Promise<void> {
    const gate = this.options.gate;
    if (!gate || this.rechecking || this.closed) return;
    this.rechecking = true;
    try {
      for (const source of [...this.sources.values()]) {
        for (const ws of [...source.viewers]) {
          const verdict = await gate.allows(source.cameraId, this.tickets.get(ws) ?? null).catch(() => null);
          if (!verdict || verdict.ok || !source.viewers.has(ws)) continue;
          gate.refused(source.cameraId, 'mpegts', verdict);
          ws.close(VideoCloseCode.refused, `refused: ${verdict.reason}`);
          source.viewers.delete(ws);
          this.detachLast(source);
        }
      }
    } finally {
      this.rechecking = false;
    }
  }

  private detach(source: Source, ws: WebSocket): void {
    if (source.viewers.delete(ws)) this.detachLast(source);
  }

  /** A viewer left: the encoder lingers a moment when it was the last. */
  private detachLast(source: Source): void {
    if (source.viewers.size > 0 || source.stopping || source.linger || this.pins.pinned(source.cameraId)) return;
    // Kept a moment: a tour or a re-layout often reopens the same camera at once.
    source.linger = setTimeout(() => this.stop(source), this.lingerMs);
  }

  private start(camera: Camera): Source {
    const offset = -new Date().getTimezoneOffset() * 60;
    const ffmpeg = spawnOwned(this.options.ffmpegPath ?? 'ffmpeg', ffmpegArgs(camera, this.fontFile, offset), { stdio: ['ignore', 'pipe', 'pipe'] });
    const now = Date.now();
    const source: Source = { cameraId: camera.id, process: ffmpeg, cache: new TsGopCache(), viewers: new Set(), lastDataAt: now, startedAt: now, linger: null, stopping: false, stderr: [] };
    this.sources.set(camera.id, source);
    this.options.log.info('camera stream started', { camera: camera.id, pid: ffmpeg.pid });
    ffmpeg.stdout!.on('data', (chunk: Buffer) => {
      // Output still buffered when this encoder ended (stdio may come after 'exit'): it belongs to no run now, and
      // the recorder would open a segment that never closes and mix two encoder runs in it.
      if (this.sources.get(source.cameraId) !== source) return;
      source.lastDataAt = Date.now();
      const packets = source.cache.push(chunk);
      if (packets.length === 0) return;
      this.pins.emit(source.cameraId, packets);
      for (const ws of source.viewers) {
        if (ws.bufferedAmount > (this.options.maxBufferedBytes ?? 2 * 1024 * 1024)) {
          ws.close(VideoCloseCode.tooSlow, 'viewer too slow');
          source.viewers.delete(ws);
          continue;
        }
        ws.send(packets);
      }
    });
    ffmpeg.stderr!.on('data', (chunk: Buffer) => {
      source.stderr.push(chunk.toString('utf8'));
      if (source.stderr.length > 20) source.stderr.shift();
    });
    ffmpeg.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        this.encoderMissing = true;
        this.options.log.warn('ffmpeg not found: synthetic cameras are off (apt-get install ffmpeg)');
        this.end(source, VideoCloseCode.encoderMissing, 'ffmpeg is not installed on the backend machine');
      } else {
        this.options.log.error('camera encoder failed to start', { camera: source.cameraId, error: e.message });
        this.end(source, VideoCloseCode.sourceEnded, 'encoder failed');
      }
    });
    ffmpeg.on('exit', (code, signal) => {
      if (!source.stopping) {
        this.options.log.warn('camera encoder exited', { camera: source.cameraId, code, signal, stderr: source.stderr.join('').slice(-500) });
      }
      this.end(source, VideoCloseCode.sourceEnded, 'encoder exited');
    });
    return source;
  }

  /** Ends a source: its viewers are told why (their players reconnect), the process is gone or killed. */
  private end(source: Source, code: number, reason: string): void {
    if (this.sources.get(source.cameraId) === source) {
      this.sources.delete(source.cameraId);
      this.pins.emit(source.cameraId, null);
      // A pinned camera (being recorded) gets a new encoder, later each time it keeps failing.
      if (!this.closed && !this.encoderMissing) this.pins.restartLater(source.cameraId, Date.now() - source.startedAt, () => this.restartPinned(source.cameraId));
    }
    if (source.linger) clearTimeout(source.linger);
    for (const ws of source.viewers) ws.close(code, reason);
    source.viewers.clear();
    if (source.process.exitCode === null && source.process.signalCode === null) {
      source.stopping = true;
      source.process.kill('SIGKILL');
    }
  }

  private restartPinned(cameraId: string): void {
    const camera = this.options.cameraById(cameraId);
    if (this.closed || this.encoderMissing || this.sources.has(cameraId) || !camera?.online) return;
    this.options.log.info('pinned camera encoder restarted', { camera: cameraId });
    this.start(camera);
  }

  private stop(source: Source): void {
    source.stopping = true;
    this.options.log.info('camera stream stopped (no viewers)', { camera: source.cameraId });
    this.end(source, 1000, 'no viewers');
  }

  private checkStalls(): void {
    const now = Date.now();
    this.hls.stopIdle(now);
    for (const source of [...this.sources.values()]) {
      if ((source.viewers.size === 0 && !this.pins.pinned(source.cameraId)) || now - source.lastDataAt <= this.stallMs) continue;
      this.options.log.warn('camera encoder stalled: restarting', { camera: source.cameraId, silentMs: now - source.lastDataAt });
      source.stopping = true;
      this.end(source, VideoCloseCode.sourceStalled, 'encoder stalled');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    clearInterval(this.recheck);
    this.pins.close();
    const exits = [...this.sources.values()].map((s) => new Promise<void>((resolve) => (s.process.exitCode !== null || s.process.signalCode !== null ? resolve() : s.process.once('exit', () => resolve()))));
    for (const source of [...this.sources.values()]) {
      source.stopping = true;
      this.end(source, 1001, 'server stopping');
    }
    this.hls.close();
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 2000))]);
    this.wss.close();
  }
}
