/**
 * Attachments end to end on one real backend (SQLite file, real HTTP and WebSocket): uploads of a photo with EXIF
 * GPS (served re-encoded, upright, without EXIF), a short MP4 and a voice note (made here with ffmpeg and sharp:
 * no binaries in the repository), the same bytes twice, a report and a feedback naming them over the wire, who may
 * read them (an event in their area; the uploader before it is linked), Range requests; and the bad uploads —
 * 60 MB, an .exe named .jpg, SVG with script, HTML, `../` names, malformed multipart, no or two file parts, an
 * empty file — each refused with a clear JSON error and nothing stored.
 */
import { afterAll, describe, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import sharp from 'sharp';
import { AttachmentRef, type GovEvent, type Grid, type TimelineRecord } from '../../protocol';
import { TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';
import { it } from '../../harness/fixtures';
import { hashToken } from '../../backend/users';
import type { RunningBackend } from '../../backend';

let backend: RunningBackend;
let media: string;
const clients: WireClient[] = [];
const STREET_A = 'tok-attach-street-a';
const STREET_B = 'tok-attach-street-b';
let gridA: Grid;

it.beforeAll(async ({ backend: fileBackend, fileDir }) => {
  backend = fileBackend;
  media = fileDir;
  const grids = [...backend.state.collections.grids.values()];
  gridA = grids[0]!;
  const otherStreet = grids.find((g) => g.streetId !== gridA.streetId)!.streetId;
  await backend.store.upsertUsers([
    { id: 'street-a', name: '街道甲', role: 'dispatcher', districtScope: [gridA.streetId], tokenHash: hashToken(STREET_A), departmentId: null, staffId: null },
    { id: 'street-b', name: '街道乙', role: 'dispatcher', districtScope: [otherStreet], tokenHash: hashToken(STREET_B), departmentId: null, staffId: null },
  ]);
  // Media made with the tools the backend uses: a 1.2 s clip and a 1.5 s voice note.
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10:duration=1.2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-movflags', 'use_metadata_tags', '-metadata', 'location=+39.9042+116.4074/', '-metadata', 'title=家门口', join(media, 'clip.mp4')]);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1.5', '-c:a', 'libopus', join(media, 'voice.ogg')]);
}, 60_000);
afterAll(() => {
  for (const c of clients) c.close();
});

const url = (path: string): string => `http://127.0.0.1:${backend.port}${path}`;
const upload = (bytes: Buffer, name: string, token: string = TEST_TOKENS.dispatcher, type = 'application/octet-stream'): Promise<Response> => {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
  return fetch(url('/attachments'), { method: 'POST', body: form, headers: { Authorization: `Bearer ${token}` } });
};
const uploaded = async (bytes: Buffer, name: string, token?: string): Promise<AttachmentRef> => {
  const res = await upload(bytes, name, token);
  expect(res.status, await res.clone().text()).toBe(201);
  return AttachmentRef.parse(await res.json());
};
const get = (path: string, token: string = TEST_TOKENS.dispatcher, headers: Record<string, string> = {}): Promise<Response> => fetch(url(path), { headers: { Authorization: `Bearer ${token}`, ...headers } });
const counts = (): Promise<{ blobs: number; attachments: number; links: number }> => backend.store.attachmentCounts();

/** A JPEG whose EXIF carries a GPS position and orientation 6 (the camera held upright: shown rotated 90°). */
const photoWithGps = (): Promise<Buffer> =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .jpeg()
    .withExif({ IFD0: { Make: 'PhoneCam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '24/1 28/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '118/1 5/1 0/1' } })
    .withMetadata({ orientation: 6 })
    .toBuffer();
