/**
 * One camera tile's player: picks the best stream the camera offers that this machine can decode (WebRTC over
 * WHEP → MPEG-TS or FLV over MSE with mpegts.js → HLS with hls.js), falls
 * back by itself when one fails, and watches the picture: a picture that stops advancing for more than 3 s is
 * "stalled" and reconnects with backoff; a live buffer that drifts behind is jumped back to the live edge.
 * Never a black tile without a reason: every end has a state the tile shows in words.
 */
import mpegts from 'mpegts.js';
import Hls from 'hls.js';
import { VideoCloseCode, resolveStreamUrl, type Camera, type CameraStream } from '../../../protocol';
import { reportingWsLoader, type LoaderReport } from './ws-ts-loader';
import { playableStreams } from './streams';
import { openWhep } from './whep';

export type TileState =
  | 'idle'
  | 'connecting'
  | 'playing'
  | 'stalled'
  | 'hidden'
  | 'offline'
  | 'no-stream'
  | 'unsupported-codec'
  | 'encoder-missing'
  | 'busy'
  | 'failed';

export interface TileStats {
  protocol: CameraStream['protocol'] | null;
  kbps: number;
  droppedFrames: number;
  decodedFrames: number;
  /** How far the picture is behind the newest data in the buffer (ms); glass-to-glass is measured by the bench. */
  bufferMs: number | null;
  liveJumps: number;
  reconnects: number;
  /** Why a better protocol was given up for this one (shown on the protocol badge), null when none was. */
  fallbackReason: string | null;
}

export interface PlayerEvents {
  state(state: TileState, detail: string): void;
  stats(stats: TileStats): void;
}

// The tiles report every stream problem themselves (state + detail); mpegts.js's own console lines would only
// be noise on a wall that must run with a clean console.
mpegts.LoggingControl.applyConfig({ enableAll: false, enableDebug: false, enableVerbose: false, enableInfo: false, enableWarn: false, enableError: false });

const STALL_MS = 3000;
const FIRST_FRAME_MS = 8000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
/** Behind the live edge by more than this, the tile jumps to it. */
const MAX_LIVE_LAG_S = 1.5;

interface Engine {
  destroy(): void;
  /** Extra words for the technical detail when it fails (connection states). */
  describe?(): string;
}

