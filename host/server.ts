/**
 * The browser host: the hub behind a local HTTP + WebSocket server on 127.0.0.1. Serves the built renderer and
 * the Hub API (over WebSocket at /hub). A per-run token, given to the page in its URL, keeps other local pages
 * and programs from driving the hub; browsers must also come from the host's own origin. Every request, upgrade
 * and frame is handled inside the input boundary (./boundary): no input can end the process. Each page's socket
 * has backpressure (./page-socket).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  mapSourceOrigins,
  DisplayRole,
  HUB_WS_MAX_FRAME_BYTES,
  HUB_WS_PATH,
  validate,
  type SubscriptionUpdate,
} from '../protocol';
import { answerAttachmentRequest, consoleMediaOrigins, isAttachmentPath, type Hub } from '../hub';
import { serveAttachment } from './attachments';
import { buildContentSecurityPolicy } from '../web-serving/csp';
import { serveStatic } from '../web-serving/static-files';
import { GUARDED_HTTP_OPTIONS, closeSilentConnections, describeError, guardHttp, guardUpgrade } from '../web-serving/http-guard';
import { parseRequestTarget } from '../web-serving/request-target';
import { Refusals, clientOf, refuseUpgrade } from './boundary';
import { DEFAULT_PAGE_LIMITS, PageCloseCode, PageSocket, type PageLimits } from './page-socket';

export interface BrowserHostOptions {
  hub: Hub;
  /** Folder with the built renderer (index.html + assets). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); a fresh random one otherwise. */
  token?: string;
  /** Backpressure limits per page (tests shorten them). */
  pageLimits?: Partial<PageLimits>;
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
export const HostCloseCode = { unauthorized: 4003, badFrame: PageCloseCode.badFrame, stuck: PageCloseCode.stuck, shutdown: 4050 } as const;

export function tokensMatch(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const { hub, rendererDir } = options;
  const token = options.token ?? randomBytes(24).toString('base64url');
  const limits: PageLimits = { ...DEFAULT_PAGE_LIMITS, ...options.pageLimits };
  // The CSP follows the settings: configured map sources (city tile servers, 3D Tiles) are allowed, nothing else.
  const securityHeaders = (): Record<string, string> => ({
    'Content-Security-Policy': buildContentSecurityPolicy({ mapOrigins: mapSourceOrigins(hub.settings.settings.value.map), mediaOrigins: consoleMediaOrigins(hub) }),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });

  const refusals = new Refusals(hub.log);
  const server: Server = createServer(
    GUARDED_HTTP_OPTIONS,
    guardHttp((fields, error) => refusals.note('http-failed', fields, error), (req, res) => {
      const target = parseRequestTarget(req.url);
      if (!target) {
        refusals.note('http-bad-target', { client: clientOf(req), method: String(req.method).slice(0, 16), targetLength: req.url?.length ?? 0 });
        res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('bad request target');
        return;
      }
      if (target.pathname === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, sessions: hub.sessionCount, subscriptions: hub.subscriptionCount, refused: refusals.counts }));
        return;
      }
      if (isAttachmentPath(target.pathname)) {
        // The page's token (as on its WebSocket), and a browser's request only from the host's own origin.
        const requestOrigin = req.headers.origin;
        if ((requestOrigin !== undefined && requestOrigin !== origin) || !tokensMatch(token, target.searchParams.get('token'))) {
          req.resume();
          res.writeHead(401, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ code: 'unauthorized', message: '需要页面的访问令牌 / the page token is required' }));
          return;
        }
        return serveAttachment(req, res, target.pathname, (request) => answerAttachmentRequest(hub.attachments, request));
      }
      return serveStatic(rendererDir, req, target.pathname, res, securityHeaders());
    }),
  );
  // Connections that send nothing are closed after 5 s (headers must arrive within 5 s: GUARDED_HTTP_OPTIONS).
  closeSilentConnections(server);
  // Malformed HTTP (a bad request line, headers over the limit): answered by Node's parser, counted here.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET') return void socket.destroy(); // the client went away: nothing to answer
    refusals.note('http-malformed', { code: error.code ?? 'unknown' });
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: HUB_WS_MAX_FRAME_BYTES });
  let origin = '';

  server.on(
    'upgrade',
    guardUpgrade((fields, error) => refusals.note('upgrade-failed', fields, error), (req, socket, head) => {
      const refuse = (status: number, why: string): void => refuseUpgrade(refusals, req, socket, status, why);
      const url = parseRequestTarget(req.url);
      if (!url) return refuse(400, 'Bad Request Target');
      if (url.pathname !== HUB_WS_PATH) return refuse(404, 'Not Found');
      // Browsers always send Origin: a page from any other origin is refused even if it somehow has the token.
      const requestOrigin = req.headers.origin;
      if (requestOrigin !== undefined && requestOrigin !== origin) return refuse(403, 'Forbidden Origin');
      if (!tokensMatch(token, url.searchParams.get('token'))) return refuse(401, 'Unauthorized');
      const role = validate(DisplayRole, url.searchParams.get('role') ?? 'combined');
      if (!role.ok) return refuse(400, 'Bad Role');
      const demo = url.searchParams.get('demo') === '1';
      const label = clientOf(req);
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws, role.value, label, demo));
    }),
  );

  function attach(ws: WebSocket, displayRole: DisplayRole, label: string, demo: boolean): void {
    let page: PageSocket | null = null;
    const session = hub.openSession({ bridge: 'websocket', displayRole, label, demo, congested: () => page?.congested() ?? false }, (update: SubscriptionUpdate) =>
      page?.send({ update }),
    );
    page = new PageSocket(ws, label, refusals, (method, params) => session.handle(method, params), limits);
    ws.on('close', () => {
      try {
        session.close();
      } catch (e) {
        hub.log.error('browser host: closing a session failed', { label, error: describeError(e) });
      }
    });
    // ws reports frames it refuses itself (over maxPayload, invalid UTF-8, bad opcodes) as errors with a WS_ERR code.
    ws.on('error', (e: NodeJS.ErrnoException) =>
      e.code?.startsWith('WS_ERR_') ? refusals.note('frame-refused', { client: label, why: e.code }) : refusals.note('socket-error', { client: label }, e),
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, a server error (e.g. out of file descriptors while accepting) is logged, never fatal.
  server.on('error', (e) => hub.log.error('browser host server error', { error: describeError(e) }));
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
