/**
 * Camera recording and playback (复盘回放) on the real path: the backend's real ffmpeg encoders, its recorder
 * tapping their MPEG-TS (2-s segments here, 10 s by default), the index beside the files, and the HTTP routes
 * behind the viewer-ticket gate. Checked: the frame shown for a city time T carries the burnt-in wall clock of T
 * (within 1 s; the city clock here runs 3 days behind the wall clock), seeking backwards and forwards, through the
 * VOD playlist's segments and through frame.jpg; a pinned camera is recorded with nobody watching and its encoder
 * restarted when it dies; a damaged segment is skipped with a note while ffmpeg plays the rest of the playlist;
 * retention by age and by a quota smaller than the recordings (the newest kept, one warning); no ticket 403; bad
 * queries refused with their codes.
 */
import { describe, expect } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { dirname, join } from 'node:path';
import { CLOCK_BITS, CLOCK_STRIP, OWN_PLAYBACK_TEMPLATE, decodeClockStrip, playbackUrl, type Camera } from '../../protocol';
import { hashToken } from '../../backend/users';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { Recorder } from '../../backend/video/recorder';
import { segmentFile, type SegmentRow } from '../../backend/video/recording-index';
import { silentLogger } from '../../node-util/logger';
import { TEST_TOKENS } from '../../harness/backend';
import { waitFor } from '../../harness/temp';
import { it } from '../../harness/fixtures';

const DAY = 86_400_000;
it.override('backendConfig', {
  historyDays: 0,
  // City time ≠ wall time: the recordings must map one to the other.
  startAtMs: Date.now() - 3 * DAY,
  recording: { segmentMs: 2000, floorBytes: 0, quotaBytes: 1024 ** 3, retentionEveryMs: 3_600_000 },
});

type Backend = Parameters<Parameters<typeof it.beforeAll>[0]>[0]['backend'];
let backend: Backend;
let base: string;
let camera: Camera;
let ticket: string;
it.beforeAll(async ({ backend: fileBackend }) => {
  backend = fileBackend;
  base = backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
  ticket = backend.tickets.of(hashToken(TEST_TOKENS.dispatcher));
  camera = [...backend.state.collections.cameras.values()].find((c) => c.online && c.streams.some((s) => s.codec === 'h264'))!;
}, 60_000);

