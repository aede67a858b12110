/**
 * The hub's attachment cache on the real path: a real backend (HTTP uploads, scope-checked reads), the hub linked
 * to it, its SQLite cache file, and the browser host's route windows load attachments from. Two concurrent asks
 * share one fetch; a kept attachment is served after the backend stopped; the least recently used go when over
 * the bound and one over a quarter of it is served but not kept; offline and not kept is a clear error; Range
 * requests answer 206; bad requests (no token, a bad id, a non-multipart upload, an upload offline) clear errors.
 */
import { afterEach, describe, expect, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import { AttachmentRef, HUB_ATTACHMENTS_PATH } from '../../protocol';
import { AttachmentCache, HubCache, silentLogger } from '../../hub';
import { startBrowserHost } from '../../host/server';
import { TEST_TOKENS } from '../../harness/backend';
import { it } from '../../harness/fixtures';
import { waitFor } from '../../harness/temp';

afterEach(() => vi.restoreAllMocks());

/** A PNG of noise (re-encoded by the backend, noise keeps its size near side² bytes). */
const png = (side = 40): Promise<Buffer> => sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();

async function upload(port: number, bytes: Buffer, name: string): Promise<AttachmentRef> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), name);
  const res = await fetch(`http://127.0.0.1:${port}/attachments`, { method: 'POST', body: form, headers: { Authorization: `Bearer ${TEST_TOKENS.dispatcher}` } });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return AttachmentRef.parse(await res.json());
}

/** Counts the hub's fetches of attachment bytes from the backend (the spy passes every call through). */
function countBackendReads(): { count: () => number } {
  const real = globalThis.fetch;
  let n = 0;
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (/\/attachments\/[0-9a-f]{64}/.test(target) && !target.includes(HUB_ATTACHMENTS_PATH)) n++;
    return real(input, init);
  });
  return { count: () => n };
}