export class TilePlayer {
  private engine: Engine | null = null;
  private streams: CameraStream[] = [];
  private streamIndex = 0;
  private report: LoaderReport = { bytes: 0, closed: null };
  private timer: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private lastProgressAt = 0;
  private lastTime = -1;
  private lastFrames = -1;
  private openedAt = 0;
  private playingSince = 0;
  /** Whether the stream opened last showed a picture (a failure before that moves on to the next protocol). */
  private playedSinceOpen = false;
  private lastBytes = 0;
  private state: TileState = 'idle';
  private readonly stats: TileStats = { protocol: null, kbps: 0, droppedFrames: 0, decodedFrames: 0, bufferMs: null, liveJumps: 0, reconnects: 0, fallbackReason: null };
  private running = false;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly camera: Camera,
    private readonly backendUrl: string | null,
    /** What opens the backend's own streams for this console's sign-in (the welcome's streamTicket). */
    private readonly ticket: string | null,
    private readonly events: PlayerEvents,
    /** Only this protocol (an operator's choice, e.g. HLS where a proxy blocks WebSockets; the bench). */
    private readonly onlyProtocol: CameraStream['protocol'] | null = null,
  ) {
    video.muted = true;
    video.playsInline = true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (!this.camera.online) return this.setState('offline', '');
    if (this.camera.streams.length === 0) return this.setState('no-stream', '');
    this.streams = playableStreams(this.camera).filter((s) => !this.onlyProtocol || s.protocol === this.onlyProtocol);
    if (this.streams.length === 0) {
      return this.setState('unsupported-codec', this.camera.streams.map((s) => `${s.protocol}/${s.codec}`).join(', '));
    }
    this.streamIndex = 0;
    this.open();
    this.timer = setInterval(() => this.watch(), 1000);
  }

  /** Stops decoding (tile hidden or closed); start() resumes. */
  stop(state: TileState = 'idle'): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.timer = this.retry = null;
    this.close();
    this.setState(state, '');
  }

  private open(): void {
    this.close();
    const stream = this.streams[this.streamIndex]!;
    const url = resolveStreamUrl(stream.url, this.backendUrl, stream.protocol === 'hls' || stream.protocol === 'webrtc' ? 'http' : 'ws', this.ticket);
    if (!url) return this.fail(`bad stream URL ${stream.url}`);
    this.report = { bytes: 0, closed: null };
    this.lastBytes = 0;
    this.stats.protocol = stream.protocol;
    this.openedAt = this.lastProgressAt = performance.now();
    this.lastTime = this.lastFrames = -1;
    this.playedSinceOpen = false;
    this.setState('connecting', url);
    if (stream.protocol === 'webrtc') this.engine = this.openWebRtc(url, stream.offer ?? 'client');
    else if (stream.protocol === 'hls') this.engine = this.openHls(url);
    else this.engine = this.openMpegts(url, stream.protocol === 'flv' ? 'flv' : 'mpegts');
    void this.video.play().catch(() => {
      /* autoplay of a muted video is allowed; a refusal shows as no progress and is retried */
    });
  }

  private openMpegts(url: string, type: 'mpegts' | 'flv'): Engine {
    const player = mpegts.createPlayer(
      { type, isLive: true, url },
      {
        enableWorker: false,
        enableStashBuffer: false,
        lazyLoad: false,
        // Stay near the live edge: play a little faster when more than 0.5 s behind, jump when over 1 s.
        liveSync: true,
        liveSyncMaxLatency: 0.5,
        liveSyncTargetLatency: 0.2,
        liveSyncPlaybackRate: 1.2,
        liveBufferLatencyChasing: true,
        liveBufferLatencyMaxLatency: 1.0,
        liveBufferLatencyMinRemain: 0.2,
        autoCleanupSourceBuffer: true,
        autoCleanupMaxBackwardDuration: 12,
        autoCleanupMinBackwardDuration: 6,
        customLoader: url.startsWith('ws') ? reportingWsLoader(this.report) : undefined,
      },
    );
    player.on(mpegts.Events.ERROR, (type: string, detail: string, info: { code?: number; msg?: string } | undefined) => this.onEngineError(`${type}/${detail}: ${info?.msg ?? ''}`, info?.code));
    player.attachMediaElement(this.video);
    player.load();
    return {
      destroy: () => {
        player.pause();
        player.unload();
        player.detachMediaElement();
        player.destroy();
      },
    };
  }

  private openWebRtc(url: string, offer: NonNullable<CameraStream['offer']>): Engine {
    const report = this.report;
    const session = openWhep(url, offer, this.video, { failed: (detail) => this.report === report && this.onEngineError(detail) });
    // The watchdog reads bytes from the report, as the MSE loaders fill it.
    const poll = setInterval(() => void session.bytesReceived().then((bytes) => (report.bytes = bytes)), 1000);
    return {
      describe: () => `${session.describe()}, ${report.bytes} bytes`,
      destroy: () => {
        clearInterval(poll);
        session.destroy();
      },
    };
  }

  private openHls(url: string): Engine {
    if (!Hls.isSupported()) {
      this.onEngineError('hls.js not supported here');
      return { destroy: () => {} };
    }
    const hls = new Hls({ lowLatencyMode: true, liveSyncDurationCount: 2, maxLiveSyncPlaybackRate: 1.2, enableWorker: false });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) this.onEngineError(`hls ${data.type}/${data.details}`);
    });
    hls.on(Hls.Events.FRAG_LOADED, (_e, data) => (this.report.bytes += data.frag.stats.total));
    hls.loadSource(url);
    hls.attachMedia(this.video);
    return { destroy: () => hls.destroy() };
  }

  private close(): void {
    this.engine?.destroy();
    this.engine = null;
    this.video.srcObject = null;
    this.video.removeAttribute('src');
  }

  private onEngineError(detail: string, code?: number): void {
    if (!this.running) return;
    const closed = code ?? this.report.closed?.code;
    if (closed === VideoCloseCode.cameraOffline) return this.terminal('offline', detail);
    if (closed === VideoCloseCode.encoderMissing) return this.terminal('encoder-missing', detail);
    if (closed === VideoCloseCode.unknownCamera) return this.terminal('no-stream', detail);
    // The backend no longer lets this sign-in watch the camera (signed out, out of scope): a new sign-in rebuilds the tile.
    if (closed === VideoCloseCode.refused) return this.terminal('failed', detail);
    if (closed === VideoCloseCode.busy) {
      this.setState('busy', detail);
      return this.scheduleReconnect();
    }
    // A stream that never played on this protocol: try the next one the camera offers.
    // (Counted per open, not by the element's frame counter: after a loss, WebRTC's server may be the thing gone.)
    if (!this.playedSinceOpen && this.streamIndex + 1 < this.streams.length && this.state === 'connecting') {
      this.stats.fallbackReason = `${this.streams[this.streamIndex]!.protocol}: ${detail}`;
      this.streamIndex++;
      this.open();
      return;
    }
    this.setState('stalled', detail);
    this.scheduleReconnect();
  }

  private terminal(state: TileState, detail: string): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.close();
    this.setState(state, detail);
  }

  private fail(detail: string): void {
    this.terminal('failed', detail);
  }

  private scheduleReconnect(): void {
    this.close();
    if (this.retry || !this.running) return;
    const wait = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)]!;
    this.attempt++;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.running) return;
      this.stats.reconnects++;
      this.streamIndex = 0;
      this.open();
    }, wait);
  }

  /** Once a second: is the picture moving, how far behind live, how much data. */
  private watch(): void {
    const now = performance.now();
    const quality = this.video.getVideoPlaybackQuality();
    this.stats.decodedFrames = quality.totalVideoFrames;
    this.stats.droppedFrames = quality.droppedVideoFrames;
    this.stats.kbps = Math.round(((this.report.bytes - this.lastBytes) * 8) / 1000);
    this.lastBytes = this.report.bytes;
    // A WebRTC element's clock runs on with no frames arriving: there only new frames count as progress.
    const framesMoved = quality.totalVideoFrames !== this.lastFrames;
    const moved = this.stats.protocol === 'webrtc' ? framesMoved : framesMoved || this.video.currentTime !== this.lastTime;
    this.lastTime = this.video.currentTime;
    this.lastFrames = quality.totalVideoFrames;
    const buffered = this.video.buffered;
    const end = buffered.length > 0 ? buffered.end(buffered.length - 1) : null;
    this.stats.bufferMs = end === null ? null : Math.max(0, Math.round((end - this.video.currentTime) * 1000));
    if (this.engine && moved && this.video.currentTime > 0) {
      this.lastProgressAt = now;
      this.playedSinceOpen = true;
      if (this.state !== 'playing') {
        this.playingSince = now;
        this.setState('playing', '');
      }
      if (now - this.playingSince > 10_000) this.attempt = 0; // playing well again: backoff starts over
      if (end !== null && end - this.video.currentTime > MAX_LIVE_LAG_S) {
        this.video.currentTime = end - 0.2;
        this.stats.liveJumps++;
      }
    } else if (this.engine && this.state === 'playing' && now - this.lastProgressAt > STALL_MS) {
      this.setState('stalled', `no new picture for ${Math.round((now - this.lastProgressAt) / 1000)} s`);
      this.scheduleReconnect();
    } else if (this.engine && this.state === 'connecting' && now - this.openedAt > FIRST_FRAME_MS) {
      this.onEngineError(`no picture within ${FIRST_FRAME_MS / 1000} s${this.engine.describe ? ` (${this.engine.describe()})` : ''}`);
    }
    this.events.stats({ ...this.stats });
  }

  private setState(state: TileState, detail: string): void {
    this.state = state;
    this.events.state(state, detail);
  }

  destroy(): void {
    this.stop();
  }
}
