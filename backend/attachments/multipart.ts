/**
 * Reading an upload's one file out of a multipart/form-data body (busboy, streaming, with its limits set): the
 * whole request at most ATTACHMENT_MAX_REQUEST_BYTES, the file at most the largest kind's limit — reading stops
 * as soon as either is passed. One part named `file`; a second file, no file, or a malformed body is refused.
 * What a client says of the file (its name, its Content-Type) is kept only as a display name.
 */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { ATTACHMENT_MAX_BYTES, ATTACHMENT_MAX_REQUEST_BYTES } from '../../protocol/attachments';
import { MediaError } from './media';

export interface UploadedFile {
  bytes: Buffer;
  /** The file name the client sent, as sent (not yet a display name: see media.ts displayName). */
  filename: string | undefined;
}

const MAX_FILE_BYTES = Math.max(...Object.values(ATTACHMENT_MAX_BYTES));
const MB = (n: number): string => `${Math.round(n / 1024 / 1024)} MB`;
const tooLarge = (): MediaError => new MediaError(413, 'too-large', `上传过大（文件至多 ${MB(MAX_FILE_BYTES)}，整个请求至多 ${MB(ATTACHMENT_MAX_REQUEST_BYTES)}） / the upload is too large (a file at most ${MB(MAX_FILE_BYTES)}, the request ${MB(ATTACHMENT_MAX_REQUEST_BYTES)})`);
const bad = (code: string, zh: string, en: string): MediaError => new MediaError(400, code, `${zh} / ${en}`);

/** The one file of the request, or a MediaError (413 once over a limit: the rest is not read). */
export function readUpload(req: IncomingMessage): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    const type = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data\s*;\s*boundary=/i.test(type)) return reject(bad('not-multipart', '须以 multipart/form-data 上传，文件放在名为 file 的部分', 'send the file as multipart/form-data, in a part named file'));
    const declared = Number(req.headers['content-length']);
    if (declared > ATTACHMENT_MAX_REQUEST_BYTES) return reject(tooLarge());
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: MAX_FILE_BYTES, fields: 8, fieldSize: 1024, parts: 10, headerPairs: 20 }, defParamCharset: 'utf8' });
    } catch (e) {
      return reject(bad('bad-multipart', `multipart 格式有误（${(e as Error).message.slice(0, 100)}）`, 'malformed multipart'));
    }
    let settled = false;
    let file: UploadedFile | null = null;
    let fileDone = false;
    let received = 0;
    const finish = (error: MediaError | null): void => {
      if (settled) return;
      settled = true;
      req.off('data', count);
      if (error) {
        req.unpipe(parser);
        parser.removeAllListeners();
        parser.on('error', () => {});
        reject(error);
      } else resolve(file!);
    };
    const count = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > ATTACHMENT_MAX_REQUEST_BYTES) finish(tooLarge());
    };
    req.on('data', count);
    parser.on('file', (name, stream, info) => {
      if (name !== 'file') {
        stream.resume();
        return finish(bad('unexpected-part', `文件须放在名为 file 的部分（收到 ${JSON.stringify(name.slice(0, 40))}）`, `the file goes in a part named file (got ${JSON.stringify(name.slice(0, 40))})`));
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => void (settled || chunks.push(c)));
      stream.on('limit', () => finish(tooLarge()));
      stream.on('error', () => finish(bad('bad-multipart', 'multipart 格式有误（文件部分中断）', 'malformed multipart (the file part broke off)')));
      stream.on('end', () => {
        if (settled) return;
        file = { bytes: Buffer.concat(chunks), filename: info.filename };
        fileDone = true;
      });
    });
    parser.on('filesLimit', () => finish(bad('two-files', '一次只能上传一个文件（收到多个文件部分）', 'one file per upload (got several file parts)')));
    parser.on('partsLimit', () => finish(bad('too-many-parts', '表单部分过多', 'too many form parts')));
    parser.on('fieldsLimit', () => finish(bad('too-many-parts', '表单字段过多', 'too many form fields')));
    parser.on('error', (e: Error) => finish(bad('bad-multipart', `multipart 格式有误（${e.message.slice(0, 100)}）`, 'malformed multipart')));
    parser.on('close', () => {
      if (!file || !fileDone) return finish(bad('no-file', '没有文件：须在名为 file 的部分上传一个文件', 'no file: upload one file in a part named file'));
      if (file.bytes.length === 0) return finish(new MediaError(400, 'empty-file', '文件为空 / the file is empty'));
      finish(null);
    });
    req.on('error', () => finish(bad('aborted', '上传中断', 'the upload broke off')));
    req.pipe(parser);
  });
}