describe('hub attachment cache', () => {
  it('shares one fetch, serves Range requests through the host, keeps serving offline, and errors clearly when offline and not kept', async ({ startBackend, newHub, dataDir }) => {
    const backend = await startBackend();
    const [a, b] = [await upload(backend.port, await png(), 'a.png'), await upload(backend.port, await png(), 'b.png')];
    const hub = newHub({ version: 'test', backend: { url: backend.url, token: TEST_TOKENS.dispatcher }, link: { backoffBaseMs: 50, backoffMaxMs: 400, silenceLimitMs: 4000 } });
    await waitFor(() => hub.connection.value.status === 'online', 'hub online', 30_000);
    const host = await startBrowserHost({ hub, rendererDir: dataDir });
    try {
      const reads = countBackendReads();
      const [one, two] = await Promise.all([hub.attachments.get(a.id, 'full'), hub.attachments.get(a.id, 'full')]);
      expect(reads.count()).toBe(1);
      expect(one.read().equals(two.read())).toBe(true);
      expect(one.size).toBe(a.size);
      expect(hub.attachments.has(a.id, 'full')).toBe(true);

      // Through the host, as a window's <img>/<video> loads it: whole, a range, the thumbnail; served from the cache.
      const route = (path: string, init: RequestInit = {}, token: string | null = host.token): Promise<Response> =>
        fetch(`${host.origin}${HUB_ATTACHMENTS_PATH}${path}${token ? `?token=${encodeURIComponent(token)}` : ''}`, init);
      const whole = await route(`/${a.id}`);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe(a.mime);
      const bytes = Buffer.from(await whole.arrayBuffer());
      expect(bytes.equals(one.read())).toBe(true);
      const part = await route(`/${a.id}`, { headers: { Range: 'bytes=4-13' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 4-13/${a.size}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(4, 14))).toBe(true);
      expect((await route(`/${a.id}`, { headers: { Range: `bytes=${a.size + 5}-` } })).status).toBe(416);
      const thumb = await route(`/${a.id}/thumb`);
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get('content-type')).toBe('image/webp');
      expect(reads.count()).toBe(2); // the thumbnail once; the whole never again

      // Bad requests: no token, a wrong token, a bad id, another path, a non-multipart upload.
      expect((await route(`/${a.id}`, {}, null)).status).toBe(401);
      expect((await route(`/${a.id}`, {}, 'wrong')).status).toBe(401);
      const badId = await route('/not-an-id');
      expect(badId.status).toBe(400);
      expect(((await badId.json()) as { code: string }).code).toBe('invalid-params');
      expect((await route(`/${a.id}/other`)).status).toBe(404);
      const notMultipart = await route('', { method: 'POST', body: 'x', headers: { 'Content-Type': 'text/plain' } });
      expect(notMultipart.status).toBe(400);
      // An upload through the host reaches the backend and answers its AttachmentRef.
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(await png())], { type: 'image/png' }), 'via-hub.png');
      const viaHub = await route('', { method: 'POST', body: form });
      expect(viaHub.status, await viaHub.clone().text()).toBe(200);
      expect(AttachmentRef.parse(await viaHub.json()).name).toBe('via-hub.png');

      // The backend stops: what is kept is still served; what is not is a clear error (never a hang, nor a crash).
      await backend.close();
      await waitFor(() => hub.connection.value.status !== 'online', 'hub offline', 15_000);
      const offline = await route(`/${a.id}`, { headers: { Range: 'bytes=0-3' } });
      expect(offline.status).toBe(206);
      expect(Buffer.from(await offline.arrayBuffer()).equals(bytes.subarray(0, 4))).toBe(true);
      const missing = await route(`/${b.id}`);
      expect(missing.status).toBe(503);
      const why = (await missing.json()) as { code: string; message: string };
      expect(why.code).toBe('unavailable');
      expect(why.message).toMatch(/未缓存/);
      await expect(hub.attachments.get(b.id, 'full')).rejects.toMatchObject({ code: 'unavailable' });
      const uploadOffline = new FormData();
      uploadOffline.append('file', new Blob([new Uint8Array(await png())], { type: 'image/png' }), 'offline.png');
      const refused = await route('', { method: 'POST', body: uploadOffline });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { message: string }).message).toMatch(/上传/);
    } finally {
      await host.close();
    }
  }, 90_000);

  it('evicts the least recently used beyond the bound and serves one over a quarter of it without keeping it', async ({ startBackend, dataDir }) => {
    const backend = await startBackend();
    const small: AttachmentRef[] = [];
    for (let i = 0; i < 5; i++) small.push(await upload(backend.port, await png(64), `s${i}.png`));
    const big = await upload(backend.port, await png(400), 'big.png');
    // Room for four of the small ones, not five (their sizes are near one another); each is at most a quarter.
    const bound = 4 * Math.max(...small.map((ref) => ref.size));
    expect(small.reduce((sum, ref) => sum + ref.size, 0)).toBeGreaterThan(bound);
    expect(big.size).toBeGreaterThan(bound / 4);
    const cacheFile = new HubCache(join(dataDir, 'lru.sqlite'), silentLogger);
    let clock = 1000;
    const cache = new AttachmentCache({
      db: cacheFile.db,
      backend: () => ({ url: backend.url, urls: [backend.url], token: TEST_TOKENS.dispatcher }),
      maxBytes: () => bound,
      log: silentLogger,
      now: () => ++clock,
    });
    try {
      for (const ref of small.slice(0, 4)) await cache.get(ref.id, 'full');
      expect(small.slice(0, 4).every((ref) => cache.has(ref.id, 'full'))).toBe(true);
      await cache.get(small[0]!.id, 'full'); // used again: the second is now the least recently used
      await cache.get(small[4]!.id, 'full');
      expect(small.map((ref) => cache.has(ref.id, 'full'))).toEqual([true, false, true, true, true]);
      expect(cache.usedBytes()).toBeLessThanOrEqual(bound);
      const served = await cache.get(big.id, 'full');
      expect(served.kept).toBe(false);
      expect(served.read().length).toBe(big.size);
      expect(cache.has(big.id, 'full')).toBe(false);
      expect(small.map((ref) => cache.has(ref.id, 'full'))).toEqual([true, false, true, true, true]);
      // The file holds what the cache says, across a reopen.
      cacheFile.close();
      const reopened = new HubCache(join(dataDir, 'lru.sqlite'), silentLogger);
      const again = new AttachmentCache({ db: reopened.db, backend: () => null, maxBytes: () => bound, log: silentLogger });
      expect((await again.get(small[4]!.id, 'full')).read().length).toBe(small[4]!.size);
      await expect(again.get(small[1]!.id, 'full')).rejects.toMatchObject({ code: 'unavailable' });
      // The cache belongs to one user: a masked role (督查, demo) is served nothing; another user starts empty
      // (offline, so nothing the previous user was let see reaches them); the owner is kept across a reopen.
      let viewer = { userId: 'dispatcher' as string | null, masked: false };
      let online = true;
      const owned = new AttachmentCache({ db: reopened.db, backend: () => (online ? { url: backend.url, urls: [backend.url], token: TEST_TOKENS.dispatcher } : null), maxBytes: () => bound, log: silentLogger, viewer: () => viewer });
      // A cache with no owner yet (filled before owners were kept) starts over for its first user.
      expect((await owned.get(small[4]!.id, 'full')).read().length).toBe(small[4]!.size);
      expect(owned.has(small[4]!.id, 'full')).toBe(true);
      online = false;
      expect((await owned.get(small[4]!.id, 'full')).kept).toBe(true);
      viewer = { userId: 'inspector-1', masked: true };
      await expect(owned.get(small[4]!.id, 'full')).rejects.toMatchObject({ code: 'unauthorized' });
      expect(owned.has(small[4]!.id, 'full')).toBe(true);
      viewer = { userId: 'street-user', masked: false };
      await expect(owned.get(small[4]!.id, 'full')).rejects.toMatchObject({ code: 'unavailable' });
      expect(owned.usedBytes()).toBe(0);
      viewer = { userId: null, masked: false };
      await expect(owned.get(small[4]!.id, 'full')).rejects.toMatchObject({ code: 'unauthorized' });
      reopened.close();
    } finally {
      if (cacheFile.db.open) cacheFile.close();
    }
  }, 60_000);
});
