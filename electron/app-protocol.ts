/** Serves the built renderer on app://console with the CSP header (file:// would give pages a lax origin). */
import { readFile } from 'node:fs/promises';
import { buildContentSecurityPolicy } from './security/csp';
import { mimeTypeFor, resolveStaticPath } from './host/static-files';

/** `csp` is asked per response: the map sources in the settings may have changed. */
export async function respondFromRendererDir(rendererDir: string, requestUrl: string, csp: () => string = () => buildContentSecurityPolicy()): Promise<Response> {
  const url = new URL(requestUrl);
  const file = resolveStaticPath(rendererDir, url.pathname);
  if (!file) return new Response('bad path', { status: 400 });
  try {
    const body = await readFile(file);
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': mimeTypeFor(file),
        'Content-Security-Policy': csp(),
        'X-Content-Type-Options': 'nosniff',
      },
    });
  } catch {
    return new Response('not found', { status: 404 });
  }
}
