/**
 * Static city layers over HTTP (GET /city/buildings): the building footprints the map draws. They never change
 * while the backend runs, so they are not part of the live protocol; the hub fetches them once (with the same
 * token as the WebSocket login) and caches them. Columns of numbers, rounded to what a map can show.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BuildingsLayer } from '../protocol';
import type { Buildings } from './city-generator/city';
import type { BackendStore } from './store/types';
import { bearerUser } from './http-answers';

const round = (values: ArrayLike<number>, digits: number): number[] => {
  const f = 10 ** digits;
  return Array.from(values, (v) => Math.round(v * f) / f);
};

export function buildingsLayer(b: Buildings): BuildingsLayer {
  return {
    count: b.count,
    lon: round(b.lon, 6), // ~0.1 m
    lat: round(b.lat, 6),
    width: round(b.width, 1),
    depth: round(b.depth, 1),
    height: round(b.height, 1),
    rotation: round(b.rotation, 1),
  };
}

/** The route handler for BackendServer's httpRoutes; answers 401 without a valid bearer token. */
export function cityLayerRoutes(store: BackendStore, buildings: Buildings): (req: IncomingMessage, res: ServerResponse) => boolean {
  let body: Buffer | null = null; // encoded once, on first use
  return (req, res) => {
    if (req.url !== '/city/buildings') return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return true;
    }
    void (async () => {
      const user = await bearerUser(store, req);
      if (!user) {
        res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8' }).end('a valid bearer token is required');
        return;
      }
      body ??= Buffer.from(JSON.stringify(buildingsLayer(buildings)));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length, 'Cache-Control': 'no-store' }).end(body);
    })().catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    });
    return true;
  };
}
