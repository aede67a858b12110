/**
 * Synthetic live cameras for the demo and the tests: one ffmpeg per camera renders a test picture with the
 * camera's name, a millisecond wall clock and the same clock as a bit strip (for latency measurement), encodes
 * it as low-latency H.264 baseline (or H.265 for the cameras that only offer that) and streams MPEG-TS over
 * WebSocket. Started when the first viewer comes, shared by every viewer, stopped a little after the last one
 * leaves. A watchdog restarts an encoder that stops producing; a slow viewer is dropped without holding up
 * the others.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CAMERA_ID_PATTERN, CLOCK_BITS, CLOCK_STRIP, VIDEO_PATH_PREFIX, VideoCloseCode, type Camera } from '../../protocol';
import type { Logger } from '../../common/logger';
import { TsGopCache } from './ts-gop';


const FONT_CANDIDATES = ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'];

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
}

interface Source {
  cameraId: string;
  process: ChildProcess;
  cache: TsGopCache;
  viewers: Set<WebSocket>;
  startedAt: number;
  lastDataAt: number;
  linger: NodeJS.Timeout | null;
  stopping: boolean;
  stderr: string[];
}

/** What burns the camera's name into the picture: letters, digits and a few separators, nothing ffmpeg parses. */
function overlayText(name: string): string {
  return name.replace(/[^\p{L}\p{N} ()（）·_-]/gu, '').slice(0, 40);
}

export function ffmpegArgs(camera: Camera, fontFile: string | null, utcOffsetSeconds: number): string[] {
  const { x0, y, box, pitch, width, height } = CLOCK_STRIP;
  const filters = [
    // Frame time := the wall clock (µs) when the frame is made; restored to a regular 15 fps below.
    'settb=1/1000000',
    'setpts=RTCTIME',
    `drawbox=x=0:y=${y - 6}:w=${width}:h=${height - y + 6}:color=black:t=fill`,
    ...Array.from({ length: CLOCK_BITS }, (_, k) => `drawbox=x=${x0 + k * pitch}:y=${y}:w=${box}:h=${box}:color=white:t=fill:enable='mod(floor(t*1000/${2 ** k}),2)'`),
  ];
  if (fontFile) {
    filters.push(
      `drawtext=fontfile=${fontFile}:text='${overlayText(camera.name)}':x=12:y=34:fontsize=22:fontcolor=white:box=1:boxcolor=black@0.55:boxborderw=6`,
      `drawtext=fontfile=${fontFile}:text='%{pts\\:hms\\:${utcOffsetSeconds}\\:24HH}':x=12:y=70:fontsize=26:fontcolor=yellow:box=1:boxcolor=black@0.55:boxborderw=6`,
    );
  }
  filters.push('setpts=N/(15*TB)');
  const h265 = camera.streams.every((s) => s.codec === 'h265') && camera.streams.length > 0;
  const codec = h265
    ? ['-c:v', 'libx265', '-preset', 'ultrafast', '-tune', 'zerolatency', '-x265-params', 'keyint=15:min-keyint=15:log-level=error']
    : ['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-keyint_min', '15', '-sc_threshold', '0'];
  return [
    '-hide_banner',
    '-loglevel', 'error',
    '-nostdin',
    '-re',
    '-f', 'lavfi',
    '-i', `testsrc2=size=${width}x${height}:rate=15`,
    '-vf', filters.join(','),
    ...codec,
    '-b:v', '600k', '-maxrate', '800k', '-bufsize', '400k',
    '-pix_fmt', 'yuv420p',
    '-threads', '1',
    // Marks the process as this camera's encoder (ps, tests).
    '-metadata', `title=zongzhi-camera:${camera.id}`,
    '-f', 'mpegts',
    '-flush_packets', '1',
    '-muxdelay', '0',
    '-muxpreload', '0',
    'pipe:1',
  ];
}

