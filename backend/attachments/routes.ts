/**
 * The attachments' HTTP routes:
 * - `POST /attachments` (multipart/form-data, one part `file`): by a user mayUpload lets; the file sniffed,
 *   an image re-encoded, probed and thumbnailed (media.ts), stored content-addressed (the same bytes twice: one
 *   attachment, the same id; 201 when new, 200 when it was there). Errors as JSON `{code, message}`.
 * - `GET /attachments/<id>` and `GET /attachments/<id>/thumb`: to a user whose area scope sees an event naming
 *   it (a department liaison: an event of its department's; grid staff: an event dispatched to them), or to its
 *   uploaders (each who uploaded the same bytes) while no event names it yet; Range requests answered (206) so players can seek.
 *   Anyone else: 403, audited as 'attachment-refused' (at most once a minute per user and attachment).
 * Bearer tokens (static or a sign-in session): consoles fetch through their hub. A source system's API key
 * (the ingest API) may upload, as `api:<keyId>`, for its reports to name; it reads nothing.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MASKED_ROLES, inAreaScope, type CityState } from '../../domain';
import { ATTACHMENTS_PATH, type UserRole } from '../../protocol';
import type { ApiKeyRecord, AttachmentRecord, AuditEntry, BackendStore, UserRecord } from '../store/types';
import { looksLikeApiKey, presentedKey, type ApiKeys } from '../auth/api-keys';
import { sendRefusal } from '../auth/api-keys-route';
import { bearerUser, send } from '../http-answers';
import { parseRequestTarget } from '../../web-serving/request-target';
import { MediaError, displayName, processMedia, type MediaTools } from './media';
import { readUpload } from './multipart';
import { parseByteRange } from '../../node-util/byte-range';
import { refOf } from './refs';

export interface AttachmentRoutesOptions {
  store: BackendStore;
  state: CityState;
  tools?: Partial<MediaTools>;
  /** Source systems' keys (the ingest API): a key may upload. */
  apiKeys?: ApiKeys;
  /** Uploads processed at once (decoding, ffmpeg); more are answered 503 with Retry-After. Default 4. */
  concurrency?: number;
}

/**
 * Who uploads: the console's working roles (the read-only demo role may not), grid staff (their reports' and
 * feedbacks' photos, from the field app) and department liaisons (their feedbacks'). Until a command names an
 * attachment, only its uploader reads it.
 */
const UPLOAD_ROLES: ReadonlySet<UserRole> = new Set<UserRole>(['dispatcher', 'duty', 'leader', 'admin', 'field', 'liaison']);

/**
 * Who may upload: the one place to widen (field staff, department liaisons, a source system's API key).
 */
export function mayUpload(user: UserRecord | ApiKeyRecord): boolean {
  // A source system's key (checked by ApiKeys.sourceOf: known, not revoked, within its rate) uploads for its reports.
  if ('keyHash' in user) return user.revokedAt === null;
  return UPLOAD_ROLES.has(user.role);
}

/** Who an upload is recorded as: a user's id, or `api:<keyId>` (the actor of the key's reports). */
const uploaderId = (who: UserRecord | ApiKeyRecord): string => ('keyHash' in who ? `api:${who.id}` : who.id);

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; sandbox",
  // Content-addressed: what an id names never changes.
  'Cache-Control': 'private, max-age=31536000, immutable',
  // Answered per bearer: a browser's cache shared by two users must not hand one the other's copy unchecked.
  Vary: 'Authorization',
};