const png = (seed: number): Promise<Buffer> => sharp({ create: { width: 20, height: 10, channels: 4, background: { r: seed, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();

async function connect(token: string = TEST_TOKENS.dispatcher): Promise<WireClient> {
  const c = new WireClient({ url: backend.url, token });
  clients.push(c);
  await c.waitSynced();
  return c;
}

describe('attachments', () => {
  it('stores a photo re-encoded, upright and without EXIF (GPS gone), with a thumbnail; the same bytes twice are one attachment', async () => {
    const original = await photoWithGps();
    expect((await sharp(original).metadata()).exif?.toString('latin1')).toContain('PhoneCam');
    const ref = await uploaded(original, '现场照片.jpg');
    expect(ref).toMatchObject({ kind: 'image', mime: 'image/jpeg', width: 48, height: 64, name: '现场照片.jpg', thumb: true });
    const res = await get(`/attachments/${ref.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(res.headers.get('vary')).toBe('Authorization');
    expect(res.headers.get('content-disposition')).toBe(`inline; filename*=UTF-8''${encodeURIComponent('现场照片.jpg')}`);
    const served = Buffer.from(await res.arrayBuffer());
    expect(served.equals(original)).toBe(false);
    expect(served.length).toBe(ref.size);
    const meta = await sharp(served).metadata();
    expect(meta).toMatchObject({ width: 48, height: 64 });
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    expect(served.includes(Buffer.from('PhoneCam'))).toBe(false);
    const thumb = await get(`/attachments/${ref.id}/thumb`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).format).toBe('webp');

    const before = await counts();
    const again = await upload(original, 'again.jpg');
    expect(again.status).toBe(200);
    // The same attachment, named as this upload names it.
    expect(AttachmentRef.parse(await again.json())).toEqual({ ...ref, name: 'again.jpg' });
    expect(await counts()).toEqual(before);
  });

  it('takes a short video (its metadata and place dropped, thumbnail from a frame, duration) and a voice note (duration), and serves ranges (206)', async () => {
    const clip = await uploaded(readFileSync(join(media, 'clip.mp4')), 'clip.mp4');
    expect(clip).toMatchObject({ kind: 'video', mime: 'video/mp4', width: 320, height: 240, thumb: true });
    expect(clip.durationMs).toBeGreaterThanOrEqual(1100);
    expect(clip.durationMs).toBeLessThanOrEqual(1400);
    const thumb = await get(`/attachments/${clip.id}/thumb`);
    expect(thumb.status).toBe(200);
    expect(await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).toMatchObject({ format: 'webp', width: 320, height: 240 });

    const voice = await uploaded(readFileSync(join(media, 'voice.ogg')), 'voice.ogg');
    expect(voice).toMatchObject({ kind: 'audio', mime: 'audio/ogg', thumb: false });
    expect(voice.durationMs).toBeGreaterThanOrEqual(1400);
    expect(voice.durationMs).toBeLessThanOrEqual(1600);
    expect((await get(`/attachments/${voice.id}/thumb`)).status).toBe(404);

    // Stored without the file's metadata (the place a phone wrote into it), the pictures as they were.
    expect(readFileSync(join(media, 'clip.mp4')).includes('+39.9042')).toBe(true);
    const bytes = Buffer.from(await (await get(`/attachments/${clip.id}`)).arrayBuffer());
    expect(bytes.length).toBe(clip.size);
    expect(bytes.includes('+39.9042')).toBe(false);
    expect(bytes.includes('家门口')).toBe(false);
    const part = await get(`/attachments/${clip.id}`, TEST_TOKENS.dispatcher, { Range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
    const tail = await get(`/attachments/${clip.id}`, TEST_TOKENS.dispatcher, { Range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-10))).toBe(true);
    const beyond = await get(`/attachments/${clip.id}`, TEST_TOKENS.dispatcher, { Range: `bytes=${bytes.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  });

  it('links a report’s and a feedback’s attachments to the event; readers in its area see them, others get 403 (audited)', async () => {
    const photo = await uploaded(await png(1), 'photo.png', STREET_A);
    expect(photo).toMatchObject({ kind: 'image', mime: 'image/webp' }); // PNG (maybe transparent) is kept as WebP
    // Before a report names it: its uploader only.
    expect((await get(`/attachments/${photo.id}`, STREET_A)).status).toBe(200);
    expect((await get(`/attachments/${photo.id}`, TEST_TOKENS.dispatcher)).status).toBe(403);
    // The dispatcher sends the same bytes: the same attachment (the first uploader kept), and theirs to read too.
    const again = await upload(await png(1), 'again.png', TEST_TOKENS.dispatcher);
    expect(again.status).toBe(200);
    expect(AttachmentRef.parse(await again.json()).id).toBe(photo.id);
    expect((await backend.store.findAttachments([photo.id]))[0]!.createdBy).toBe('street-a');
    expect((await get(`/attachments/${photo.id}`, TEST_TOKENS.dispatcher)).status).toBe(200);
    expect((await get(`/attachments/${photo.id}`, STREET_B)).status).toBe(403);

    const a = await connect(STREET_A);
    const unknown = 'f'.repeat(64);
    await expect(a.command('event.report', { source: 'grid-app', category: 'noise', severity: 1, title: '噪音', description: '', location: gridA.center, attachments: [unknown] })).rejects.toMatchObject({ wire: { code: 'invalid', message: expect.stringContaining(`附件 ${unknown} 不存在`) } });
    await expect(a.command('event.report', { source: 'grid-app', category: 'noise', severity: 1, title: '噪音', description: '', location: gridA.center, attachments: [photo.id, photo.id] })).rejects.toMatchObject({ wire: { code: 'invalid' } });
    expect((await counts()).links).toBe(0);

    const ack = await a.command('event.report', { source: 'grid-app', category: 'noise', severity: 1, title: '噪音扰民', description: '现场照片', location: gridA.center, attachments: [photo.id] });
    const eventId = String(ack.result.eventId);
    expect(backend.state.get('events', eventId)?.attachments).toEqual([photo]);
    await until(() => a.get<GovEvent>('events', eventId)?.attachments?.[0]?.id === photo.id, 'the event with its photo at the client');
    expect(await backend.store.attachmentEvents(photo.id)).toEqual([eventId]);

    // Now whoever sees the event: the city-wide dispatcher and the street; not another street (audited once a minute).
    expect((await get(`/attachments/${photo.id}`, TEST_TOKENS.dispatcher)).status).toBe(200);
    expect((await get(`/attachments/${photo.id}/thumb`, STREET_A)).status).toBe(200);
    const refused = await get(`/attachments/${photo.id}`, STREET_B);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'forbidden', message: expect.stringContaining('辖区') });
    expect((await get(`/attachments/${photo.id}/thumb`, STREET_B)).status).toBe(403);
    const audited = (await backend.store.auditLog(50)).filter((e) => e.kind === 'attachment-refused' && e.userId === 'street-b');
    expect(audited).toEqual([expect.objectContaining({ detail: { attachmentId: photo.id, thumb: false } })]);
    // Seen on another area's event, the id cannot be attached to one's own (and so be read): refused like an unknown one.
    const b = await connect(STREET_B);
    const gridB = [...backend.state.collections.grids.values()].find((g) => g.streetId === b.welcome!.districtScope![0])!;
    await expect(b.command('event.report', { source: 'grid-app', category: 'noise', severity: 1, title: '借用照片', description: '', location: gridB.center, attachments: [photo.id] })).rejects.toMatchObject({ wire: { code: 'invalid' } });
    // A masked reader (the demo account) never gets a photo, even of an event it sees.
    expect((await get(`/attachments/${photo.id}`, TEST_TOKENS.viewer)).status).toBe(403);
    expect((await get(`/attachments/${photo.id}/thumb`, TEST_TOKENS.viewer)).status).toBe(403);

    // 处置反馈 with a photo: the history entry carries it, and it is linked to the event too.
    const after = await uploaded(await png(2), 'after.png');
    const desk = await connect();
    const department = [...backend.state.collections.departments.values()][0]!;
    await desk.command('event.dispatch', { eventId, departmentId: department.id });
    await desk.command('event.sign', { eventId });
    await desk.command('event.feedback', { eventId, note: '已处置', attachments: [after.id] });
    const entries = [...backend.state.collections.timeline.values()].filter((t: TimelineRecord) => t.eventId === eventId && t.action === 'feedback');
    expect(entries.map((t) => t.attachments)).toEqual([[after]]);
    expect(await backend.store.attachmentEvents(after.id)).toEqual([eventId]);
    expect((await get(`/attachments/${after.id}`, STREET_A)).status).toBe(200);
  });

  it('answers 401 without a token, 403 to the read-only role, 404 for an unknown id, 405 for another method', async () => {
    const before = await counts();
    expect((await fetch(url('/attachments'), { method: 'POST', body: new FormData() })).status).toBe(401);
    expect((await fetch(url(`/attachments/${'a'.repeat(64)}`))).status).toBe(401);
    const viewer = await upload(await png(3), 'x.png', TEST_TOKENS.viewer);
    expect(viewer.status).toBe(403);
    expect(await viewer.json()).toMatchObject({ code: 'forbidden', message: expect.stringContaining('不能上传') });
    expect((await backend.store.auditLog(50)).some((e) => e.kind === 'attachment-refused' && e.userId === 'viewer' && e.detail.upload === true)).toBe(true);
    expect((await get(`/attachments/${'a'.repeat(64)}`)).status).toBe(404);
    expect((await get('/attachments/../../etc/passwd')).status).toBe(404);
    expect((await get('/attachments/x/y/z')).status).toBe(404);
    expect((await fetch(url('/attachments'), { headers: { Authorization: `Bearer ${TEST_TOKENS.dispatcher}` } })).status).toBe(405);
    expect(await counts()).toEqual(before);
  });
});

/** Sends a raw body (a Buffer, or `chunks` of it streamed) and resolves with the status and JSON the server answered. */
function rawUpload(body: Buffer | { chunk: Buffer; times: number }, contentType: string, extra: Record<string, string> = {}): Promise<{ status: number; body: { code: string; message: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(url('/attachments'), { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.dispatcher}`, 'Content-Type': contentType, ...extra } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code: string; message: string } }));
      res.on('error', reject);
    });
    // The server may close the connection once it has answered: writing further then fails, which is the point.
    let answered = false;
    req.on('response', () => void (answered = true));
    req.on('error', (e) => void (answered || reject(e)));
    if (Buffer.isBuffer(body)) return void req.end(body);
    let sent = 0;
    const pump = (): void => {
      while (sent < body.times) {
        sent++;
        if (!req.write(body.chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('bad uploads: a clear error, nothing stored', () => {
  const B = 'zz-boundary-42';
  const part = (name: string, filename: string, bytes: Buffer | string): Buffer =>
    Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: image/jpeg\r\n\r\n`), Buffer.from(bytes), Buffer.from('\r\n')]);
  const end = Buffer.from(`--${B}--\r\n`);
  const multipart = `multipart/form-data; boundary=${B}`;

  it.for([
    ['an .exe named .jpg', () => upload(Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff', 'latin1'), Buffer.alloc(200)]), 'photo.jpg', TEST_TOKENS.dispatcher, 'image/jpeg'), 415, /不支持的文件类型：application\/x-msdownload/],
    ['an SVG with script', () => upload(Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'x.jpg', TEST_TOKENS.dispatcher, 'image/jpeg'), 415, /不支持的文件类型：SVG 图像/],
    ['an SVG without script', () => upload(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'), 'x.svg'), 415, /不支持的文件类型/],
    ['HTML', () => upload(Buffer.from('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>'), 'x.png'), 415, /不支持的文件类型：HTML/],
    ['a PDF', () => upload(Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n'), 'x.jpg'), 415, /application\/pdf/],
    ['a JPEG that does not decode', () => upload(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 7)]), 'broken.jpg'), 422, /图片无法解码/],
    ['a video ffprobe cannot read (an MP4 header, then noise)', () => upload(Buffer.concat([readFileSync(join(media, 'clip.mp4')).subarray(0, 48), Buffer.alloc(4000, 0x5a)]), 'clip.mp4'), 422, /去除媒体元数据失败|读取媒体信息失败|没有可读/],
    ['an empty file', () => upload(Buffer.alloc(0), 'empty.jpg'), 400, /文件为空/],
    ['no file part', () => fetch(url('/attachments'), { method: 'POST', body: (() => { const f = new FormData(); f.append('note', 'x'); return f; })(), headers: { Authorization: `Bearer ${TEST_TOKENS.dispatcher}` } }), 400, /没有文件/],
    ['a part of another name', () => rawUpload(Buffer.concat([part('photo', 'a.jpg', 'abc'), end]), multipart), 400, /名为 file 的部分/],
    ['two file parts', () => rawUpload(Buffer.concat([part('file', 'a.jpg', 'abc'), part('file', 'b.jpg', 'def'), end]), multipart), 400, /一次只能上传一个文件/],
    ['malformed multipart (cut off)', () => rawUpload(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\nabc`), multipart), 400, /multipart 格式有误/],
    ['not multipart', () => rawUpload(Buffer.from('{"file":"x"}'), 'application/json'), 400, /multipart\/form-data/],
    ['60 MB declared', () => rawUpload(Buffer.alloc(10), multipart, { 'Content-Length': String(60 * 1024 * 1024) }), 413, /上传过大/],
  ] as const)('%s', async ([, send, status, message]) => {
    const before = await counts();
    const res = await send();
    const body = res instanceof Response ? ((await res.json()) as { code: string; message: string }) : res.body;
    expect({ status: res.status, message: body.message }).toEqual({ status, message: expect.stringMatching(message) });
    expect(body.code).toEqual(expect.any(String));
    expect(await counts()).toEqual(before);
  });

  it('stops reading a 60 MB upload streamed without a length once over the limit (413), nothing stored', async () => {
    const before = await counts();
    const head = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n\r\n`);
    // The server answers 413 and closes the connection under a client still sending: on a busy machine the
    // client's next write may meet the reset before it reads the answer (EPIPE). Either way nothing is stored.
    const res = await rawUpload({ chunk: Buffer.concat([head, Buffer.alloc(1024 * 1024 - head.length, 1)]), times: 60 }, multipart).catch((e: NodeJS.ErrnoException) => {
      expect(e.code).toMatch(/^(EPIPE|ECONNRESET)$/);
      return null;
    });
    if (res) {
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ code: 'too-large', message: expect.stringContaining('上传过大') });
    }
    expect(await counts()).toEqual(before);
    // The backend still serves.
    expect((await get(`/attachments/${'a'.repeat(64)}`)).status).toBe(404);
  });

  it('keeps only a safe display name: `../` and control characters never reach a path (there are none)', async () => {
    const ref = await uploaded(await png(9), '../../etc/passwd');
    expect(ref.name).toBe('passwd');
    // Control characters can only come percent-encoded (RFC 5987 filename*): decoded, then removed.
    const raw = Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''..%5C..%5Cwin%E2%80%AEdo%07ws%00.png\r\n\r\n`), await png(10), Buffer.from(`\r\n--${B}--\r\n`)]);
    const other = await rawUpload(raw, multipart);
    expect(other.status).toBe(201);
    expect(other.body).toMatchObject({ name: 'windows.png' });
    const dots = await uploaded(await png(11), '..');
    expect(dots.name).toBe(`image-${dots.id.slice(0, 8)}`);
    const res = await get(`/attachments/${ref.id}`);
    expect(res.headers.get('content-disposition')).toBe("inline; filename*=UTF-8''passwd");
  });
});
