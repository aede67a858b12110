/**
 * A city's own map sources that fail, in Chromium against the real host: a local HTTP server answers the grids
 * GeoJSON without Access-Control-Allow-Origin (CORS), the 3D tileset with 404, the terrain with an HTML page (not
 * JSON), and the imagery points at a dead port. Each failure is one line in Chinese naming the URL and the
 * likely cause, and the globe falls back to the bundled NaturalEarthII imagery instead of staying dark blue.
 */
import { createServer, type Server } from 'node:http';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { SHOTS } from '../../harness/e2e';
import { it } from '../../harness/fixtures';

// High over the country: what the frame shows there is the base imagery alone.
const HOME = { lon: 105, lat: 35, height: 3_000_000, heading: 0 };

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('3D map: a city\'s map sources that fail', () => {
  it('says each failure on its own line in Chinese, naming the URL and the cause, and falls back to the bundled imagery', async ({ startHost, page, dataDir }) => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const cors = { 'Access-Control-Allow-Origin': '*' };
      if (req.url === '/grids.geojson') {
        // Valid GeoJSON, but no CORS header: the console's page (another origin) may not read it.
        res.writeHead(200, { 'Content-Type': 'application/geo+json' }).end(JSON.stringify({ type: 'FeatureCollection', features: [] }));
      } else if (req.url?.startsWith('/terrain')) {
        res.writeHead(200, { ...cors, 'Content-Type': 'text/html' }).end('<html><body>GIS portal login</body></html>');
      } else res.writeHead(404, cors).end('not found');
    });
    const port = await listen(server);
    const dead = createServer();
    const deadPort = await listen(dead);
    await new Promise((resolve) => dead.close(resolve));
    try {
      const base = `http://127.0.0.1:${port}`;
      const urls = {
        grids: `${base}/grids.geojson`,
        tileset: `${base}/tileset.json`,
        terrain: `${base}/terrain`,
        imagery: `http://127.0.0.1:${deadPort}/tiles/{z}/{x}/{y}.png`,
      };
      const dir = join(dataDir, 'data');
      mkdirSync(dir, { recursive: true });
      // Only the map keys: the rest of the settings take their defaults.
      writeFileSync(join(dir, 'settings.json'), JSON.stringify({ map: { gridsGeoJsonUrl: urls.grids, tilesetUrl: urls.tileset, terrainUrl: urls.terrain, imagery: { type: 'xyz', url: urls.imagery }, home: HOME } }));
      const host = await startHost({ name: 'data' });
      await page.goto(`${host.url}#/map`);
      await page.locator('[data-testid="workspace-map"][data-phase="ready"]').waitFor({ timeout: 90_000 });
      const lines = page.getByTestId('map-source-problem');
      await expect.poll(() => lines.count(), { timeout: 30_000 }).toBe(4);
      const texts = await lines.allTextContents();
      const line = (url: string): string => texts.find((text) => text.includes(url)) ?? `(no line names ${url}: ${texts.join(' / ')})`;
      expect(line(urls.grids)).toBe(`网格边界（GeoJSON）加载失败：${urls.grids}，可能未允许跨域（CORS）：服务器有应答，但未返回 Access-Control-Allow-Origin`);
      expect(line(urls.tileset)).toBe(`三维模型（3D Tiles）加载失败：${urls.tileset}，服务器返回 HTTP 404：地址不存在`);
      expect(line(urls.terrain)).toBe(`地形加载失败：${urls.terrain}，返回的内容不是 JSON`);
      expect(line(urls.imagery)).toBe(`影像底图加载失败：${urls.imagery}，无法连接：连接被拒绝或服务器不可达；已改用内置离线影像（NaturalEarthII）`);
      expect(await page.evaluate(() => (window as unknown as { zongzhiMap: { imagery(): string } }).zongzhiMap.imagery())).toBe('bundled');
      await page.waitForFunction(() => (window as unknown as { zongzhiMap: { gridsReady(): boolean } }).zongzhiMap.gridsReady(), undefined, { timeout: 60_000 });
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
