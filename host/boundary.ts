/**
 * The browser host's refusals: every HTTP request, upgrade and Hub API frame is handled inside an input boundary
 * (web-serving/http-guard.ts, and PageSocket for frames), so no input can end the process. Each refusal is counted by
 * kind (GET /healthz reports them) and logged once with the client and the input's shape — never the input
 * itself; floods of refusals are summarised instead of logged line by line.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../node-util/logger';
import { describeError, requestShape } from '../web-serving/http-guard';

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

export function clientOf(req: IncomingMessage): string {
  return `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
}

/** Answers an upgrade with an HTTP refusal and closes the socket. */
export function refuseUpgrade(refusals: Refusals, req: IncomingMessage, socket: Duplex, status: number, why: string): void {
  refusals.note('upgrade-refused', { ...requestShape(req), status, why });
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  else socket.destroy();
}
