/**
 * Serves the built renderer on app://console with the CSP header (file:// would give pages a lax origin). Like the
 * browser host, it parses the request URL without throwing and answers any failure with a status, never an
 * exception out of Electron's protocol handler.
 */
import { readFile } from 'node:fs/promises';
import { buildContentSecurityPolicy } from '../web-serving/csp';
import { mimeTypeFor, resolveStaticPath } from '../web-serving/static-files';
import { parseAbsoluteUrl } from '../web-serving/request-target';
import { ATTACHMENT_MAX_REQUEST_BYTES, HubError } from '../protocol';
import { answerAttachmentRequest, isAttachmentPath, type AttachmentCache } from '../hub';

/** Whether app:// should answer `requestUrl` from the hub's attachments (hub/attachments-http.ts) instead of the renderer's files. */
export function isAttachmentUrl(requestUrl: string): boolean {
  const url = parseAbsoluteUrl(requestUrl);
  return url !== null && isAttachmentPath(url.pathname);
}

/** The attachments' HTTP contract on app://console: the request's fields to the hub's answer, and back. */
export async function respondWithAttachment(cache: AttachmentCache, request: Request): Promise<Response> {
  const url = parseAbsoluteUrl(request.url);
  if (!url) return new Response('bad path', { status: 400 });
  const answer = await answerAttachmentRequest(cache, {
    method: request.method,
    pathname: url.pathname,
    range: request.headers.get('range'),
    contentType: request.headers.get('content-type'),
    body: async () => {
      const bytes = Buffer.from(await request.arrayBuffer());
      if (bytes.length > ATTACHMENT_MAX_REQUEST_BYTES) throw new HubError('invalid-params', `文件过大（${bytes.length} 字节） / the upload is over ${ATTACHMENT_MAX_REQUEST_BYTES} bytes`);
      return bytes;
    },
  });
  return new Response(answer.body ? new Uint8Array(answer.body) : null, { status: answer.status, headers: answer.headers });
}

/** `csp` is asked per response: the map sources in the settings may have changed. */
export async function respondFromRendererDir(rendererDir: string, requestUrl: string, csp: () => string = () => buildContentSecurityPolicy()): Promise<Response> {
  const url = parseAbsoluteUrl(requestUrl);
  const file = url ? resolveStaticPath(rendererDir, url.pathname) : null;
  if (!file) return new Response('bad path', { status: 400 });
  const body = await readFile(file).catch(() => null);
  if (!body) return new Response('not found', { status: 404 });
  try {
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': mimeTypeFor(file),
        'Content-Security-Policy': csp(),
        'X-Content-Type-Options': 'nosniff',
      },
    });
  } catch (e) {
    console.error(`app:// could not answer ${url?.pathname.length ?? 0} characters of path: ${(e as Error).message}`);
    return new Response('internal error', { status: 500 });
  }
}
