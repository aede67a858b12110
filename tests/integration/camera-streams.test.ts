/**
 * Synthetic cameras: the real backend spawns real ffmpeg encoders and streams MPEG-TS over real WebSockets.
 * Checked: the bytes are whole TS packets of H.264 640x360 with the wall clock readable in the picture; one
 * encoder is shared by all viewers and one viewer leaving never stops another; the encoder stops after the
 * last viewer; bad camera ids, offline cameras, a missing ffmpeg and a frozen encoder each end with their
 * own close code.
 */
import { afterAll, describe, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CLOCK_STRIP, VideoCloseCode, clockLatencyMs, decodeClockStrip, type Camera } from '../../protocol';
import { CameraStreams } from '../../backend/video/camera-streams';
import { TS_PACKET, TsGopCache, packetInfo } from '../../backend/video/ts-gop';
import { silentLogger } from '../../node-util/logger';
import { hashToken } from '../../backend/users';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient } from '../../harness/wire-client';
import Database from 'better-sqlite3';
import { waitFor } from '../../harness/temp';
import { it } from '../../harness/fixtures';

let dir: string;
let backend: Awaited<ReturnType<typeof startTestBackend>>;
let base: string;
it.override('backendConfig', { historyDays: 0 });
// The file's backend and temp dir (fixtures: started here, within the hook's time, and removed after the file).
it.beforeAll(async ({ backend: fileBackend, fileDir }) => {
  backend = fileBackend;
  dir = fileDir;
  base = backend.url.replace(/\/ws$/, '');
}, 60_000);

interface Viewer {
  ws: WebSocket;
  chunks: Buffer[];
  bytes(): number;
  closed: Promise<{ code: number; reason: string }>;
}
function view(url: string): Viewer {
  const ws = new WebSocket(url);
  const chunks: Buffer[] = [];
  ws.on('message', (data: Buffer) => chunks.push(data));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {});
  return { ws, chunks, bytes: () => chunks.reduce((n, c) => n + c.length, 0), closed };
}
/** A city-wide dispatcher's viewer ticket (what its welcome carries; stream-tickets.test.ts checks the rules). */
const g = (_cameraId: string): string => `?ticket=${backend.tickets.of(hashToken(TEST_TOKENS.dispatcher))}`;
const onlineCameras = (): Camera[] => [...backend.state.collections.cameras.values()].filter((c) => c.online && c.streams[0]?.codec === 'h264');

describe('synthetic camera streams', () => {
  it('streams whole TS packets of H.264 640x360 with the wall clock readable in the picture', async () => {
    const camera = onlineCameras()[0]!;
    const viewer = view(`${base}/video/${camera.id}${g(camera.id)}`);
    await waitFor(() => viewer.bytes() > 150_000, 'two seconds of video', 15_000);
    const receivedAt = Date.now();
    viewer.ws.close();
    for (const chunk of viewer.chunks) {
      expect(chunk.length % TS_PACKET).toBe(0);
      expect(chunk[0]).toBe(0x47);
    }
    const file = join(dir, 'camera.ts');
    writeFileSync(file, Buffer.concat(viewer.chunks));
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,profile', '-of', 'json', file], { encoding: 'utf8' })) as { streams: Array<{ codec_name: string; width: number; height: number; profile: string }> };
    expect(probe.streams[0]).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    expect(probe.streams[0]!.profile).toMatch(/Baseline/);
    // The last frame's clock strip: a time from the last few seconds.
    const frameBytes = CLOCK_STRIP.width * CLOCK_STRIP.height;
    const all = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { maxBuffer: 1 << 27 });
    expect(all.length).toBeGreaterThanOrEqual(15 * frameBytes);
    const gray = all.subarray(all.length - frameBytes);
    const burnt = decodeClockStrip((x, y) => gray[y * CLOCK_STRIP.width + x]!);
    expect(burnt).not.toBeNull();
    expect(clockLatencyMs(burnt!, receivedAt)).toBeLessThan(5_000);
  }, 30_000);

  it('shares one encoder between viewers; one leaving never freezes another; stops after the last', async () => {
    const camera = onlineCameras()[1]!;
    const a = view(`${base}/video/${camera.id}${g(camera.id)}`);
    await waitFor(() => a.bytes() > 20_000, 'the first viewer playing', 15_000);
    const b = view(`${base}/video/${camera.id}${g(camera.id)}`);
    // The second viewer starts from the cached keyframe: data at once, beginning with the PAT.
    await waitFor(() => b.bytes() > 0, 'the second viewer', 5_000);
    expect(b.chunks[0]![0]).toBe(0x47);
    expect(((b.chunks[0]![1]! & 0x1f) << 8) | b.chunks[0]![2]!).toBe(0); // PID 0: the PAT
    expect(backend.video.running.filter((r) => r.cameraId === camera.id)).toEqual([expect.objectContaining({ viewers: 2 })]);
    a.ws.close();
    await a.closed;
    const before = b.bytes();
    await waitFor(() => b.bytes() > before + 20_000, 'the second viewer still playing', 10_000);
    b.ws.close();
    await waitFor(() => !backend.video.running.some((r) => r.cameraId === camera.id), 'the encoder stopping after the linger', 10_000);
  }, 40_000);

  it('refuses unknown and malformed camera ids and offline cameras, each with its own close code', async () => {
    expect((await view(`${base}/video/nosuchcamera${g('nosuchcamera')}`).closed).code).toBe(VideoCloseCode.unknownCamera);
    expect((await view(`${base}/video/..%2F..%2Fetc%2Fpasswd${g('../../etc/passwd')}`).closed).code).toBe(VideoCloseCode.unknownCamera);
    const offline = [...backend.state.collections.cameras.values()].find((c) => !c.online)!;
    expect((await view(`${base}/video/${offline.id}${g(offline.id)}`).closed).code).toBe(VideoCloseCode.cameraOffline);
    // Unknown paths are not upgraded at all.
    const stray = view(`${base}/nothing-here`);
    await stray.closed;
    expect(backend.video.running).toEqual([]);
  }, 20_000);
});

