/**
 * WebRTC camera streams of the reference backend, through Janus's streaming plugin: `/video/<cameraId>/whep`
 * speaks WHEP in its server-offer form (draft-murillo-whep-01, the form Janus 1.1 can do): POST (no body) →
 * 201 with Janus's SDP offer and a Location; PATCH that Location with the player's SDP answer → 204; DELETE
 * it when done. The backend creates the camera's mountpoint and starts its RTP encoder on the first viewer
 * and stops both a little after the last one leaves (shared by every viewer, like the WebSocket streams).
 * A viewer's POST carries its ticket (viewer-tickets.ts), checked again every second while the session lasts: a
 * session whose viewer's sign-in ended or whose scope no longer holds the camera is ended (Janus hangs up).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CAMERA_ID_PATTERN, type Camera } from '../../protocol';
import type { Logger } from '../../node-util/logger';
// RTP encoders end with the backend however it ends (SIGKILL: nothing to save, no children).
import { spawnOwned } from '../../node-util/child-process';
import { RECHECK_MS } from './camera-streams';
import { defaultFontFile, ffmpegArgs } from './test-picture';
import { ticketIn, type StreamGate } from './viewer-tickets';
import { JanusClient } from './janus';
import { decodeSegment } from '../../web-serving/request-target';

export interface WebRtcStreamsOptions {
  cameraById(id: string): Camera | undefined;
  log: Logger;
  /** Janus's HTTP API and its API secret. RTP goes to the API's host. */
  janus: { url: string; apiSecret: string };
  ffmpegPath?: string;
  fontFile?: string | null;
  lingerMs?: number;
  maxSources?: number;
  maxViewersPerCamera?: number;
  /** A viewer that has not answered the offer this long is dropped. */
  answerTimeoutMs?: number;
  /** Who may open a camera's stream (see camera-streams.ts); a session's own resource URL needs no ticket. */
  gate?: StreamGate;
  /** A camera's WebRTC feed started and stopped (the recorder pins its MPEG-TS source meanwhile: index.ts). */
  feedStarted?: (cameraId: string) => void;
  feedStopped?: (cameraId: string) => void;
}

/** The path of a camera's WHEP endpoint (relative: the console resolves it against the backend). */
export function whepPath(cameraId: string): string {
  return `/video/${cameraId}/whep`;
}

const WHEP_PATH = /^\/video\/([^/]+)\/whep(?:\/([A-Za-z0-9_-]{16,64}))?$/;
/** The biggest SDP answer accepted (a video-only answer is ~2 KB). */
const MAX_SDP_BYTES = 64 * 1024;

interface Feed {
  cameraId: string;
  mountpoint: number;
  port: number;
  process: ChildProcess | null;
  viewers: Set<string>;
  linger: NodeJS.Timeout | null;
  ready: Promise<void>;
  stderr: string[];
}

interface Viewer {
  id: string;
  cameraId: string;
  handle: number;
  /** The ticket it opened with (checked again while it lasts). */
  ticket: string | null;
  answered: boolean;
  timer: NodeJS.Timeout | null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A free UDP port on 127.0.0.1 for a mountpoint (Janus binds it; the encoder sends there). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

export class WebRtcStreams {
  private client: JanusClient | null = null;
  private connecting: Promise<JanusClient> | null = null;
  private readonly feeds = new Map<string, Feed>();
  private readonly viewers = new Map<string, Viewer>();
  /** Sessions that ended (by the player, Janus, or a feed stopping), so a late DELETE is answered 200, not 404. */
  private readonly ended = new Set<string>();
  private nextMountpoint = 1;
  private closed = false;
  private readonly fontFile: string | null;
  private readonly recheck: NodeJS.Timeout;
  private rechecking = false;

  constructor(private readonly options: WebRtcStreamsOptions) {
    this.fontFile = options.fontFile === undefined ? defaultFontFile() : options.fontFile;
    this.recheck = setInterval(() => void this.recheckViewers(), RECHECK_MS);
    this.recheck.unref();
  }

