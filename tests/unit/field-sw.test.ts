/**
 * 网格通's service worker (scripts/field-pwa.ts serviceWorkerSource), run in a small service-worker scope: a new
 * build's worker waits at install (the old build's page keeps its worker), takes over only when a page asks
 * (skip-waiting, the user's tap on 「有新版本，点此更新」), and activating keeps the previous build's cache, so a page
 * still on the old build loads a chunk it had not loaded yet (gone from the server) from there; older caches go.
 */
import { describe, expect, it } from 'vitest';
import { serviceWorkerSource } from '../../scripts/field-pwa';

const ORIGIN = 'https://city.example';
type Listener = (event: { waitUntil(p: Promise<unknown>): void; respondWith?(r: Promise<Response>): void; request?: Request; data?: unknown }) => void;

/** A CacheStorage in memory: caches listed in the order they were made; match() looks in each, oldest first. */
class Caches {
  readonly stores = new Map<string, Map<string, Response>>();
  open(name: string): Promise<{ addAll(r: Request[]): Promise<void>; put(r: Request | string, res: Response): Promise<void>; match(r: Request | string): Promise<Response | undefined> }> {
    let store = this.stores.get(name);
    if (!store) this.stores.set(name, (store = new Map()));
    const key = (r: Request | string): string => new URL(typeof r === 'string' ? r : r.url, `${ORIGIN}/field/`).pathname;
    const s = store;
    return Promise.resolve({
      addAll: async (requests: Request[]) => {
        for (const r of requests) s.set(key(r), await network(r));
      },
      put: (r: Request | string, res: Response) => Promise.resolve(void s.set(key(r), res)),
      match: (r: Request | string) => Promise.resolve(s.get(key(r))?.clone()),
    });
  }
  keys(): Promise<string[]> {
    return Promise.resolve([...this.stores.keys()]);
  }
  delete(name: string): Promise<boolean> {
    return Promise.resolve(this.stores.delete(name));
  }
  async match(r: Request | string): Promise<Response | undefined> {
    for (const name of this.stores.keys()) {
      const hit = await (await this.open(name)).match(r);
      if (hit) return hit;
    }
    return undefined;
  }
}

/** The server: only the files of the build deployed now (an old build's chunks are gone). */
let deployed = new Set<string>();
function network(r: Request | string): Promise<Response> {
  const path = new URL(typeof r === 'string' ? r : r.url, `${ORIGIN}/field/`).pathname;
  return Promise.resolve(deployed.has(path) ? new Response(`file ${path}`, { status: 200 }) : new Response('not found', { status: 404 }));
}

function worker(shell: string[], version: string, caches: Caches, fetch: (r: Request) => Promise<Response> = network): { fire(type: string, extra?: object): Promise<Response | undefined>; skipped: () => number } {
  const listeners = new Map<string, Listener>();
  let skipped = 0;
  const self = {
    registration: { scope: `${ORIGIN}/field/` },
    location: { origin: ORIGIN },
    addEventListener: (type: string, listener: Listener) => listeners.set(type, listener),
    skipWaiting: () => Promise.resolve(void skipped++),
    clients: { claim: () => Promise.resolve() },
  };
  // Relative URLs resolve against the worker's own address (/field/sw.js), as in a browser.
  const ScopedRequest = class extends Request {
    constructor(url: string, init?: RequestInit) {
      super(new URL(url, `${ORIGIN}/field/sw.js`), init);
    }
  };
  new Function('self', 'caches', 'fetch', 'Request', serviceWorkerSource(shell, version))(self, caches, fetch, ScopedRequest);
  return {
    skipped: () => skipped,
    async fire(type, extra = {}) {
      const waits: Promise<unknown>[] = [];
      let answer: Promise<Response> | undefined;
      listeners.get(type)?.({ waitUntil: (p) => void waits.push(p), respondWith: (r) => void (answer = r), ...extra });
      await Promise.all(waits);
      return answer;
    },
  };
}

const get = (path: string): Request => new Request(`${ORIGIN}${path}`);
const read = async (answer: Promise<Response | undefined>): Promise<string> => (await answer)?.text() ?? 'no answer';

describe('the field app’s service worker', () => {
  it('waits at install, takes over on skip-waiting only, keeps the previous build’s cache and drops older ones', async () => {
    const caches = new Caches();
    const builds = ['v1', 'v2', 'v3'].map((v) => ({ v, shell: ['./', `assets/entry-${v}.js`, `assets/phone-${v}.js`] }));
    const workers = [];
    for (const { v, shell } of builds) {
      deployed = new Set(['/field/', ...shell.slice(1).map((f) => `/field/${f}`)]);
      const w = worker(shell, v, caches);
      await w.fire('install');
      expect(w.skipped()).toBe(0); // never takes over by itself
      await w.fire('message', { data: { type: 'something-else' } });
      expect(w.skipped()).toBe(0);
      await w.fire('message', { data: { type: 'skip-waiting' } });
      expect(w.skipped()).toBe(1);
      await w.fire('activate');
      workers.push(w);
    }
    // v3 active: v2's cache kept (a page on v2 that has not reloaded), v1's gone.
    expect([...caches.stores.keys()]).toEqual(['field-shell-v2', 'field-shell-v3']);
    const v3 = workers[2]!;
    // A page still on v2 loads its SIP phone chunk now: gone from the server, served from v2's cache.
    expect(deployed.has('/field/assets/phone-v2.js')).toBe(false);
    await expect(read(v3.fire('fetch', { request: get('/field/assets/phone-v2.js') }))).resolves.toBe('file /field/assets/phone-v2.js');
    await expect(read(v3.fire('fetch', { request: get('/field/assets/phone-v1.js') }))).resolves.toBe('not found');
    // The API is never cached nor answered by the worker.
    expect(await v3.fire('fetch', { request: get('/field/api/me') })).toBeUndefined();
  });

  it('answers an offline start with this build’s page, not the previous build’s', async () => {
    const caches = new Caches();
    deployed = new Set(['/field/', '/field/assets/a-v1.js']);
    const first = worker(['./', 'assets/a-v1.js'], 'v1', caches);
    await first.fire('install');
    await first.fire('activate');
    await (await caches.open('field-shell-v1')).put('./', new Response('page v1'));
    deployed = new Set(['/field/', '/field/assets/a-v2.js']);
    const second = worker(['./', 'assets/a-v2.js'], 'v2', caches);
    await second.fire('install');
    await second.fire('activate');
    await (await caches.open('field-shell-v2')).put('./', new Response('page v2'));
    // Offline: fetch fails with a network error, as a browser's.
    const offline = worker(['./'], 'v2', caches, () => Promise.reject(new TypeError('Failed to fetch')));
    const navigate = Object.defineProperty(get('/field/'), 'mode', { value: 'navigate' });
    await expect(read(offline.fire('fetch', { request: navigate }))).resolves.toBe('page v2');
  });
});
