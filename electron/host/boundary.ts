/**
 * The browser host's input boundary: every HTTP request, upgrade and Hub API frame is handled inside one of these
 * wrappers, so no input can end the process. An exception becomes a refusal for that one client (HTTP 500, the
 * socket destroyed, a WebSocket close) and one log line with the client and the input's shape — never the input
 * itself — and the host keeps serving. Floods of refusals are summarised instead of logged line by line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/logger';

/** The kinds of refusal the host counts (GET /healthz reports them). */
export type RefusalKind =
  | 'http-bad-target'
  | 'http-failed'
  | 'http-malformed'
  | 'upgrade-refused'
  | 'upgrade-failed'
  | 'frame-refused'
  | 'frame-failed'
  | 'reply-unencodable'
  | 'page-stuck'
  | 'socket-error';

/** At most this many log lines per kind per window; the rest are counted and summarised. */
const LOG_LINES_PER_WINDOW = 20;
const LOG_WINDOW_MS = 60_000;

export class Refusals {
  readonly counts: Partial<Record<RefusalKind, number>> = {};
  private windowStart = 0;
  private readonly logged = new Map<RefusalKind, number>();
  private readonly suppressed = new Map<RefusalKind, number>();

  constructor(private readonly log: Logger) {}

  /** Counts a refusal and logs it (fields: the client and the input's shape; no input). */
  note(kind: RefusalKind, fields: Record<string, unknown>, error?: unknown): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    const now = Date.now();
    if (now - this.windowStart > LOG_WINDOW_MS) {
      for (const [k, n] of this.suppressed) this.log.warn('browser host: refusals not logged one by one', { kind: k, count: n });
      this.suppressed.clear();
      this.logged.clear();
      this.windowStart = now;
    }
    const lines = this.logged.get(kind) ?? 0;
    if (lines >= LOG_LINES_PER_WINDOW) {
      this.suppressed.set(kind, (this.suppressed.get(kind) ?? 0) + 1);
      return;
    }
    this.logged.set(kind, lines + 1);
    const detail = error === undefined ? {} : { error: describeError(error) };
    const level = kind.endsWith('-failed') || kind === 'reply-unencodable' ? 'error' : 'warn';
    this.log[level](`browser host refused input (${kind})`, { ...fields, ...detail });
  }
}

/** An error's kind, a short message and where it was thrown: enough to find the bug, not the whole input. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const at = error.stack?.split('\n').find((line) => line.trimStart().startsWith('at '))?.trim() ?? '';
  return `${error.name}: ${error.message.slice(0, 120)}${at ? ` (${at.slice(0, 200)})` : ''}`;
}

/**
 * Whether a parsed value nests deeper than `limit` (without recursion: JSON.parse takes 100,000 levels, and
 * anything recursive after it — encoding a reply, a validator — would overflow the stack).
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

export function clientOf(req: IncomingMessage): string {
  return `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
}

function requestShape(req: IncomingMessage): Record<string, unknown> {
  return { client: clientOf(req), method: String(req.method).slice(0, 16), targetLength: req.url?.length ?? 0 };
}

/** An HTTP request handler that cannot throw: a failure answers 500 (or drops the response already begun). */
export function guardHttp(refusals: Refusals, handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const fail = (error: unknown): void => {
      refusals.note('http-failed', requestShape(req), error);
      try {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end('internal error');
        else res.destroy();
      } catch {
        res.destroy();
      }
    };
    try {
      const done = handler(req, res);
      if (done) done.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

/** An upgrade handler that cannot throw, on a socket that cannot crash the host with an 'error' nobody hears. */
export function guardUpgrade(
  refusals: Refusals,
  handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    // Node removes its own error listener before 'upgrade': a client resetting the connection would otherwise
    // raise an unhandled 'error' and end the process.
    socket.on('error', () => socket.destroy());
    try {
      handler(req, socket, head);
    } catch (error) {
      refusals.note('upgrade-failed', requestShape(req), error);
      socket.destroy();
    }
  };
}

/** Answers an upgrade with an HTTP refusal and closes the socket. */
export function refuseUpgrade(refusals: Refusals, req: IncomingMessage, socket: Duplex, status: number, why: string): void {
  refusals.note('upgrade-refused', { ...requestShape(req), status, why });
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  else socket.destroy();
}