  /** The sessions' tickets checked again: one that no longer opens its camera is ended, the refusal audited. */
  private async recheckViewers(): Promise<void> {
    const gate = this.options.gate;
    if (!gate || this.rechecking || this.closed) return;
    this.rechecking = true;
    try {
      for (const viewer of [...this.viewers.values()]) {
        const verdict = await gate.allows(viewer.cameraId, viewer.ticket).catch(() => null);
        if (!verdict || verdict.ok || this.viewers.get(viewer.id) !== viewer) continue;
        gate.refused(viewer.cameraId, 'whep', verdict);
        this.options.log.info('WebRTC viewer ended: its ticket no longer opens the camera', { camera: viewer.cameraId, reason: verdict.reason });
        await this.unsubscribe(viewer.cameraId, viewer.id).catch(() => undefined);
      }
    } finally {
      this.rechecking = false;
    }
  }

  /** Live feeds (for tests and health). */
  get running(): Array<{ cameraId: string; viewers: number; pid: number | undefined }> {
    return [...this.feeds.values()].map((f) => ({ cameraId: f.cameraId, viewers: f.viewers.size, pid: f.process?.pid }));
  }

  /** For BackendServer's httpRoutes. */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    const match = WHEP_PATH.exec((req.url ?? '').split('?')[0] ?? '');
    if (!match) return false;
    // The console runs on its own origin: WHEP's PATCH and Location need CORS.
    const cors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Location', 'Cache-Control': 'no-store' };
    const cameraId = decodeSegment(match[1]!);
    if (cameraId === null) {
      res.writeHead(400, { ...cors, 'Content-Type': 'text/plain; charset=utf-8' }).end('bad camera id encoding');
      return true;
    }
    const resource = match[2];
    const reply = (status: number, headers: Record<string, string | number> = {}, body = ''): void => void res.writeHead(status, { ...cors, ...headers }).end(body);
    const fail = (e: unknown): void => {
      const status = e instanceof HttpError ? e.status : 502;
      if (!(e instanceof HttpError)) this.options.log.warn('WebRTC stream failed', { camera: cameraId, error: (e as Error).message });
      if (!res.headersSent) reply(status, { 'Content-Type': 'text/plain; charset=utf-8' }, (e as Error).message);
    };
    if (req.method === 'OPTIONS') {
      reply(204, { 'Access-Control-Allow-Methods': 'POST, PATCH, DELETE, OPTIONS', 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Max-Age': 600 });
      return true;
    }
    void (async () => {
      if (req.method === 'POST' && !resource) {
        req.resume();
        const ticket = ticketIn(req.url);
        const verdict = this.options.gate ? await this.options.gate.allows(cameraId, ticket) : null;
        if (verdict && !verdict.ok) {
          this.options.gate!.refused(cameraId, 'whep', verdict);
          throw new HttpError(403, '无权打开该摄像头的视频（登录已结束或不在您的辖区内）/ this stream needs a viewer ticket that opens this camera');
        }
        const { id, offer } = await this.subscribe(cameraId, ticket);
        reply(201, { 'Content-Type': 'application/sdp', Location: `${whepPath(cameraId)}/${id}` }, offer);
      } else if (req.method === 'PATCH' && resource) {
        if (!/^application\/sdp\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'the answer must be application/sdp');
        const answer = await readBody(req, MAX_SDP_BYTES);
        await this.answer(cameraId, resource, answer);
        reply(204);
      } else if (req.method === 'DELETE' && resource) {
        req.resume();
        await this.unsubscribe(cameraId, resource);
        reply(200);
      } else {
        req.resume();
        throw new HttpError(405, 'WHEP: POST to the endpoint, PATCH or DELETE its resource');
      }
    })().catch(fail);
    return true;
  }

  private async janus(): Promise<JanusClient> {
    if (this.client?.connected) return this.client;
    this.connecting ??= (async () => {
      const client = new JanusClient(this.options.janus.url, this.options.janus.apiSecret, (reason) => this.lost(client, reason));
      await client.connect();
      this.client = client;
      return client;
    })().finally(() => (this.connecting = null));
    return this.connecting;
  }

  /** Janus went away: its mountpoints and viewers are gone with it; encoders stop; players reconnect. */
  private lost(client: JanusClient, reason: string): void {
    if (this.client !== client) return;
    this.client = null;
    if (!this.closed) this.options.log.warn('Janus connection lost: WebRTC viewers will reconnect', { reason });
    for (const viewer of this.viewers.values()) {
      if (viewer.timer) clearTimeout(viewer.timer);
      this.remember(viewer.id);
    }
    this.viewers.clear();
    for (const feed of this.feeds.values()) this.stopFeed(feed);
  }

  private async subscribe(cameraId: string, ticket: string | null): Promise<{ id: string; offer: string }> {
    if (this.closed) throw new HttpError(503, 'server stopping');
    if (!CAMERA_ID_PATTERN.test(cameraId)) throw new HttpError(404, 'bad camera id');
    const camera = this.options.cameraById(cameraId);
    if (!camera) throw new HttpError(404, `no camera ${cameraId}`);
    if (!camera.online) throw new HttpError(404, `camera ${cameraId} is offline`);
    if (!camera.streams.some((s) => s.protocol === 'webrtc' && s.codec === 'h264')) throw new HttpError(404, `camera ${cameraId} has no WebRTC stream`);
    const janus = await this.janus().catch((e: Error) => {
      throw new HttpError(503, `the WebRTC media server (Janus) is unreachable: ${e.message}`);
    });
    let feed = this.feeds.get(cameraId);
    if (!feed) {
      if (this.feeds.size >= (this.options.maxSources ?? 48)) throw new HttpError(503, 'too many live cameras');
      feed = this.startFeed(janus, camera);
    }
    if (feed.viewers.size >= (this.options.maxViewersPerCamera ?? 32)) throw new HttpError(503, 'too many viewers of this camera');
    if (feed.linger) clearTimeout(feed.linger);
    feed.linger = null;
    const id = randomBytes(16).toString('base64url');
    feed.viewers.add(id);
    try {
      await feed.ready;
      const handle = await janus.attach({ onHangup: () => void this.unsubscribe(cameraId, id).catch(() => undefined) });
      const viewer: Viewer = { id, cameraId, handle, ticket, answered: false, timer: null };
      this.viewers.set(id, viewer);
      const watched = await janus.message(handle, { request: 'watch', id: feed.mountpoint, offer_audio: false, offer_data: false });
      if (!watched.jsep || watched.jsep.type !== 'offer') throw new Error('Janus sent no offer');
      viewer.timer = setTimeout(() => void this.unsubscribe(cameraId, id).catch(() => undefined), this.options.answerTimeoutMs ?? 15_000);
      return { id, offer: watched.jsep.sdp };
    } catch (e) {
      await this.unsubscribe(cameraId, id).catch(() => undefined);
      throw e;
    }
  }

  private async answer(cameraId: string, id: string, sdp: string): Promise<void> {
    const viewer = this.viewers.get(id);
    if (!viewer || viewer.cameraId !== cameraId) throw new HttpError(404, 'no such WHEP session (expired or never made)');
    if (viewer.answered) throw new HttpError(409, 'this WHEP session already has an answer');
    if (!/^v=0\r?\n/.test(sdp) || !/\r?\nm=video /.test(sdp)) throw new HttpError(400, 'the body is not an SDP answer with a video section');
    const janus = await this.janus();
    try {
      await janus.message(viewer.handle, { request: 'start' }, { type: 'answer', sdp });
    } catch (e) {
      throw new HttpError(400, `the answer was refused: ${(e as Error).message}`);
    }
    viewer.answered = true;
    if (viewer.timer) clearTimeout(viewer.timer);
    viewer.timer = null;
  }

  private async unsubscribe(cameraId: string, id: string): Promise<void> {
    const feed = this.feeds.get(cameraId);
    const viewer = this.viewers.get(id);
    if (!viewer && !feed?.viewers.has(id)) {
      if (this.ended.has(id)) return;
      throw new HttpError(404, 'no such WHEP session');
    }
    this.remember(id);
    this.viewers.delete(id);
    if (viewer?.timer) clearTimeout(viewer.timer);
    if (feed?.viewers.delete(id) && feed.viewers.size === 0 && !this.closed) {
      // Kept a moment: a tour or a re-layout often reopens the same camera at once.
      feed.linger = setTimeout(() => this.stopFeed(feed), this.options.lingerMs ?? 3000);
    }
    if (viewer && this.client) await this.client.detach(viewer.handle);
  }

  private remember(id: string): void {
    this.ended.add(id);
    // Oldest first out: enough for any late DELETE, bounded whatever the traffic.
    if (this.ended.size > 4096) this.ended.delete(this.ended.values().next().value!);
  }

  private startFeed(janus: JanusClient, camera: Camera): Feed {
    const feed: Feed = { cameraId: camera.id, mountpoint: this.nextMountpoint++, port: 0, process: null, viewers: new Set(), linger: null, ready: Promise.resolve(), stderr: [] };
    this.feeds.set(camera.id, feed);
    this.options.feedStarted?.(camera.id);
    feed.ready = (async () => {
      feed.port = await freeUdpPort();
      const admin = await janus.attach();
      try {
        await janus.message(admin, {
          request: 'create',
          type: 'rtp',
          id: feed.mountpoint,
          description: camera.id,
          is_private: true,
          media: [{ type: 'video', mid: 'v', port: feed.port, iface: '127.0.0.1', pt: 96, codec: 'h264', fmtp: 'profile-level-id=42e01f;packetization-mode=1' }],
        });
      } finally {
        await janus.detach(admin);
      }
      if (this.feeds.get(camera.id) !== feed) return;
      const offset = -new Date().getTimezoneOffset() * 60;
      const host = new URL(this.options.janus.url).hostname;
      const ffmpeg = spawnOwned(this.options.ffmpegPath ?? 'ffmpeg', ffmpegArgs(camera, this.fontFile, offset, { kind: 'rtp', host, port: feed.port }), { stdio: ['ignore', 'ignore', 'pipe'] });
      feed.process = ffmpeg;
      this.options.log.info('camera WebRTC feed started', { camera: camera.id, mountpoint: feed.mountpoint, pid: ffmpeg.pid });
      ffmpeg.stderr!.on('data', (chunk: Buffer) => {
        feed.stderr.push(chunk.toString('utf8'));
        if (feed.stderr.length > 20) feed.stderr.shift();
      });
      ffmpeg.on('error', (e) => this.options.log.warn('camera WebRTC encoder failed to start', { camera: camera.id, error: e.message }));
      // An encoder that dies ends the feed; its viewers' players see no picture, reconnect, and get a new one.
      ffmpeg.on('exit', (code, signal) => {
        if (this.feeds.get(camera.id) !== feed) return;
        this.options.log.warn('camera WebRTC encoder exited', { camera: camera.id, code, signal, stderr: feed.stderr.join('').slice(-300) });
        this.stopFeed(feed);
      });
    })();
    feed.ready.catch((e: Error) => {
      this.options.log.warn('camera WebRTC feed could not start', { camera: camera.id, error: e.message });
      this.stopFeed(feed);
    });
    return feed;
  }

  private stopFeed(feed: Feed): void {
    if (this.feeds.get(feed.cameraId) === feed) {
      this.feeds.delete(feed.cameraId);
      this.options.feedStopped?.(feed.cameraId);
    }
    if (feed.linger) clearTimeout(feed.linger);
    feed.linger = null;
    if (feed.process && feed.process.exitCode === null && feed.process.signalCode === null) feed.process.kill('SIGKILL');
    const janus = this.client;
    if (janus?.connected) {
      void (async () => {
        const admin = await janus.attach();
        await janus.message(admin, { request: 'destroy', id: feed.mountpoint }).catch(() => undefined);
        await janus.detach(admin);
      })().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.recheck);
    for (const feed of [...this.feeds.values()]) this.stopFeed(feed);
    await this.client?.close();
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `the answer is over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
