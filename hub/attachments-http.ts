/**
 * The attachments' HTTP contract for windows (HUB_ATTACHMENTS_PATH), answered the same way by both hosts: the
 * browser host (host/server.ts, after its token check) and Electron's app:// handler (electron/app-protocol.ts).
 * Each turns its request into an AttachmentHttpRequest and writes the AttachmentHttpAnswer back; the hosts keep
 * no logic of their own. Range requests (one range) are answered 206, so players can seek.
 */
import { HUB_ATTACHMENTS_PATH, HubError, type HubErrorCode } from '../protocol';
import { parseByteRange } from '../node-util/byte-range';
import type { AttachmentCache } from './attachments';

export interface AttachmentHttpRequest {
  method: string;
  pathname: string;
  range: string | null;
  contentType: string | null;
  /** Reads the request body (uploads only); may throw a HubError (too large). */
  body: () => Promise<Buffer>;
}

export interface AttachmentHttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | null;
}

const SECURITY = { 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': "default-src 'none'; sandbox" };

const STATUS_BY_CODE: Readonly<Record<HubErrorCode, number>> = {
  'unknown-method': 404,
  'invalid-params': 400,
  unauthorized: 403,
  'not-found': 404,
  unavailable: 503,
  internal: 500,
};

function problem(status: number, code: string, message: string, headers: Record<string, string> = {}): AttachmentHttpAnswer {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers }, body: Buffer.from(JSON.stringify({ code, message })) };
}

/** Whether a path is the attachments' (the hosts route on it). */
export function isAttachmentPath(pathname: string): boolean {
  return pathname === HUB_ATTACHMENTS_PATH || pathname.startsWith(`${HUB_ATTACHMENTS_PATH}/`);
}

export async function answerAttachmentRequest(cache: AttachmentCache, req: AttachmentHttpRequest): Promise<AttachmentHttpAnswer> {
  try {
    if (req.pathname === HUB_ATTACHMENTS_PATH) {
      if (req.method !== 'POST') return problem(405, 'method', '只接受 POST / only POST', { Allow: 'POST' });
      const ref = await cache.upload(await req.body(), req.contentType ?? '');
      return { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }, body: Buffer.from(JSON.stringify(ref)) };
    }
    const parts = req.pathname.slice(HUB_ATTACHMENTS_PATH.length + 1).split('/');
    if (parts.length > 2 || (parts.length === 2 && parts[1] !== 'thumb')) return problem(404, 'not-found', '没有这个地址 / no such path');
    if (req.method !== 'GET' && req.method !== 'HEAD') return problem(405, 'method', '只接受 GET、HEAD / only GET, HEAD', { Allow: 'GET, HEAD' });
    const blob = await cache.get(parts[0]!, parts.length === 2 ? 'thumb' : 'full');
    const headers = {
      ...SECURITY,
      'Content-Type': blob.mime,
      'Content-Disposition': `inline; filename*=UTF-8''${encodeURIComponent(blob.name)}`,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'private, max-age=31536000, immutable',
    };
    const range = parseByteRange(req.range, blob.size);
    if (range === null) return { status: 416, headers: { ...headers, 'Content-Range': `bytes */${blob.size}`, 'Content-Type': 'text/plain; charset=utf-8' }, body: null };
    const head = req.method === 'HEAD';
    if (range === 'none') return { status: 200, headers: { ...headers, 'Content-Length': String(blob.size) }, body: head ? null : blob.read() };
    return {
      status: 206,
      headers: { ...headers, 'Content-Length': String(range.end - range.start + 1), 'Content-Range': `bytes ${range.start}-${range.end}/${blob.size}` },
      body: head ? null : blob.read(range),
    };
  } catch (e) {
    if (e instanceof HubError) return problem(STATUS_BY_CODE[e.code], e.code, e.message);
    return problem(500, 'internal', `附件读取失败 / the attachment could not be served: ${(e as Error).message}`);
  }
}
