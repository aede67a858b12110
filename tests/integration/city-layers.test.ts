/** Static city layers: backend HTTP route → hub (fetch, validate, cache) → offline start, over real sockets and files. */
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import { Hub } from '../../hub';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { it } from '../../harness/fixtures';

let dir: string;
let backend: Awaited<ReturnType<typeof startTestBackend>>;
it.override('backendConfig', { historyDays: 0 });
// The file's backend and temp dir (fixtures: started here, within the hook's time, and removed after the file).
it.beforeAll(async ({ backend: fileBackend, fileDir }) => {
  backend = fileBackend;
  dir = fileDir;
}, 60_000);

describe('city layers', () => {
  it('the backend serves the buildings to a valid token only', async () => {
    const url = `${backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '')}/city/buildings`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.viewer}` } })).status).toBe(405);
    const ok = await fetch(url, { headers: { Authorization: `Bearer ${TEST_TOKENS.viewer}` } });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { count: number; lon: number[] };
    expect(body.count).toBe(backend.city.buildings.count);
    expect(body.lon).toHaveLength(body.count);
  });

  it('the hub fetches once, caches, and serves the layer offline after a restart', async () => {
    const dataDir = join(dir, 'hub');
    const hub = new Hub({ dataDir, version: 'test', backend: { url: backend.url, token: TEST_TOKENS.dispatcher } });
    const [a, b] = await Promise.all([hub.cityLayer('buildings'), hub.cityLayer('buildings')]);
    expect(a).toBe(b); // one fetch for concurrent asks
    expect(a.count).toBeGreaterThan(10_000);
    expect(a.height.every((h) => h >= 6 && h <= 120)).toBe(true);
    hub.close();
    // No backend now: the cache answers.
    const offline = new Hub({ dataDir, version: 'test' });
    expect((await offline.cityLayer('buildings')).count).toBe(a.count);
    offline.close();
  }, 60_000);

  it('no backend and nothing cached, or a refused token: a clear unavailable error, nothing cached', async () => {
    const empty = new Hub({ dataDir: join(dir, 'empty'), version: 'test' });
    await expect(empty.cityLayer('buildings')).rejects.toMatchObject({ code: 'unavailable', message: /not cached and no backend/ });
    empty.close();
    const refused = new Hub({ dataDir: join(dir, 'refused'), version: 'test', backend: { url: backend.url, token: 'not-a-token' } });
    await expect(refused.cityLayer('buildings')).rejects.toMatchObject({ code: 'unavailable', message: /answered 401/ });
    expect(refused.cache.getMeta('layer:buildings')).toBeNull();
    refused.close();
  });
});