describe('camera streams and the viewer ticket', () => {
  it('the welcome carries the ticket; camera records go out unchanged; no ticket or a bad one is refused and audited', async () => {
    const http = base.replace(/^ws/, 'http');
    const [inside, outside] = ['d01', 'd02'].map((d) => onlineCameras().find((c) => c.districtId === d)!);
    const scoped = new WireClient({ url: backend.url, token: TEST_TOKENS['dispatcher-d01'] });
    await scoped.waitSynced();
    expect(scoped.welcome?.streamTicket).toBe(backend.tickets.of(hashToken(TEST_TOKENS['dispatcher-d01'])));
    expect(scoped.welcome?.streamTicket).not.toContain(TEST_TOKENS['dispatcher-d01']);
    expect(scoped.get<Camera>('cameras', inside!.id)).toEqual(inside);
    expect(scoped.get<Camera>('cameras', outside!.id)).toBeUndefined();
    const ticket = `?ticket=${scoped.welcome!.streamTicket!}`;
    scoped.close();
    // The district ticket opens its district's camera, not the other district's; no ticket opens nothing.
    expect(await upgrade(`${base}/video/${inside!.id}${ticket}`)).toBe(101);
    expect((await fetch(`${http}/video/${outside!.id}/index.m3u8${ticket}`)).status).toBe(403);
    expect((await fetch(`${http}/video/${outside!.id}/index.m3u8`)).status).toBe(403);
    expect(await upgrade(`${base}/video/${outside!.id}`)).toBe(403);
    const refusals = (): Array<{ cameraId?: string; reason?: string }> => auditOf(backend.dir).filter((a) => a.kind === 'stream-refused').map((a) => a.detail as { cameraId?: string; reason?: string });
    await waitFor(() => refusals().some((d) => d.cameraId === outside!.id && d.reason === 'out-of-scope') && refusals().some((d) => d.cameraId === outside!.id && d.reason === 'bad-ticket'), 'the refusals audited with their reasons', 5_000);
  }, 30_000);
});

describe('synthetic cameras over HLS', () => {
  it('serves a live playlist of 0.5 s H.264 segments to any origin; refuses unknown and offline cameras', async () => {
    const http = base.replace(/^ws/, 'http');
    const camera = onlineCameras()[2]!;
    expect(camera.streams.map((s) => s.protocol)).toEqual(['mpegts', 'hls']);
    const started = Date.now();
    const playlist = await fetch(`${http}/video/${camera.id}/index.m3u8${g(camera.id)}`);
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('access-control-allow-origin')).toBe('*');
    expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const text = await playlist.text();
    expect(text).toContain('#EXTM3U');
    expect(Date.now() - started).toBeLessThan(8_000);
    // Each segment's URI carries the ticket (players fetch them relative to the playlist, without its query).
    const segment = /^(seg\d{5}\.ts\?ticket=[\w-]{43}\.[\w-]{22})$/m.exec(text)![1]!;
    const body = Buffer.from(await (await fetch(`${http}/video/${camera.id}/${segment}`)).arrayBuffer());
    expect(body[0]).toBe(0x47);
    const file = join(dir, 'segment.ts');
    writeFileSync(file, body);
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width', '-of', 'json', file], { encoding: 'utf8' })) as { streams: Array<{ codec_name: string; width: number }> };
    expect(probe.streams[0]).toMatchObject({ codec_name: 'h264', width: 640 });
    expect((await fetch(`${http}/video/nosuchcamera/index.m3u8${g('nosuchcamera')}`)).status).toBe(404);
    expect((await fetch(`${http}/video/${camera.id}/seg99999.ts${g(camera.id)}`)).status).toBe(404);
    expect((await fetch(`${http}/video/${camera.id}/../../etc/passwd`)).status).toBe(404);
    const offline = [...backend.state.collections.cameras.values()].find((c) => !c.online)!;
    expect((await fetch(`${http}/video/${offline.id}/index.m3u8${g(offline.id)}`)).status).toBe(404);
    expect((await fetch(`${http}/video/${camera.id}/index.m3u8`, { method: 'POST' })).status).toBe(405);
    expect(backend.video.running.filter((r) => r.kind === 'hls').map((r) => r.cameraId)).toEqual([camera.id]);
  }, 30_000);
});

