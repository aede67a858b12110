/**
 * Inputs come from whoever connects, so reading them must never throw: `new URL(req.url, origin)` throws on
 * `//` (a scheme-relative URL without a host) and ended the browser host; `decodeURIComponent` throws on a bad
 * percent-encoding and ended the backend. These helpers answer null for anything unusable; the callers refuse
 * it. Used by the backend and both console hosts.
 */
import type { IncomingMessage } from 'node:http';
import type { RawData } from 'ws';

/** Longer targets are refused outright (Node already caps the whole header block at 16 KiB). */
export const MAX_REQUEST_TARGET_LENGTH = 8192;

export interface RequestTarget {
  /** Percent-encoded as sent, dot segments resolved (`/a/../b` → `/b`); always starts with `/`. */
  pathname: string;
  searchParams: URLSearchParams;
}

/**
 * An origin-form request target (`/path?query`), or null for anything else: absolute-form, `*`, empty, too long,
 * or whatever the URL parser refuses. Never throws.
 */
export function parseRequestTarget(target: string | undefined): RequestTarget | null {
  if (typeof target !== 'string' || target.length === 0 || target.length > MAX_REQUEST_TARGET_LENGTH || target[0] !== '/') return null;
  // A fixed authority in front: the target can only ever be a path and query, never a host (`//x` stays a path).
  const url = parseAbsoluteUrl(`http://host${target}`);
  if (!url || url.host !== 'host') return null;
  return { pathname: url.pathname, searchParams: url.searchParams };
}

/** `new URL(text)` that answers null instead of throwing. */
export function parseAbsoluteUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** What a log may say about an input: its size and kind, never the input itself. */
export function inputShape(input: unknown): { length: number; type: string } {
  if (typeof input === 'string') return { length: input.length, type: 'string' };
  if (Buffer.isBuffer(input)) return { length: input.length, type: 'bytes' };
  if (Array.isArray(input)) return { length: input.length, type: 'array' };
  return { length: 0, type: input === null ? 'null' : typeof input };
}

/** A percent-encoded path segment decoded, or null when it is not valid percent-encoding / UTF-8. */
export function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** The path part of a request target, without the query, as sent; never throws. */
export function requestPath(req: IncomingMessage): string {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** A WebSocket message as text (ws hands over a Buffer, fragments or an ArrayBuffer). */
export function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
