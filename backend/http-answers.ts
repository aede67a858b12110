/**
 * What every HTTP route of the backend shares (city layers, key persons, sign-in, the audit, imports, user
 * administration): the answer written whole and never cached, a bounded body, and the user of a bearer token
 * (a static token or a live sign-in session, backend/auth) — one way, so no route answers or checks differently.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackendStore, UserRecord } from './store/types';
import { hashToken } from './users';
import { reportMisuse } from './auth/api-keys';

/** An answer: none (null), a line of text (string), or JSON (anything else). Never cached. */
export function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === null) return void res.writeHead(status, { 'Cache-Control': 'no-store' }).end();
  const text = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', 'Content-Length': text.length, 'Cache-Control': 'no-store' }).end(text);
}

/** The bearer token of a request, if it carries one of a sane length. */
/** A path segment decoded (`%xx`), or null when its escapes are malformed (`%Z`): the route answers 400, never 500. */
export function decodedSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export function bearerToken(req: IncomingMessage): string | null {
  return /^Bearer (\S{1,512})$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
}

/**
 * The user a request's bearer token names (null: none, unknown, revoked, an ended session, a disabled user). A
 * source system's API key is no console token: refused the same, and audited as 'api-key-misuse'.
 */
export async function bearerUser(store: Pick<BackendStore, 'findUserByTokenHash' | 'findApiKeyByHash' | 'audit'>, req: IncomingMessage): Promise<UserRecord | null> {
  const token = bearerToken(req);
  if (!token) return null;
  const user = await store.findUserByTokenHash(hashToken(token));
  if (!user) await reportMisuse(store, token, `${req.method ?? '?'} ${(req.url ?? '').split('?')[0]!.slice(0, 100)}`, req.socket.remoteAddress);
  return user;
}

/** The body as text, at most `limit` bytes; null (and 413 sent, the rest dropped) when larger. */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) {
      send(res, 413, { code: 'too-large', message: `请求过大（至多 ${limit} 字节） / the body is over ${limit} bytes` });
      req.resume();
      return resolve(null);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        if (!res.headersSent) send(res, 413, { code: 'too-large', message: `请求过大（至多 ${limit} 字节） / the body is over ${limit} bytes` });
        req.destroy();
        resolve(null);
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
