/**
 * Serves the built renderer on app://console with the CSP header (file:// would give pages a lax origin). Like the
 * browser host, it parses the request URL without throwing and answers any failure with a status, never an
 * exception out of Electron's protocol handler.
 */
import { readFile } from 'node:fs/promises';
import { buildContentSecurityPolicy } from '../web-serving/csp';
import { mimeTypeFor, resolveStaticPath } from '../web-serving/static-files';
import { parseAbsoluteUrl } from '../web-serving/request-target';

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