export class CameraStreams {
  private readonly sources = new Map<string, Source>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false });
  private readonly watchdog: NodeJS.Timeout;
  private encoderMissing = false;
  private readonly fontFile: string | null;
  private readonly lingerMs: number;
  private readonly stallMs: number;
  private closed = false;

  constructor(private readonly options: CameraStreamsOptions) {
    this.fontFile = options.fontFile === undefined ? (FONT_CANDIDATES.find((f) => existsSync(f)) ?? null) : options.fontFile;
    this.lingerMs = options.lingerMs ?? 3000;
    this.stallMs = options.stallMs ?? 3000;
    this.watchdog = setInterval(() => this.checkStalls(), 500);
    this.watchdog.unref();
  }

  /** For BackendServer's upgradeRoutes: takes `/video/<cameraId>` upgrades. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith(VIDEO_PATH_PREFIX)) return false;
    const cameraId = decodeURIComponent(path.slice(VIDEO_PATH_PREFIX.length));
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, cameraId));
    return true;
  }

  /** Live encoders (for tests and the health line). */
  get running(): Array<{ cameraId: string; viewers: number; pid: number | undefined }> {
    return [...this.sources.values()].map((s) => ({ cameraId: s.cameraId, viewers: s.viewers.size, pid: s.process.pid }));
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

  private detach(source: Source, ws: WebSocket): void {
    if (!source.viewers.delete(ws) || source.viewers.size > 0 || source.stopping) return;
    // Kept a moment: a tour or a re-layout often reopens the same camera at once.
    source.linger = setTimeout(() => this.stop(source), this.lingerMs);
  }

  private start(camera: Camera): Source {
    const offset = -new Date().getTimezoneOffset() * 60;
    const ffmpeg = spawn(this.options.ffmpegPath ?? 'ffmpeg', ffmpegArgs(camera, this.fontFile, offset), { stdio: ['ignore', 'pipe', 'pipe'] });
    const now = Date.now();
    const source: Source = { cameraId: camera.id, process: ffmpeg, cache: new TsGopCache(), viewers: new Set(), startedAt: now, lastDataAt: now, linger: null, stopping: false, stderr: [] };
    this.sources.set(camera.id, source);
    this.options.log.info('camera stream started', { camera: camera.id, pid: ffmpeg.pid });
    ffmpeg.stdout!.on('data', (chunk: Buffer) => {
      source.lastDataAt = Date.now();
      const packets = source.cache.push(chunk);
      if (packets.length === 0) return;
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
    if (this.sources.get(source.cameraId) === source) this.sources.delete(source.cameraId);
    if (source.linger) clearTimeout(source.linger);
    for (const ws of source.viewers) ws.close(code, reason);
    source.viewers.clear();
    if (source.process.exitCode === null && source.process.signalCode === null) {
      source.stopping = true;
      source.process.kill('SIGKILL');
    }
  }

  private stop(source: Source): void {
    source.stopping = true;
    this.options.log.info('camera stream stopped (no viewers)', { camera: source.cameraId });
    this.end(source, 1000, 'no viewers');
  }

  private checkStalls(): void {
    const now = Date.now();
    for (const source of [...this.sources.values()]) {
      if (source.viewers.size === 0 || now - source.lastDataAt <= this.stallMs) continue;
      this.options.log.warn('camera encoder stalled: restarting', { camera: source.cameraId, silentMs: now - source.lastDataAt });
      source.stopping = true;
      this.end(source, VideoCloseCode.sourceStalled, 'encoder stalled');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    const exits = [...this.sources.values()].map((s) => new Promise<void>((resolve) => (s.process.exitCode !== null || s.process.signalCode !== null ? resolve() : s.process.once('exit', () => resolve()))));
    for (const source of [...this.sources.values()]) {
      source.stopping = true;
      this.end(source, 1001, 'server stopping');
    }
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 2000))]);
    this.wss.close();
  }
}
