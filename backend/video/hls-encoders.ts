/**
 * The synthetic cameras' HLS encoders (camera-streams.ts serves them at `/video/<id>/index.m3u8`): one ffmpeg per
 * camera writing 0.5 s segments into a temp dir, stopped when nobody asked for its playlist for a while.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Camera } from '../../protocol';
import type { Logger } from '../../node-util/logger';
import { spawnOwned } from '../../node-util/child-process';
import { ffmpegArgs } from './test-picture';

/** An HLS encoder: segments in a temp dir, stopped when nobody asked for its playlist for a while. */
interface HlsSource {
  cameraId: string;
  process: ChildProcess;
  dir: string;
  lastRequestAt: number;
  stderr: string[];
}

/** HLS players poll the playlist every ~0.5 s: this long without a request means nobody watches. */
const HLS_IDLE_MS = 10_000;

export class HlsEncoders {
  private readonly hls = new Map<string, HlsSource>();
  private root: string | null = null;
  /** Set when ffmpeg is not there (the owner stops starting encoders). */
  missing = false;

  constructor(
    private readonly o: {
      log: Logger;
      ffmpegPath?: string;
      fontFile: string | null;
      idleMs?: number;
      /** A camera's HLS encoder started and stopped (the recorder pins its MPEG-TS source meanwhile). */
      started?: (cameraId: string) => void;
      stopped?: (cameraId: string) => void;
    },
  ) {}

  get size(): number {
    return this.hls.size;
  }

  has(cameraId: string): boolean {
    return this.hls.has(cameraId);
  }

  /**
   * The file `name` of a camera's running (or, when `mayStart`, newly started) encoder, waited for up to 8 s for a
   * playlist; null when it did not come (or the encoder could not start).
   */
  async file(camera: Camera, name: string, mayStart: () => boolean): Promise<string | null> {
    let source = this.hls.get(camera.id);
    if (!source) {
      if (!mayStart()) return null;
      source = this.start(camera);
    }
    source.lastRequestAt = Date.now();
    const file = join(source.dir, name);
    const deadline = Date.now() + (name === 'index.m3u8' ? 8000 : 0);
    while (!existsSync(file) && Date.now() < deadline && this.hls.get(camera.id) === source) await new Promise((r) => setTimeout(r, 100));
    return existsSync(file) ? file : null;
  }

  private start(camera: Camera): HlsSource {
    this.root ??= mkdtempSync(join(tmpdir(), 'zongzhi-hls-'));
    const dir = join(this.root, camera.id);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const offset = -new Date().getTimezoneOffset() * 60;
    const ffmpeg = spawnOwned(this.o.ffmpegPath ?? 'ffmpeg', ffmpegArgs(camera, this.o.fontFile, offset, { kind: 'hls', dir }), { stdio: ['ignore', 'ignore', 'pipe'] });
    const source: HlsSource = { cameraId: camera.id, process: ffmpeg, dir, lastRequestAt: Date.now(), stderr: [] };
    this.hls.set(camera.id, source);
    this.o.started?.(camera.id);
    this.o.log.info('camera HLS stream started', { camera: camera.id, pid: ffmpeg.pid });
    ffmpeg.stderr!.on('data', (chunk: Buffer) => {
      source.stderr.push(chunk.toString('utf8'));
      if (source.stderr.length > 20) source.stderr.shift();
    });
    ffmpeg.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') this.missing = true;
      this.stop(source);
    });
    ffmpeg.on('exit', (code, signal) => {
      if (this.hls.get(camera.id) === source) {
        this.o.log.warn('camera HLS encoder exited', { camera: camera.id, code, signal, stderr: source.stderr.join('').slice(-500) });
        this.stop(source);
      }
    });
    return source;
  }

  private stop(source: HlsSource): void {
    if (this.hls.get(source.cameraId) === source) {
      this.hls.delete(source.cameraId);
      this.o.stopped?.(source.cameraId);
    }
    if (source.process.exitCode === null && source.process.signalCode === null) source.process.kill('SIGKILL');
    rmSync(source.dir, { recursive: true, force: true });
  }

  running(): Array<{ cameraId: string; pid: number | undefined }> {
    return [...this.hls.values()].map((s) => ({ cameraId: s.cameraId, pid: s.process.pid }));
  }

  /** Stops the encoders nobody asked for a while. */
  stopIdle(now = Date.now()): void {
    for (const source of [...this.hls.values()]) if (now - source.lastRequestAt > (this.o.idleMs ?? HLS_IDLE_MS)) this.stop(source);
  }

  close(): void {
    for (const source of [...this.hls.values()]) this.stop(source);
    if (this.root) rmSync(this.root, { recursive: true, force: true });
  }
}
