/**
 * Input never ends a process. Every HTTP request and WebSocket upgrade a server takes (the backend, the
 * browser host) runs inside one of these boundaries: whatever the handler throws (synchronously or in the
 * promise it returns) becomes a refusal for that client — 400 for a request target that cannot be decoded,
 * 500 otherwise, the socket destroyed for an upgrade — reported once with the request's shape (client,
 * method, target length), never its text; the server keeps serving everyone else.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Who sent a request, and its shape (never its text): what a refusal's log line may say. */
export function requestShape(req: IncomingMessage): Record<string, unknown> {
  return { client: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`, method: String(req.method).slice(0, 16), targetLength: req.url?.length ?? 0 };
}

/** An error's kind, a short message and where it was thrown: enough to find the bug, not the whole input. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const at = error.stack?.split('\n').find((line) => line.trimStart().startsWith('at '))?.trim() ?? '';
  return `${error.name}: ${error.message.slice(0, 120)}${at ? ` (${at.slice(0, 200)})` : ''}`;
}

/** Told once of each request or upgrade a handler failed on: the request's shape and the error. */
export type FailureReport = (fields: Record<string, unknown>, error: unknown) => void;

type MaybePromise = void | boolean | Promise<unknown>;

/** Wraps a request handler: any exception answers this request alone (400 for a target that cannot be decoded, else 500). */
export function guardHttp(report: FailureReport, handler: (req: IncomingMessage, res: ServerResponse) => MaybePromise): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const failed = (e: unknown): void => {
      report(requestShape(req), e);
      try {
        const uri = e instanceof URIError;
        if (!res.headersSent) res.writeHead(uri ? 400 : 500, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end(uri ? 'bad request target' : 'internal error');
        else res.destroy();
      } catch {
        res.destroy();
      }
    };
    try {
      const result = handler(req, res);
      if (result instanceof Promise) result.catch(failed);
    } catch (e) {
      failed(e);
    }
  };
}

/** Wraps an upgrade handler: any exception ends that socket alone. */
export function guardUpgrade(report: FailureReport, handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => MaybePromise): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const failed = (e: unknown): void => {
      report(requestShape(req), e);
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    };
    // Node removes its own error listener before 'upgrade': a client resetting the connection would otherwise
    // raise an 'error' nobody hears and end the process.
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
