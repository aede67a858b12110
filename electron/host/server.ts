/**
 * The browser host: the hub behind a local HTTP + WebSocket server on 127.0.0.1. Serves the built renderer and
 * the Hub API (over WebSocket at /hub). A per-run token, given to the page in its URL, keeps other local pages
 * and programs from driving the hub; browsers must also come from the host's own origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  mapSourceOrigins,
  DisplayRole,
  HUB_WS_MAX_FRAME_BYTES,
  HUB_WS_PATH,
  HubWsRequest,
  validate,
  type HubWsServerMessage,
  type SubscriptionUpdate,
} from '../../protocol';
import { consoleMediaOrigins, type Hub } from '../hub';
import { buildContentSecurityPolicy } from '../security/csp';
import { serveStatic } from './static-files';

export interface BrowserHostOptions {
  hub: Hub;
  /** Folder with the built renderer (index.html + assets). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); a fresh random one otherwise. */
  token?: string;
}

export interface BrowserHost {
  readonly port: number;
  readonly token: string;
  readonly origin: string;
  /** The URL to open, carrying the token (and optionally the display role, and demo masking). */
  urlFor(role?: DisplayRole, demo?: boolean): string;
  readonly connectionCount: number;
  close(): Promise<void>;
}

/** WebSocket close codes the host uses (application range). */
export const HostCloseCode = { unauthorized: 4003, badFrame: 4400, shutdown: 4050 } as const;

export function tokensMatch(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const { hub, rendererDir } = options;
  const token = options.token ?? randomBytes(24).toString('base64url');
  // The CSP follows the settings: configured map sources (city tile servers, 3D Tiles) are allowed, nothing else.
  const securityHeaders = (): Record<string, string> => ({
    'Content-Security-Policy': buildContentSecurityPolicy({ mapOrigins: mapSourceOrigins(hub.settings.settings.value.map), mediaOrigins: consoleMediaOrigins(hub) }),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });

  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, sessions: hub.sessionCount }));
      return;
    }
    serveStatic(rendererDir, req, res, securityHeaders()).catch((e: unknown) => {
      hub.log.error('static file error', { url: req.url, error: String(e) });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: HUB_WS_MAX_FRAME_BYTES });
  let origin = '';

  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? '/', origin);
    const refuse = (status: number, why: string): void => {
      hub.log.warn('browser host refused a connection', { why, remote: req.socket.remoteAddress });
      socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== HUB_WS_PATH) return refuse(404, 'Not Found');
    // Browsers always send Origin: a page from any other origin is refused even if it somehow has the token.
    const requestOrigin = req.headers.origin;
    if (requestOrigin !== undefined && requestOrigin !== origin) return refuse(403, 'Forbidden Origin');
    if (!tokensMatch(token, url.searchParams.get('token'))) return refuse(401, 'Unauthorized');
    const role = validate(DisplayRole, url.searchParams.get('role') ?? 'combined');
    if (!role.ok) return refuse(400, 'Bad Role');
    const demo = url.searchParams.get('demo') === '1';
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, role.value, `${req.socket.remoteAddress}:${req.socket.remotePort}`, demo));
  });

  function attach(ws: WebSocket, displayRole: DisplayRole, label: string, demo: boolean): void {
    const send = (message: HubWsServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    const session = hub.openSession({ bridge: 'websocket', displayRole, label, demo }, (update: SubscriptionUpdate) => send({ update }));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        ws.close(HostCloseCode.badFrame, 'binary frames are not part of the Hub API');
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawToString(data));
      } catch {
        ws.close(HostCloseCode.badFrame, 'frame is not JSON');
        return;
      }
      const request = validate(HubWsRequest, parsed);
      if (!request.ok) {
        // Without a usable id there is nobody to answer: close with the reason so the bug is visible.
        ws.close(HostCloseCode.badFrame, 'frame is not a Hub API request');
        return;
      }
      const { id, method, params } = request.value;
      session.handle(method, params).then(
        (reply) => send({ id, reply }),
        (e: unknown) => send({ id, reply: { ok: false, error: { code: 'internal', message: String(e) } } }),
      );
    });
    ws.on('close', () => session.close());
    ws.on('error', (e) => hub.log.warn('browser host socket error', { label, error: e.message }));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  return {
    port,
    token,
    origin,
    urlFor: (role?: DisplayRole, demo?: boolean) => `${origin}/?token=${encodeURIComponent(token)}${role ? `&role=${role}` : ''}${demo ? '&demo=1&playlist=30' : ''}`,
    get connectionCount() {
      return wss.clients.size;
    },
    close: async () => {
      for (const client of wss.clients) client.close(HostCloseCode.shutdown, 'host shutting down');
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
