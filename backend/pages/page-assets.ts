/**
 * The web pages the backend serves itself (the field app at /field/, the department page at /department/): both
 * built with the console (renderer/<page>.html → out/renderer, hashed files in assets/), served from that folder
 * with one set of rules — the page's HTML never cached and under its own Content-Security-Policy, the hashed
 * assets cached for good, nothing else of the folder reachable (a file name is [A-Za-z0-9_.-], no path).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
};
const ASSET_NAME = /^[A-Za-z0-9_.-]{1,200}$/;

/** Where the console's build put the pages (the folder holding `html`), whether this runs from source (tsx) or from out/main. */
export function findPageAssets(html = 'field.html', from: string = import.meta.dirname): string | null {
  for (const dir of [resolve(from, '../renderer'), resolve(from, '../../out/renderer'), resolve(from, '../out/renderer')]) {
    if (existsSync(join(dir, html))) return dir;
  }
  return null;
}

/**
 * The CSP of a page: everything from the backend itself; `connect` adds origins it may connect to (a SIP server),
 * `extra` directives of its own (an installable app's worker-src and manifest-src).
 */
export function pageCsp(connect: string[] = [], extra: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    ...extra,
    `connect-src 'self' ${connect.join(' ')}`.trim(),
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export interface PageAssets {
  /** The page's path, e.g. '/field' (its files are under '/field/'). */
  base: string;
  /** Its HTML file in the built folder, e.g. 'field.html'. */
  html: string;
  /** The built folder (out/renderer); null: not built (503 with `notBuilt`). */
  dir: string | null;
  /** What a 503 says while the page is not built (Chinese, then English). */
  notBuilt: string;
  /** The HTML's Content-Security-Policy, read per request. */
  csp: () => string;
  /** Other files served from the folder's top, besides favicon.svg. */
  rootFiles?: readonly string[];
  /** Files served under another name: the name under `${base}/` → the file in the folder (an app's worker, manifest). */
  aliases?: ReadonlyMap<string, string>;
  /** Headers of a file of its own (caching), instead of the rules for the HTML and the hashed assets; null: those. */
  headersOf?: (file: string) => Record<string, string> | null;
}

const json = (res: ServerResponse, status: number, body: unknown): void =>
  void res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));

function serveFile(res: ServerResponse, file: string, page: PageAssets): void {
  const headers: Record<string, string | number> = { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size };
  const own = page.headersOf?.(file) ?? null;
  if (own) Object.assign(headers, own);
  else if (file.endsWith('.html')) {
    headers['Cache-Control'] = 'no-cache';
    headers['Content-Security-Policy'] = page.csp();
  } else headers['Cache-Control'] = 'public, max-age=31536000, immutable';
  res.writeHead(200, headers);
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

/**
 * Answers a request for one of the page's files (`path` is under `${base}/`, the page's API routes already
 * tried): 405 for anything but GET, 503 while not built, 404 for a name that is not the page's.
 */
export function servePageAsset(req: IncomingMessage, res: ServerResponse, path: string, page: PageAssets): void {
  if (req.method !== 'GET') return json(res, 405, { error: 'GET only' });
  const dir = page.dir;
  if (!dir) return void res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(page.notBuilt);
  const rest = path.slice(page.base.length + 1);
  let file: string | null = null;
  if (rest === '' || rest === 'index.html') file = join(dir, page.html);
  else if (rest === 'favicon.svg' || page.rootFiles?.includes(rest)) file = join(dir, rest);
  else if (page.aliases?.has(rest)) file = join(dir, page.aliases.get(rest)!);
  else if (rest.startsWith('assets/') && ASSET_NAME.test(rest.slice('assets/'.length))) file = join(dir, 'assets', rest.slice('assets/'.length));
  if (!file || !existsSync(file)) return json(res, 404, { error: 'not found' });
  serveFile(res, file, page);
}
