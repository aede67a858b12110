/**
 * Input never ends a process. Every HTTP request and WebSocket upgrade a server takes runs inside one of
 * these boundaries: whatever the handler throws (synchronously or in the promise it returns) becomes a
 * refusal for that client — 400 for a request target that cannot be decoded, 500 otherwise, the socket
 * destroyed for an upgrade — logged once with the request's shape (method, path length, a short head of the
 * path), never its whole text; the server keeps serving everyone else.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from './logger';

/** A percent-encoded path segment decoded, or null when it is not valid percent-encoding / UTF-8. */
export function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** The path part of a request target, without the query; never throws. */
export function requestPath(req: IncomingMessage): string {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** A URL for a request target against a base, or null when it cannot be parsed ('//', '//[', …). */
export function parseTarget(target: string | undefined, base: string): URL | null {
  try {
    return new URL(target ?? '/', base);
  } catch {
    return null;
  }
}

/** What a log line may say about an input: its size and a short, printable head — never the input itself. */
export function describeInput(text: string): { length: number; head: string } {
  return { length: text.length, head: text.slice(0, 48).replace(/[^\x20-\x7e]/g, '?') };
}

function describeRequest(req: IncomingMessage): Record<string, unknown> {
  return { method: String(req.method).slice(0, 16), path: describeInput(requestPath(req)), remote: `${req.socket.remoteAddress}:${req.socket.remotePort}` };
}

type MaybePromise = void | boolean | Promise<unknown>;

/** Wraps a request handler: any exception answers this request alone (400/500) and is logged once. */
export function guardHttp(log: Logger, name: string, handler: (req: IncomingMessage, res: ServerResponse) => MaybePromise): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const failed = (e: unknown): void => {
      const uri = e instanceof URIError;
      log.error(`${name}: request handler failed`, { ...describeRequest(req), error: (e as Error)?.message?.slice(0, 300) ?? String(e), stack: uri ? undefined : (e as Error)?.stack?.split('\n').slice(0, 6).join(' | ') });
      if (!res.headersSent) res.writeHead(uri ? 400 : 500, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end(uri ? 'bad request target' : 'internal error');
      else res.destroy();
    };
    try {
      const result = handler(req, res);
      if (result instanceof Promise) result.catch(failed);
    } catch (e) {
      failed(e);
    }
  };
}

/** Wraps an upgrade handler: any exception ends that socket alone and is logged once. */
export function guardUpgrade(log: Logger, name: string, handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => MaybePromise): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const failed = (e: unknown): void => {
      log.error(`${name}: upgrade handler failed`, { ...describeRequest(req), error: (e as Error)?.message?.slice(0, 300) ?? String(e) });
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    };
    // A socket error (a reset mid-handshake) must not become an uncaught 'error' event either.
    socket.on('error', () => socket.destroy());
    try {
      const result = handler(req, socket, head);
      if (result instanceof Promise) result.catch(failed);
    } catch (e) {
      failed(e);
    }
  };
}

/**
 * Closes connections that have sent nothing at all after `ms` (Node's header timeout only starts counting
 * once a request has begun: a thousand silent sockets were held for over 30 s).
 */
export function closeSilentConnections(server: Server, ms = 5000): void {
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, ms);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

/** HTTP server options that close connections which never finish their request headers (slowloris, idle). */
export const GUARDED_HTTP_OPTIONS = {
  /** How often Node checks the timeouts below (default 30 s: idle sockets were held that long). */
  connectionsCheckingInterval: 1000,
  headersTimeout: 5000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5000,
} as const;
