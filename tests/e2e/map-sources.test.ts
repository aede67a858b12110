/**
 * A city's own map sources in Chromium against the real host, one console and one local HTTP server playing the
 * city's GIS servers. First: 天地图 through an "intranet proxy" (the preset's baseUrl) answers base tiles and its
 * 注记 with 503, a 3D tileset loads, the grids GeoJSON comes without Access-Control-Allow-Origin (CORS), the
 * terrain is an HTML page (not JSON). The tiles are asked for with 天地图's parameters and key, the 注记 alone is
 * dropped, the tileset's height offset moves it and is saved. Then the server refuses the key (403) and the
 * tileset (404), the map is rebuilt (a lost WebGL context), and the globe falls back to the bundled NaturalEarthII
 * imagery instead of staying dark blue. Each failure is one line in Chinese naming the URL and the likely cause.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { SHOTS } from '../../harness/e2e';
import { it } from '../../harness/fixtures';

// High over the country: what the frame shows there is the base imagery alone.
const HOME = { lon: 105, lat: 35, height: 3_000_000, heading: 0 };
const KEY = '0123456789abcdef0123456789abcdef';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** Earth-centred coordinates of a point on the WGS84 ellipsoid (for the tileset's bounding sphere). */
function ecef(lonDeg: number, latDeg: number, height: number): [number, number, number] {
  const a = 6_378_137;
  const e2 = 6.69437999014e-3;
  const lon = (lonDeg * Math.PI) / 180;
  const lat = (latDeg * Math.PI) / 180;
  const n = a / Math.sqrt(1 - e2 * Math.sin(lat) ** 2);
  return [(n + height) * Math.cos(lat) * Math.cos(lon), (n + height) * Math.cos(lat) * Math.sin(lon), (n * (1 - e2) + height) * Math.sin(lat)];
}
/** A 3D Tiles tileset of one empty root tile, 300 m around a point in the city. */
const TILESET = { asset: { version: '1.0' }, geometricError: 500, root: { boundingVolume: { sphere: [...ecef(120.15, 30.27, 20), 300] }, geometricError: 0, refine: 'ADD' } };

type Probe = { imagery(): string; tileset(): { lon: number; lat: number; height: number } | null; loseContext(): void; gridsReady(): boolean };
const probe = <R>(page: { evaluate(script: string): Promise<unknown> }, fn: (p: Probe) => R): Promise<R> => page.evaluate(`(${fn.toString()})(window.zongzhiMap)`) as Promise<R>;