describe('synthetic camera faults (standalone service)', () => {
  const camera: Camera = { id: 'cam9001', name: '测试路口', kind: 'tianwang', position: [117, 36.6], heading: 0, fov: 60, gridId: 'g1', districtId: 'd1', online: true, streams: [{ protocol: 'mpegts', url: '/video/cam9001', codec: 'h264' }] };
  let server: Server | null = null;
  async function serve(streams: CameraStreams): Promise<string> {
    server = createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req, socket, head) => {
      if (!streams.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  afterAll(() => server?.close());

  it('without ffmpeg: the viewer is told the encoder is missing, and later viewers at once', async () => {
    const streams = new CameraStreams({ cameraById: (id) => (id === camera.id ? camera : undefined), log: silentLogger, ffmpegPath: '/nonexistent/ffmpeg' });
    const url = await serve(streams);
    expect((await view(`${url}/video/${camera.id}`).closed).code).toBe(VideoCloseCode.encoderMissing);
    expect((await view(`${url}/video/${camera.id}`).closed).code).toBe(VideoCloseCode.encoderMissing);
    await streams.close();
    server?.close();
  }, 20_000);

  it('a frozen encoder is noticed, killed and reported to its viewers (who reconnect to a fresh one)', async () => {
    const streams = new CameraStreams({ cameraById: (id) => (id === camera.id ? camera : undefined), log: silentLogger, stallMs: 1500 });
    const url = await serve(streams);
    const viewer = view(`${url}/video/${camera.id}`);
    await waitFor(() => viewer.bytes() > 20_000, 'playing', 15_000);
    const pid = streams.running[0]!.pid!;
    process.kill(pid, 'SIGSTOP');
    const closed = await viewer.closed;
    expect(closed.code).toBe(VideoCloseCode.sourceStalled);
    // A new viewer gets a new encoder that plays.
    const again = view(`${url}/video/${camera.id}`);
    await waitFor(() => again.bytes() > 20_000, 'playing again', 15_000);
    expect(streams.running[0]!.pid).not.toBe(pid);
    again.ws.close();
    await streams.close();
    server?.close();
  }, 30_000);

  it('stops an HLS encoder nobody polls any more', async () => {
    const streams = new CameraStreams({ cameraById: (id) => (id === camera.id ? camera : undefined), log: silentLogger, hlsIdleMs: 1500 });
    const http = createServer((req, res) => {
      if (!streams.handleHttp(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/video/${camera.id}/index.m3u8`;
    expect((await fetch(url)).status).toBe(200);
    expect(streams.running).toHaveLength(1);
    await waitFor(() => streams.running.length === 0, 'the idle HLS encoder stopping', 10_000);
    await streams.close();
    http.close();
  }, 30_000);
});

describe('TS re-framing and GOP cache', () => {
  it('cuts any chunking into whole packets, resyncs after garbage, and keeps PAT+PMT+GOP for joiners', () => {
    const ts = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15', '-frames:v', '45', '-c:v', 'libx264', '-g', '15', '-f', 'mpegts', 'pipe:1'], { maxBuffer: 1 << 24 });
    const cache = new TsGopCache();
    const out: Buffer[] = [];
    // Garbage first (a truncated packet), then the stream in odd-sized pieces.
    out.push(cache.push(Buffer.from([0x12, 0x47, 0x00, 0x99, 0x47])));
    for (let at = 0; at < ts.length; at += 1_001) out.push(cache.push(ts.subarray(at, at + 1_001)));
    const all = Buffer.concat(out);
    expect(all.length).toBe(ts.length);
    expect(all.equals(ts)).toBe(true);
    expect(cache.skippedBytes).toBe(5);
    const join = cache.joinBuffer();
    expect(join.length % TS_PACKET).toBe(0);
    expect(packetInfo(join, 0).pid).toBe(0); // PAT
    const keyframe = packetInfo(join, 2 * TS_PACKET);
    expect(keyframe.payloadStart && keyframe.randomAccess).toBe(true);
    expect(join.length).toBeLessThan(ts.length / 2); // one GOP, not the stream
  });
});

/** How a stream's WebSocket upgrade is answered: 101 (opened, then closed here) or the HTTP status. */
function upgrade(url: string): Promise<number> {
  return new Promise<number>((resolve) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => (resolve(101), ws.close()));
    ws.on('error', () => undefined);
  });
}

function auditOf(dir: string): Array<{ kind: string; detail: unknown }> {
  const db = new Database(join(dir, 'backend.sqlite'), { readonly: true });
  try {
    return db.prepare<[], { kind: string; detail: string }>('SELECT kind, detail FROM audit ORDER BY id').all().map((r) => ({ kind: r.kind, detail: JSON.parse(r.detail) as unknown }));
  } finally {
    db.close();
  }
}
