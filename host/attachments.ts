/**
 * The browser host's side of the attachments' HTTP contract (hub/attachments-http.ts answers it): the request
 * read into its fields (an upload's body bounded by ATTACHMENT_MAX_REQUEST_BYTES), the answer written back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ATTACHMENT_MAX_REQUEST_BYTES, HubError } from '../protocol';
import type { AttachmentHttpAnswer, AttachmentHttpRequest } from '../hub';

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      return reject(new HubError('invalid-params', `文件过大（${declared} 字节，上限 ${limit}） / the upload is over ${limit} bytes`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HubError('invalid-params', `文件过大（超过 ${limit} 字节） / the upload is over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function serveAttachment(req: IncomingMessage, res: ServerResponse, pathname: string, answer: (request: AttachmentHttpRequest) => Promise<AttachmentHttpAnswer>): Promise<void> {
  const method = String(req.method);
  if (method !== 'POST') req.resume();
  const reply = await answer({
    method,
    pathname,
    range: typeof req.headers.range === 'string' ? req.headers.range : null,
    contentType: typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : null,
    body: () => readBody(req, ATTACHMENT_MAX_REQUEST_BYTES),
  });
  // An upload refused before its body was read whole: the rest is dropped and the connection closed after.
  const headers = method === 'POST' && !req.complete ? { ...reply.headers, Connection: 'close' } : reply.headers;
  res.writeHead(reply.status, headers).end(reply.body ?? undefined);
}