describe('3D map: a city\'s map sources, 天地图 and 倾斜摄影, and their failures', () => {
  it('asks 天地图 with its key, moves and saves the tileset\'s height, says each failure in Chinese and falls back to the bundled imagery', async ({ startHost, page, dataDir }) => {
    const requests: string[] = [];
    let refuse = false;
    const server = createServer((req, res) => {
      const url = req.url ?? '';
      requests.push(url);
      const cors = { 'Access-Control-Allow-Origin': '*' };
      if (url === '/grids.geojson') {
        // Valid GeoJSON, but no CORS header: the console's page (another origin) may not read it.
        res.writeHead(200, { 'Content-Type': 'application/geo+json' }).end(JSON.stringify({ type: 'FeatureCollection', features: [] }));
      } else if (url.startsWith('/terrain')) {
        res.writeHead(200, { ...cors, 'Content-Type': 'text/html' }).end('<html><body>GIS portal login</body></html>');
      } else if (url === '/tileset.json' && !refuse) {
        res.writeHead(200, { ...cors, 'Content-Type': 'application/json' }).end(JSON.stringify(TILESET));
      } else if (url.startsWith('/tdt/')) {
        // 天地图 answers 403 with a message for a key it refuses.
        if (refuse || !url.includes(`tk=${KEY}`)) res.writeHead(403, { ...cors, 'Content-Type': 'text/plain; charset=utf-8' }).end('权限验证失败');
        else if (url.startsWith('/tdt/cia_w/')) res.writeHead(503, cors).end('注记服务维护中');
        else res.writeHead(200, { ...cors, 'Content-Type': 'image/png' }).end(PNG);
      } else res.writeHead(404, cors).end('not found');
    });
    const port = await listen(server);
    try {
      const base = `http://127.0.0.1:${port}`;
      const urls = { grids: `${base}/grids.geojson`, tileset: `${base}/tileset.json`, terrain: `${base}/terrain`, tianditu: `${base}/tdt/img_w/wmts`, annotation: `${base}/tdt/cia_w/wmts` };
      const dir = join(dataDir, 'data');
      mkdirSync(dir, { recursive: true });
      // Only the map keys: the rest of the settings take their defaults.
      const imagery = { type: 'tianditu', key: KEY, baseUrl: `${base}/tdt` };
      writeFileSync(join(dir, 'settings.json'), JSON.stringify({ map: { gridsGeoJsonUrl: urls.grids, tilesetUrl: urls.tileset, terrainUrl: urls.terrain, imagery, home: HOME } }));
      const host = await startHost({ name: 'data' });
      await page.goto(`${host.url}#/map`);
      await page.locator('[data-testid="workspace-map"][data-phase="ready"]').waitFor({ timeout: 90_000 });
      const lines = page.getByTestId('map-source-problem');
      const line = async (url: string): Promise<string> => {
        const texts = await lines.allTextContents();
        return texts.find((text) => text.includes(`${url}，`)) ?? `(no line names ${url}: ${texts.join(' / ')})`;
      };

      // 天地图: the base's and the 注记's tiles asked for with their layer, tile matrix set and key; the 注记's 503 drops it alone.
      const tiles = (path: string): URLSearchParams[] => requests.filter((r) => r.startsWith(path)).map((r) => new URLSearchParams(r.split('?')[1]));
      await expect.poll(() => tiles('/tdt/img_w/wmts?').length, { timeout: 30_000 }).toBeGreaterThan(2);
      for (const [path, layer] of [['/tdt/img_w/wmts?', 'img'], ['/tdt/cia_w/wmts?', 'cia']] as const) {
        const asked = tiles(path);
        expect(asked.length, path).toBeGreaterThan(0);
        for (const q of asked) {
          expect({ SERVICE: q.get('SERVICE'), REQUEST: q.get('REQUEST'), LAYER: q.get('LAYER'), TILEMATRIXSET: q.get('TILEMATRIXSET'), tk: q.get('tk') }).toEqual({ SERVICE: 'WMTS', REQUEST: 'GetTile', LAYER: layer, TILEMATRIXSET: 'w', tk: KEY });
          expect(Number(q.get('TILEMATRIX'))).toBeGreaterThanOrEqual(1); // 天地图 w has no level 0
        }
      }
      await expect.poll(() => line(urls.annotation), { timeout: 30_000 }).toBe(`注记图层加载失败：${urls.annotation}，服务器返回 HTTP 503；已隐藏注记，底图照常显示`);
      expect(await line(urls.grids)).toBe(`网格边界（GeoJSON）加载失败：${urls.grids}，可能未允许跨域（CORS）：服务器有应答，但未返回 Access-Control-Allow-Origin`);
      expect(await line(urls.terrain)).toBe(`地形加载失败：${urls.terrain}，返回的内容不是 JSON`);
      expect(await line(urls.tianditu)).toMatch(/^\(no line names /); // the base stays
      expect(await probe(page, (p) => p.imagery())).toBe('configured');

      // 倾斜摄影: the tileset loads; +10 then −1 m raise it 9 m, at once, and the settings file keeps 9.
      await page.getByTestId('fly-to-tileset').waitFor({ timeout: 30_000 });
      const height = page.getByTestId('tileset-height');
      expect(await height.textContent()).toBe('0 米');
      const before = (await probe(page, (p) => p.tileset()))!;
      expect(before.height).toBeCloseTo(20, 0);
      await page.getByTestId('tileset-height-up-10').click();
      await page.getByTestId('tileset-height-down-1').click();
      await expect.poll(() => height.textContent()).toBe('9 米');
      const after = (await probe(page, (p) => p.tileset()))!;
      expect(after.height - before.height).toBeCloseTo(9, 1);
      expect(Math.abs(after.lon - before.lon) + Math.abs(after.lat - before.lat)).toBeLessThan(1e-7);
      const saved = (): unknown => (JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')) as { map: { tilesetOffset?: unknown } }).map.tilesetOffset;
      await expect.poll(saved, { timeout: 5_000 }).toEqual({ height: 9, east: 0, north: 0 });
      await page.screenshot({ path: join(SHOTS, 'map-tileset-offset-1920x1080.png') });

      // Now 天地图 refuses the key and the tileset is gone: the rebuilt map says so and draws the bundled imagery.
      refuse = true;
      await probe(page, (p) => p.loseContext());
      await page.locator('[data-testid="workspace-map"][data-phase="lost"]').waitFor({ timeout: 10_000 });
      await page.locator('[data-testid="workspace-map"][data-phase="ready"]').waitFor({ timeout: 60_000 });
      await expect.poll(() => line(urls.tianditu), { timeout: 30_000 }).toBe(`影像底图加载失败：${urls.tianditu}，天地图密钥无效或未授权此域名（请核对 tk 及其在天地图控制台登记的域名/IP）；已改用内置离线影像（NaturalEarthII）`);
      await expect.poll(() => line(urls.tileset), { timeout: 30_000 }).toBe(`三维模型（3D Tiles）加载失败：${urls.tileset}，服务器返回 HTTP 404：地址不存在`);
      expect(await probe(page, (p) => p.imagery())).toBe('bundled');
      expect((await lines.allTextContents()).join('\n')).not.toContain(KEY); // the key stays off the wall
      // The bundled imagery is drawn at home: land and sea in many colours, not the dark blue of a globe without imagery.
      await page.waitForTimeout(2000);
      const frame = (await page.evaluate('window.zongzhiMap.sample()')) as { lit: number; samples: number; colors: number };
      expect(frame.colors).toBeGreaterThan(20);
      // map.home: the new map, and Esc at the top, look at the configured point from the configured height.
      type Camera = { lon: number; lat: number; height: number };
      const camera = (): Promise<Camera> => page.evaluate(() => (window as unknown as { zongzhiMap: { camera(): Camera } }).zongzhiMap.camera());
      const atHome = (c: Camera): boolean => Math.abs(c.height - HOME.height) < HOME.height * 0.1 && Math.abs(c.lon - HOME.lon) < 0.05 && c.lat < HOME.lat && HOME.lat - c.lat < HOME.height / 111_320; // south of it, looking north
      await expect.poll(async () => atHome(await camera()), { timeout: 10_000, message: JSON.stringify(await camera()) }).toBe(true);
      await page.mouse.move(960, 540);
      await page.mouse.wheel(0, -3000);
      await expect.poll(async () => atHome(await camera()), { timeout: 5_000 }).toBe(false);
      await page.keyboard.press('Escape');
      await expect.poll(async () => atHome(await camera()), { timeout: 10_000 }).toBe(true);
      await page.waitForTimeout(1500);
      await page.screenshot({ path: join(SHOTS, 'map-source-errors-1920x1080.png') });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 180_000);
});