const problem = (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void => {
  const body = Buffer.from(JSON.stringify({ code, message }));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store', ...headers }).end(body);
};

/** Bytes read from the store per piece of a whole download. */
const DOWNLOAD_PIECE = 1024 * 1024;

/**
 * A refusal of an upload whose body is not read: answered with Connection: close, and what the client still sends
 * is dropped unread (never parsed nor kept) for a few seconds, then the connection goes — a refused sender cannot
 * keep streaming forever. A client still sending as the connection closes may see it reset before it reads the
 * answer (nothing is stored either way).
 */
function refuseUnread(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  if (!req.complete) {
    req.resume();
    const linger = setTimeout(() => req.destroy(), 5000);
    req.once('close', () => clearTimeout(linger));
  }
  problem(res, status, code, message, req.complete ? headers : { ...headers, Connection: 'close' });
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export function attachmentRoutes(o: AttachmentRoutesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const tools: MediaTools = { ffmpegPath: o.tools?.ffmpegPath ?? 'ffmpeg', ffprobePath: o.tools?.ffprobePath ?? 'ffprobe', timeoutMs: o.tools?.timeoutMs ?? 10_000 };
  const limit = o.concurrency ?? 4;
  let busy = 0;
  const lastRefusal = new Map<string, number>();

  const refusedNow = (key: string, now = Date.now()): boolean => {
    if (now - (lastRefusal.get(key) ?? 0) < 60_000) return false;
    if (lastRefusal.size >= 10_000) lastRefusal.clear();
    lastRefusal.set(key, now);
    return true;
  };

  /**
   * Whether the user may read the attachment: an event naming it in their area, or theirs and not yet named.
   * Never a masked reader (demo screens, 督查): photos show faces and voices, which they are not shown.
   */
  const mayRead = async (user: UserRecord, record: AttachmentRecord): Promise<boolean> => {
    if (MASKED_ROLES.has(user.role)) return false;
    const events = await o.store.attachmentEvents(record.id);
    if (events.length === 0) return o.store.attachmentUploadedBy(record.id, user.id);
    return events.some((id) => {
      const event = o.state.get('events', id);
      if (event === undefined) return false;
      // A liaison reads what its department's events (assigned or co-handled) name; grid staff what their tasks name.
      if (user.role === 'liaison') return user.departmentId !== null && (event.assignee?.departmentId === user.departmentId || event.coHandlers.includes(user.departmentId));
      if (user.role === 'field') return user.staffId !== null && event.assignee?.staffId === user.staffId;
      return inAreaScope(user.districtScope, { districtId: event.districtId, gridId: event.gridId }, o.state);
    });
  };

  const upload = async (req: IncomingMessage, res: ServerResponse, user: UserRecord | ApiKeyRecord): Promise<void> => {
    if (!mayUpload(user)) {
      const role = 'keyHash' in user ? 'api-key' : user.role;
      if (refusedNow(`${uploaderId(user)}\u0000upload`)) void o.store.audit([{ at: new Date().toISOString(), userId: 'keyHash' in user ? null : user.id, kind: 'attachment-refused', detail: { upload: true, role, ...('keyHash' in user ? { keyId: user.id } : {}) } }]).catch(() => undefined);
      return refuseUnread(req, res, 403, 'forbidden', `角色 ${role} 不能上传附件 / role ${role} may not upload attachments`);
    }
    if (busy >= limit) return refuseUnread(req, res, 503, 'busy', '正在处理的上传过多，请稍后重试 / too many uploads in progress, retry shortly', { 'Retry-After': '2' });
    busy++;
    try {
      const file = await readUpload(req);
      const media = await processMedia(file.bytes, tools);
      const id = sha256(media.bytes);
      const record: AttachmentRecord = {
        id,
        kind: media.kind,
        mime: media.mime,
        size: media.bytes.length,
        width: media.width,
        height: media.height,
        durationMs: media.durationMs,
        name: displayName(file.filename, `${media.kind}-${id.slice(0, 8)}`),
        thumbSha256: media.thumb ? sha256(media.thumb) : null,
        createdAt: new Date().toISOString(),
        createdBy: uploaderId(user),
      };
      const stored = await o.store.putAttachment(record, media.bytes, media.thumb);
      // The same bytes uploaded before (by anyone): the same attachment, named as this upload names it.
      send(res, stored.created ? 201 : 200, { ...refOf(stored.record), name: record.name });
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
      refuseUnread(req, res, e.status, e.code, e.message);
    } finally {
      busy--;
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, user: UserRecord, id: string, thumb: boolean): Promise<void> => {
    const [record] = /^[0-9a-f]{64}$/.test(id) ? await o.store.findAttachments([id]) : [];
    if (!record) return problem(res, 404, 'not-found', `没有这个附件：${id.slice(0, 64)} / no attachment ${id.slice(0, 64)}`);
    if (!(await mayRead(user, record))) {
      if (refusedNow(`${user.id}\u0000${record.id}`)) {
        const entry: AuditEntry = { at: new Date().toISOString(), userId: user.id, kind: 'attachment-refused', detail: { attachmentId: record.id, thumb } };
        void o.store.audit([entry]).catch(() => undefined);
      }
      return problem(res, 403, 'forbidden', '该附件不属于您辖区内的事件 / the attachment belongs to no event in your area');
    }
    const sha = thumb ? record.thumbSha256 : record.id;
    if (!sha) return problem(res, 404, 'no-thumb', '该附件没有缩略图 / the attachment has no thumbnail');
    const total = await o.store.blobSize(sha);
    if (total === null) return problem(res, 404, 'not-found', `附件内容缺失：${id} / the attachment's bytes are missing`);
    const range = parseByteRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, total);
    const name = thumb ? `${record.name}.thumb.webp` : record.name;
    const headers = {
      ...SECURITY_HEADERS,
      'Content-Type': thumb ? 'image/webp' : record.mime,
      'Content-Disposition': `inline; filename*=UTF-8''${encodeURIComponent(name)}`,
      'Accept-Ranges': 'bytes',
    };
    if (range === null) return void res.writeHead(416, { ...headers, 'Content-Range': `bytes */${total}`, 'Content-Type': 'text/plain; charset=utf-8' }).end();
    const head = req.method === 'HEAD';
    if (range === 'none') {
      res.writeHead(200, { ...headers, 'Content-Length': total });
      if (head) return void res.end();
      // In pieces, each read when the last has gone out: a 50 MB video never sits whole in memory per download.
      for (let start = 0; start < total && !res.destroyed; start += DOWNLOAD_PIECE) {
        const piece = await o.store.readBlob(sha, { start, end: Math.min(total, start + DOWNLOAD_PIECE) - 1 });
        if (!piece) return void res.destroy();
        if (!res.write(piece.bytes)) await new Promise<void>((r) => { res.once('drain', r); res.once('close', r); });
      }
      return void res.end();
    }
    const blob = head ? null : await o.store.readBlob(sha, range);
    res.writeHead(206, { ...headers, 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${total}` }).end(blob?.bytes);
  };

  return (req, res) => {
    const url = parseRequestTarget(req.url);
    const path = url?.pathname ?? '';
    if (path !== ATTACHMENTS_PATH && !path.startsWith(`${ATTACHMENTS_PATH}/`)) return false;
    const parts = path.slice(ATTACHMENTS_PATH.length + 1).split('/');
    const isUpload = path === ATTACHMENTS_PATH;
    const isRead = !isUpload && parts[0] !== '' && (parts.length === 1 || (parts.length === 2 && parts[1] === 'thumb'));
    if (!isUpload && !isRead) {
      problem(res, 404, 'not-found', '没有这个地址 / no such path');
      return true;
    }
    const allowed = isUpload ? ['POST'] : ['GET', 'HEAD'];
    if (!allowed.includes(req.method ?? '')) {
      req.resume();
      problem(res, 405, 'method', `只接受 ${allowed.join('、')} / only ${allowed.join(', ')}`, { Allow: allowed.join(', ') });
      return true;
    }
    void (async () => {
      const key = presentedKey(req);
      if (o.apiKeys && key !== null && looksLikeApiKey(key)) {
        if (!isUpload) {
          req.resume();
          return problem(res, 403, 'forbidden', '接入密钥只能上传附件，不能读取 / an API key may upload attachments, not read them');
        }
        const check = await o.apiKeys.sourceOf(req);
        if (!check.ok) {
          req.resume();
          return sendRefusal(res, check);
        }
        return upload(req, res, check.key);
      }
      const user = await bearerUser(o.store, req);
      if (!user) return refuseUnread(req, res, 401, 'unauthorized', '需要有效的令牌 / a valid bearer token is required');
      if (isUpload) await upload(req, res, user);
      else await serve(req, res, user, parts[0]!, parts.length === 2);
    })().catch(() => {
      if (!res.headersSent) problem(res, 500, 'internal', '附件读写失败 / the attachment could not be read or stored');
      req.destroy();
    });
    return true;
  };
}