const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${base}${path}`, { headers });
const withTicket = (path: string): string => `${path}${path.includes('?') ? '&' : '?'}ticket=${ticket}`;
/** The wall time the city clock showed `cityMs` at (rate 1 here). */
const wallOf = (cityMs: number): number => cityMs + (Date.now() - backend.clock.nowMs());
/** Signed difference of two clock-strip values (both mod 2^22), in ms. */
const clockDiff = (burnt: number, wallMs: number): number => {
  const period = 2 ** CLOCK_BITS;
  const d = (((burnt - (wallMs % period)) % period) + period) % period;
  return d > period / 2 ? d - period : d;
};
const grayFrame = (args: string[]): number | null => {
  const gray = execFileSync('ffmpeg', ['-v', 'error', ...args, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { maxBuffer: 1 << 24 });
  return decodeClockStrip((x, y) => gray[y * CLOCK_STRIP.width + x]!);
};
const okSegments = (): SegmentRow[] => backend.recorder!.index.withStatus('ok').filter((s) => s.cameraId === camera.id);

describe('camera recording and playback', () => {
  it('records a pinned camera through an encoder restart; the frame at city T shows the clock of T, seeking back and forth', async ({ dataDir }) => {
    expect(camera.playback).toEqual({ kind: 'hls-range', urlTemplate: OWN_PLAYBACK_TEMPLATE, codec: 'h264' });
    const from = backend.clock.nowMs();
    expect(backend.video.pin(camera.id, 'test')).toEqual({ ok: true });
    await waitFor(() => okSegments().length >= 2, 'two recorded segments', 20_000);
    // The encoder dies: the pin brings a new one (1 s back-off), recorded on as before.
    const pid = backend.video.running.find((r) => r.cameraId === camera.id && r.kind === 'ws')!.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => backend.video.running.some((r) => r.cameraId === camera.id && r.pid !== pid), 'the encoder restarted', 10_000);
    await waitFor(() => okSegments().length >= 4, 'four recorded segments', 20_000);
    const to = backend.clock.nowMs();

    const listing = (await (await get(withTicket(`/recordings/${camera.id}?from=${from}&to=${to}`))).json()) as { segments: Array<{ startCityMs: number; durationMs: number; url: string; rate: number }>; notes: Array<{ kind: string }> };
    expect(listing.segments.length).toBeGreaterThanOrEqual(4);
    expect(listing.segments.every((s) => s.rate === 1 && s.startCityMs < from + 3 * 60_000)).toBe(true);
    expect(listing.notes.some((n) => n.kind === 'missing')).toBe(true); // the restart's pause
    const playlistResponse = await get(withTicket(playbackUrl(camera.playback!.urlTemplate, camera.id, from, to)));
    expect(playlistResponse.headers.get('access-control-allow-origin')).toBe('*');
    const playlist = await playlistResponse.text();
    expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(playlist).toContain('#EXT-X-DISCONTINUITY');
    expect(playlist.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    // Each entry: its city start, its length, its URI (with the ticket).
    const entries = [...playlist.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)\n#EXTINF:([\d.]+),\n(\S+)/g)].map((m) => ({ startCity: Date.parse(m[1]!), seconds: Number(m[2]), uri: m[3]! }));
    expect(entries.length).toBe(listing.segments.length);
    expect(entries.every((e) => e.uri.includes(`ticket=${ticket}`))).toBe(true);

    // Seek: the last segment, then back to the first, then forward to the middle.
    for (const i of [entries.length - 1, 0, Math.floor(entries.length / 2)]) {
      const entry = entries[i]!;
      const T = entry.startCity + entry.seconds * 500;
      const response = await get(`/recordings/${camera.id}/${entry.uri}`, { Range: 'bytes=0-' });
      expect(response.status).toBe(206);
      const file = join(dataDir, `seg${i}.ts`);
      writeFileSync(file, Buffer.from(await response.arrayBuffer()));
      const burnt = grayFrame(['-ss', ((T - entry.startCity) / 1000).toFixed(3), '-i', file]);
      expect(burnt).not.toBeNull();
      expect(Math.abs(clockDiff(burnt!, wallOf(T)))).toBeLessThan(1000);
    }
    // The report's way: one frame cut by the backend.
    const T = entries[1]!.startCity + 700;
    const jpeg = await get(withTicket(`/recordings/${camera.id}/frame.jpg?at=${T}`));
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
    const jpegFile = join(dataDir, 'frame.jpg');
    writeFileSync(jpegFile, Buffer.from(await jpeg.arrayBuffer()));
    const burnt = grayFrame(['-i', jpegFile]);
    expect(Math.abs(clockDiff(burnt!, wallOf(T)))).toBeLessThan(1000);
    // Unpinned: the encoder stops after its linger and the last segment is closed.
    backend.video.unpin(camera.id, 'test');
    await waitFor(() => backend.recorder!.index.withStatus('open').length === 0, 'the last segment closed', 10_000);
  }, 90_000);

  it('skips a damaged segment with a note while the playlist plays the rest', async ({ dataDir }) => {
    const index = backend.recorder!.index;
    const segments = okSegments();
    const [, damaged, truncated] = segments;
    // As a crash leaves them: still open, one overwritten with garbage, one cut inside a packet.
    writeFileSync(segmentFile(index.dir, camera.id, damaged!.startWallMs), Buffer.alloc(188 * 20, 0x11));
    writeFileSync(segmentFile(index.dir, camera.id, truncated!.startWallMs), Buffer.alloc(100, 0x47), { flag: 'a' });
    for (const s of [damaged!, truncated!]) index.finish(s.cameraId, s.startWallMs, { endWallMs: s.endWallMs, bytes: 0, status: 'open' });
    expect(index.recoverOpen()).toEqual({ ok: 1, corrupt: 1 });
    expect(index.get(camera.id, damaged!.startWallMs)).toMatchObject({ status: 'corrupt', note: expect.stringContaining('同步字节错误') });
    expect(index.get(camera.id, truncated!.startWallMs)!.bytes % 188).toBe(0);

    const from = segments[0]!.startCityMs;
    const to = segments.at(-1)!.startCityMs + 1000;
    const listing = (await (await get(withTicket(`/recordings/${camera.id}?from=${from}&to=${to}`))).json()) as { segments: Array<{ startWallMs: number }>; notes: Array<{ kind: string; note: string; fromCityMs: number }> };
    expect(listing.segments.map((s) => s.startWallMs)).not.toContain(damaged!.startWallMs);
    expect(listing.notes).toContainEqual(expect.objectContaining({ kind: 'corrupt', fromCityMs: damaged!.startCityMs, note: expect.stringContaining('录像损坏') }));
    // ffmpeg plays the playlist over HTTP (the ticket on every URI): the rest decodes.
    const url = `${base}${withTicket(`/recordings/${camera.id}/index.m3u8?from=${from}&to=${to}`)}`;
    const out = join(dataDir, 'played.ts');
    // Not execFileSync: the backend answering it runs in this process.
    await promisify(execFile)('ffmpeg', ['-v', 'error', '-i', url, '-c', 'copy', out]);
    const frames = parseInt(execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', out], { encoding: 'utf8' }), 10);
    expect(frames).toBeGreaterThan(15 * 2);
  }, 60_000);

  it('deletes what is older than the retention, and the oldest beyond a quota with one warning', async ({ dataDir }) => {
    const source = okSegments()[0]!;
    const recorder = backend.recorder!;
    // A segment from 8 days ago: removed by age (7 days).
    const oldStart = Date.now() - 8 * DAY;
    const oldFile = segmentFile(recorder.index.dir, camera.id, oldStart);
    mkdirSync(dirname(oldFile), { recursive: true });
    copyFileSync(segmentFile(recorder.index.dir, camera.id, source.startWallMs), oldFile);
    recorder.index.open({ cameraId: camera.id, startWallMs: oldStart, startCityMs: oldStart - 3 * DAY, rate: 1 });
    recorder.index.finish(camera.id, oldStart, { endWallMs: oldStart + 2000, bytes: source.bytes, status: 'ok' });
    expect(recorder.retention().aged).toBe(1);
    expect(existsSync(oldFile)).toBe(false);
    expect(recorder.index.get(camera.id, oldStart)).toBeNull();

    // Another recorder over 6 copies, its quota room for 3 of them: the newest 3 stay, a warning once an hour.
    const notices: string[] = [];
    const quota = new Recorder(
      { dir: join(dataDir, 'quota'), quotaBytes: source.bytes * 3 + 10, floorBytes: 0 },
      { streams: backend.video, cameras: () => [], cameraById: () => undefined, events: () => [], cityNow: () => 0, rate: () => 1, leading: () => false, notice: (_level, message) => notices.push(message), log: silentLogger },
    );
    const starts = Array.from({ length: 6 }, (_, k) => Date.now() - (6 - k) * 60_000);
    for (const [i, start] of starts.entries()) {
      const file = segmentFile(quota.index.dir, camera.id, start);
      mkdirSync(dirname(file), { recursive: true });
      copyFileSync(segmentFile(recorder.index.dir, camera.id, source.startWallMs), file);
      quota.index.open({ cameraId: camera.id, startWallMs: start, startCityMs: Date.UTC(2026, 0, 1, 2, i), rate: 1 });
      quota.index.finish(camera.id, start, { endWallMs: start + 2000, bytes: source.bytes, status: 'ok' });
    }
    expect(quota.retention().forSpace).toBe(3);
    expect(quota.index.oldest(10).map((s) => s.startWallMs)).toEqual(starts.slice(3));
    expect(starts.map((s) => existsSync(segmentFile(quota.index.dir, camera.id, s)))).toEqual([false, false, false, true, true, true]);
    // 02:02 UTC is 10:02 Beijing time: the third segment's end.
    expect(notices).toEqual(['录像空间不足：已删除最早的录像（至 10:02）']);
    // Over the quota again within the hour: deleted, not said again.
    const extra = Date.now();
    quota.index.open({ cameraId: camera.id, startWallMs: extra, startCityMs: Date.UTC(2026, 0, 1, 3), rate: 1 });
    quota.index.finish(camera.id, extra, { endWallMs: extra + 2000, bytes: source.bytes, status: 'ok' });
    expect(quota.retention().forSpace).toBe(1);
    expect(notices).toHaveLength(1);
    quota.stop();

    // Below the free-space floor (2 segments' worth, nothing free): the two oldest go, whatever the quota.
    const floor = new Recorder(
      { dir: join(dataDir, 'quota'), quotaBytes: 1024 ** 3, floorBytes: source.bytes * 2 },
      { streams: backend.video, cameras: () => [], cameraById: () => undefined, events: () => [], cityNow: () => 0, rate: () => 1, leading: () => false, notice: (_level, message) => notices.push(message), log: silentLogger, freeBytes: () => 0 },
    );
    expect(floor.retention().forSpace).toBe(2);
    expect(floor.index.oldest(10).map((s) => s.startWallMs)).toEqual([extra]);
    floor.stop();
  });

  it('pins, on the leading instance, the configured cameras and those near open serious events, at most max', () => {
    const [a, b, c, d] = [...backend.state.collections.cameras.values()].filter((x) => x.online && x.streams.some((s) => s.url.startsWith('/video/')));
    const at = (cam: Camera, metresNorth: number): Camera => ({ ...cam, position: [116.4, 39.9 + metresNorth / 111_000] });
    const cameras = [at(a!, 100), at(b!, 250), at(c!, 500), at(d!, 5000)];
    const event = { ...[...backend.state.collections.events.values()][0]!, location: [116.4, 39.9] as [number, number], severity: 3, status: 'dispatched' as const, reportedAt: new Date().toISOString() };
    const calls: string[] = [];
    let leading = true;
    let max = 16;
    const make = (): Recorder =>
      new Recorder(
        { dir: join(backend.dir, 'pick'), radiusM: 300, severity: 3, cameras: [d!.id], get max() { return max; } },
        {
          streams: { pin: (id, owner) => (calls.push(`pin ${id} ${owner}`), { ok: true }), unpin: (id, owner) => void calls.push(`unpin ${id} ${owner}`), onPackets: () => () => {} },
          cameras: () => cameras,
          cameraById: (id) => cameras.find((x) => x.id === id),
          events: () => [event, { ...event, id: 'minor', severity: 2, location: [116.4, 39.9 + 500 / 111_000] as [number, number] }],
          cityNow: () => 0,
          rate: () => 1,
          leading: () => leading,
          notice: () => {},
          log: silentLogger,
        },
      );
    const recorder = make();
    recorder.pick();
    // The configured one first, then those within 300 m of the severity-3 event; the severity-2 one's camera not.
    expect(recorder.pinned).toEqual([d!.id, a!.id, b!.id]);
    // Pinned again at every round: a kept camera whose encoder's restart gave up is started again.
    calls.length = 0;
    recorder.pick();
    expect(calls).toEqual([d!, a!, b!].map((x) => `pin ${x.id} recorder`));
    max = 2;
    recorder.pick();
    expect(recorder.pinned).toEqual([d!.id, a!.id]);
    expect(calls.at(-1)).toBe(`unpin ${b!.id} recorder`);
    leading = false;
    recorder.pick();
    expect(recorder.pinned).toEqual([]);
    recorder.stop();
  });

  it('cuts at most 2 frames at once and a user\'s frames at a rate (503, 429 in Chinese); audits reads once a minute', async () => {
    const at = okSegments()[0]!.startCityMs + 500;
    const answers = await Promise.all(Array.from({ length: 9 }, async () => {
      const response = await get(withTicket(`/recordings/${camera.id}/frame.jpg?at=${at}`));
      return response.status === 200 ? 'ok' : `${response.status} ${((await response.json()) as { code: string; message: string }).message.slice(0, 6)}`;
    }));
    expect(answers).toContain('ok');
    expect(answers).toContain('503 正在截取的录');
    expect(answers).toContain('429 截取录像画面');
    const audits = (): number => (backend.store as SqliteStore).auditLog(5000).filter((l) => l.kind === 'history-read' && l.detail.what === 'recording' && l.detail.camera === camera.id).length;
    expect(audits()).toBeGreaterThanOrEqual(1);
    const before = audits();
    const now = backend.clock.nowMs();
    for (let i = 0; i < 3; i++) expect((await get(withTicket(`/recordings/${camera.id}?from=${now - 60_000}&to=${now}`))).status).toBe(200);
    expect(audits() - before).toBeLessThanOrEqual(1);
  });

  it('records a camera watched over HLS: its MPEG-TS source pinned while the HLS encoder runs', async () => {
    const other = [...backend.state.collections.cameras.values()].find((c) => c.online && c.id !== camera.id && c.streams.some((s) => s.codec === 'h264' && s.url.startsWith('/video/')))!;
    expect((await get(withTicket(`/video/${other.id}/index.m3u8`))).status).toBe(200);
    expect(backend.video.pinned).toContainEqual({ cameraId: other.id, owners: ['hls'] });
    await waitFor(() => backend.recorder!.index.withStatus('open').some((s) => s.cameraId === other.id), 'a segment of the HLS-watched camera', 10_000);
  }, 30_000);

  it('closes a segment file when the client aborts mid-transfer', async () => {
    const index = backend.recorder!.index;
    const start = Date.now() - DAY;
    const file = segmentFile(index.dir, camera.id, start);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.alloc(188 * 200_000, 0x47)); // ~37 MB: more than the sockets hold
    index.open({ cameraId: camera.id, startWallMs: start, startCityMs: start, rate: 1 });
    index.finish(camera.id, start, { endWallMs: start + 2000, bytes: 188 * 200_000, status: 'ok' });
    const openOnFile = (): number => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`) === file; } catch { return false; } }).length;
    await new Promise<void>((resolve) => {
      const req = httpGet(`${base}${withTicket(`/recordings/${camera.id}/${start}.ts`)}`, (res) => res.once('data', () => (req.destroy(), resolve())));
    });
    await waitFor(() => openOnFile() === 0, 'the segment file closed after the abort', 5000);
    index.remove(camera.id, start);
    rmSync(file);
  });

  it('keeps running when the index fails (disk full): a warning, no orphan file, no escaped error', async () => {
    const ts = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-t', '2', '-c:v', 'libx264', '-g', '5', '-f', 'mpegts', 'pipe:1'], { maxBuffer: 1 << 24 });
    const own = [...backend.state.collections.cameras.values()].find((c) => c.streams.some((s) => s.url.startsWith('/video/')))!;
    let listener: ((cameraId: string, packets: Buffer | null) => void) | null = null;
    const warnings: string[] = [];
    let wall = Date.now();
    const recorder = new Recorder(
      { dir: join(backend.dir, 'failing'), segmentMs: 100, floorBytes: 0, quotaBytes: 1024 ** 3, pickEveryMs: 20, retentionEveryMs: 20 },
      {
        streams: { pin: () => ({ ok: true }), unpin: () => {}, onPackets: (_id, l) => ((listener = l), () => {}) },
        cameras: () => [],
        cameraById: (id) => (id === own.id ? own : undefined),
        events: () => [],
        cityNow: () => wall,
        rate: () => 1,
        leading: () => false,
        notice: () => {},
        log: { ...silentLogger, warn: (m) => void warnings.push(m) },
        wallNow: () => wall,
      },
    );
    recorder.start();
    const half = ts.subarray(0, Math.floor(ts.length / 2 / 188) * 188);
    listener!(own.id, half); // a segment opened
    recorder.index.close(); // every index call now throws, as SQLITE_FULL would
    wall += 5000;
    expect(() => listener!(own.id, ts.subarray(half.length))).not.toThrow(); // a keyframe closes the segment
    expect(() => listener!(own.id, null)).not.toThrow();
    wall += 5000;
    // A segment that cannot be indexed leaves no file behind (retention, index-driven, would never delete it).
    expect(() => listener!(own.id, ts)).not.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 100)); // the timers' rounds, on a closed index
    const files = execFileSync('find', [join(backend.dir, 'failing', own.id), '-name', '*.ts'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    expect(files).toHaveLength(1); // the first segment's, written before the index failed
    expect(warnings.length).toBeGreaterThan(0);
    expect(() => recorder.stop()).not.toThrow();
  });

  it('refuses a request without a ticket, out of scope, or with a bad query, with clear codes', async () => {
    const now = backend.clock.nowMs();
    for (const path of [`/recordings/${camera.id}?from=${now - 60_000}&to=${now}`, `/recordings/${camera.id}/index.m3u8?from=${now - 60_000}&to=${now}`, `/recordings/${camera.id}/${okSegments()[0]!.startWallMs}.ts`, `/recordings/${camera.id}/frame.jpg?at=${now}`]) {
      const response = await get(path);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { code: string }).code).toBe('forbidden');
    }
    const d01 = backend.tickets.of(hashToken(TEST_TOKENS['dispatcher-d01']));
    const outside = [...backend.state.collections.cameras.values()].find((c) => c.districtId !== 'd01')!;
    expect((await get(`/recordings/${outside.id}?from=1&to=2&ticket=${d01}`)).status).toBe(403);
    const refused = async (path: string, status: number, code: string): Promise<void> => {
      const response = await get(withTicket(path));
      const body = (await response.json()) as { code: string; message: string };
      expect({ status: response.status, code: body.code }).toEqual({ status, code });
      expect(body.message).toMatch(/[\u4e00-\u9fff]/);
    };
    await refused(`/recordings/${camera.id}`, 400, 'bad-query');
    await refused(`/recordings/${camera.id}?from=abc&to=5`, 400, 'bad-query');
    await refused(`/recordings/${camera.id}?from=10&to=5`, 400, 'bad-query');
    await refused(`/recordings/${camera.id}/index.m3u8?from=0&to=${2 * DAY}`, 400, 'range-too-long');
    await refused(`/recordings/${camera.id}/frame.jpg`, 400, 'bad-query');
    await refused(`/recordings/${camera.id}/index.m3u8?from=1000&to=2000`, 404, 'no-recording');
    await refused(`/recordings/${camera.id}/frame.jpg?at=1000`, 404, 'no-recording');
    await refused(`/recordings/no-such-camera?from=1&to=2`, 404, 'unknown-camera');
    await refused(`/recordings/${camera.id}/x/y`, 400, 'bad-path');
  });
});

