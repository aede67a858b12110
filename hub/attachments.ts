/**
 * Attachments (附件) for the console's windows: fetched from the linked backend over HTTP with the link's token
 * (`GET /attachments/<id>[/thumb]`, where the backend checks the user's area scope) and kept in the hub's cache
 * (table attachment_blobs) for offline viewing, bounded in bytes (the setting attachmentCacheMiB): the least
 * recently used go first, and one larger than a quarter of the bound is served but not kept. What an id names
 * never changes (the id is the SHA-256 of the bytes), so a kept one is served without asking the backend again;
 * a window knows an id only from an event its user sees (the replica holds that user's area alone). Concurrent
 * asks for the same bytes share one fetch. Uploads (`POST /attachments`) pass through to the backend.
 */
import type Database from 'better-sqlite3';
import { ATTACHMENT_MAX_REQUEST_BYTES, AttachmentId, AttachmentRef, HubError, describeIssues, validate, type HubErrorCode } from '../protocol';
import type { Logger } from '../node-util/logger';
import type { LayerSource } from './city-layers';

export type AttachmentVariant = 'full' | 'thumb';

/** Bytes ready to serve: what they are, and a reader of the whole or of one range (end inclusive). */
export interface AttachmentBody {
  mime: string;
  name: string;
  size: number;
  /** Whether the hub keeps them (false: too large for the bound, served from memory this once). */
  kept: boolean;
  read(range?: { start: number; end: number }): Buffer;
}

export interface AttachmentCacheOptions {
  db: Database.Database;
  /** The linked backend now (null: none, offline). */
  backend: () => LayerSource | null;
  /** The bound in bytes, read at each store (the setting may change). */
  maxBytes: () => number;
  /**
   * Who the console is signed in as now, and whether that role is masked (demo, 督查). The cache belongs to one
   * user: another user (a seat switch, a new sign-in) starts from an empty one, so nobody is served what only the
   * previous user was let see; a masked role is served nothing (the backend refuses it attachments too).
   */
  viewer?: () => { userId: string | null; masked: boolean };
  log: Logger;
  now?: () => number;
  timeoutMs?: number;
}

interface BlobMeta {
  mime: string;
  name: string;
  size: number;
}

const httpBase = (backend: LayerSource): string => backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '');

/** The backend's `{code, message}` answer, or its first characters when it is not JSON. */
async function backendProblem(response: Response): Promise<string> {
  const text = (await response.text().catch(() => '')).slice(0, 600);
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    /* not JSON: the text itself */
  }
  return text || `HTTP ${response.status}`;
}

function codeForStatus(status: number): HubErrorCode {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not-found';
  if (status === 400 || status === 413 || status === 415 || status === 422) return 'invalid-params';
  return 'unavailable';
}

/** The file name of a `Content-Disposition: inline; filename*=UTF-8''…` header, or a fallback. */
function nameFrom(header: string | null, fallback: string): string {
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(header ?? '')?.[1];
  if (!encoded) return fallback;
  try {
    return decodeURIComponent(encoded).slice(0, 100);
  } catch {
    return fallback;
  }
}

export class AttachmentCache {
  private readonly fetches = new Map<string, Promise<AttachmentBody>>();
  private readonly now: () => number;
  private readonly s;

  constructor(private readonly o: AttachmentCacheOptions) {
    this.now = o.now ?? Date.now;
    const db = o.db;
    this.s = {
      meta: db.prepare<[string, string], BlobMeta>('SELECT mime, name, size FROM attachment_blobs WHERE id = ? AND variant = ?'),
      touch: db.prepare<[number, string, string]>('UPDATE attachment_blobs SET last_used = ? WHERE id = ? AND variant = ?'),
      whole: db.prepare<[string, string], { bytes: Buffer }>('SELECT bytes FROM attachment_blobs WHERE id = ? AND variant = ?'),
      part: db.prepare<[number, number, string, string], { bytes: Buffer }>('SELECT substr(bytes, ?, ?) AS bytes FROM attachment_blobs WHERE id = ? AND variant = ?'),
      put: db.prepare<[string, string, string, string, number, Buffer, number]>(
        'INSERT OR REPLACE INTO attachment_blobs (id, variant, mime, name, size, bytes, last_used) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      total: db.prepare<[], { total: number }>('SELECT COALESCE(SUM(size), 0) AS total FROM attachment_blobs'),
      oldest: db.prepare<[string, string], { id: string; variant: string; size: number }>(
        'SELECT id, variant, size FROM attachment_blobs WHERE NOT (id = ? AND variant = ?) ORDER BY last_used, id LIMIT 1',
      ),
      drop: db.prepare<[string, string]>('DELETE FROM attachment_blobs WHERE id = ? AND variant = ?'),
      wipe: db.prepare('DELETE FROM attachment_blobs'),
      owner: db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'attachmentsOwner'"),
      setOwner: db.prepare<[string]>("INSERT INTO meta (key, value) VALUES ('attachmentsOwner', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
    };
  }

  /** Bytes the cache holds now. */
  usedBytes(): number {
    return this.s.total.get()!.total;
  }

  /** Whether the bytes of `id` (variant) are kept. */
  has(id: string, variant: AttachmentVariant): boolean {
    return this.s.meta.get(id, variant) !== undefined;
  }

  /** The bytes of an attachment or its thumbnail: from the cache, else fetched from the backend (once for concurrent asks). */
  get(id: string, variant: AttachmentVariant): Promise<AttachmentBody> {
    if (!validate(AttachmentId, id).ok) return Promise.reject(new HubError('invalid-params', `附件编号无效：${id.slice(0, 80)} / an attachment id is 64 hex digits`));
    const viewer = this.o.viewer?.();
    if (viewer) {
      if (viewer.masked || viewer.userId === null) return Promise.reject(new HubError('unauthorized', viewer.masked ? '此账号不显示附件（演示/督查） / this account is shown no attachments' : '未登录，不能查看附件 / sign in to see attachments'));
      this.belongTo(viewer.userId);
    }
    const kept = this.fromCache(id, variant);
    if (kept) return Promise.resolve(kept);
    const key = `${id}/${variant}`;
    const running = this.fetches.get(key);
    if (running) return running;
    const job = this.fetchAndKeep(id, variant).finally(() => this.fetches.delete(key));
    this.fetches.set(key, job);
    return job;
  }

  /** Empties the cache when it was filled for another user (kept in the cache's meta, so across restarts too). */
  private belongTo(userId: string): void {
    const owner = this.s.owner.get()?.value ?? null;
    if (owner === userId) return;
    this.o.db.transaction(() => {
      this.s.wipe.run();
      this.s.setOwner.run(userId);
    })();
    if (owner !== null) this.o.log.info('attachment cache emptied: another user signed in', { from: owner, to: userId });
  }

  private fromCache(id: string, variant: AttachmentVariant): AttachmentBody | null {
    const meta = this.s.meta.get(id, variant);
    if (!meta) return null;
    this.s.touch.run(this.now(), id, variant);
    return {
      ...meta,
      kept: true,
      read: (range) => {
        const row = range ? this.s.part.get(range.start + 1, range.end - range.start + 1, id, variant) : this.s.whole.get(id, variant);
        // Evicted between the answer's head and its body (another window's fetch needed the room): nothing to send.
        if (!row) throw new HubError('not-found', `附件已被移出缓存：${id} / the attachment left the cache meanwhile`);
        return Buffer.from(row.bytes);
      },
    };
  }

  private async fetchAndKeep(id: string, variant: AttachmentVariant): Promise<AttachmentBody> {
    const backend = this.o.backend();
    const what = variant === 'thumb' ? '缩略图' : '附件';
    if (!backend) throw new HubError('unavailable', `离线：该${what}未缓存在本机，连上后端后才能查看（${id.slice(0, 12)}…） / offline: this attachment is not in the hub's cache`);
    let response: Response;
    try {
      response = await fetch(`${httpBase(backend)}/attachments/${id}${variant === 'thumb' ? '/thumb' : ''}`, {
        headers: { Authorization: `Bearer ${backend.token}` },
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 60_000),
      });
    } catch (e) {
      throw new HubError('unavailable', `后端不可达，该${what}未缓存在本机（${id.slice(0, 12)}…） / could not reach the backend and the attachment is not cached: ${(e as Error).message}`);
    }
    if (!response.ok) throw new HubError(codeForStatus(response.status), `后端拒绝提供${what}（${response.status}）：${await backendProblem(response)}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const meta: BlobMeta = {
      mime: (response.headers.get('content-type') ?? 'application/octet-stream').slice(0, 100),
      name: nameFrom(response.headers.get('content-disposition'), `${id.slice(0, 12)}${variant === 'thumb' ? '.thumb.webp' : ''}`),
      size: bytes.length,
    };
    const kept = this.keep(id, variant, meta, bytes);
    return { ...meta, kept, read: (range) => (range ? bytes.subarray(range.start, range.end + 1) : bytes) };
  }

  /** Stores the bytes and evicts the least recently used beyond the bound; false when they are too large to keep. */
  private keep(id: string, variant: AttachmentVariant, meta: BlobMeta, bytes: Buffer): boolean {
    const bound = this.o.maxBytes();
    if (bytes.length > bound / 4) {
      this.o.log.info('attachment served but not kept: larger than a quarter of the cache', { id, variant, size: bytes.length, bound });
      return false;
    }
    this.o.db.transaction(() => {
      this.s.put.run(id, variant, meta.mime, meta.name, meta.size, bytes, this.now());
      let total = this.usedBytes();
      while (total > bound) {
        const victim = this.s.oldest.get(id, variant);
        if (!victim) break;
        this.s.drop.run(victim.id, victim.variant);
        total -= victim.size;
        this.o.log.info('attachment evicted from the cache (least recently used)', { id: victim.id, variant: victim.variant, size: victim.size });
      }
    })();
    return true;
  }

  /** Passes an upload (a multipart/form-data body, one part `file`) to the backend; its AttachmentRef back. */
  async upload(body: Buffer, contentType: string): Promise<AttachmentRef> {
    if (!/^multipart\/form-data;\s*boundary=/i.test(contentType)) throw new HubError('invalid-params', `上传须为 multipart/form-data / an upload is multipart/form-data, got ${contentType.slice(0, 80)}`);
    if (body.length > ATTACHMENT_MAX_REQUEST_BYTES) throw new HubError('invalid-params', `文件过大（${body.length} 字节） / the upload is over ${ATTACHMENT_MAX_REQUEST_BYTES} bytes`);
    const backend = this.o.backend();
    if (!backend) throw new HubError('unavailable', '离线：附件需连上后端才能上传（事件仍可不带附件上报） / offline: attachments upload only while the backend is linked');
    let response: Response;
    try {
      response = await fetch(`${httpBase(backend)}/attachments`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${backend.token}`, 'Content-Type': contentType },
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 120_000),
      });
    } catch (e) {
      throw new HubError('unavailable', `后端不可达，附件未上传 / could not reach the backend to upload: ${(e as Error).message}`);
    }
    if (!response.ok) throw new HubError(codeForStatus(response.status), `附件上传被拒绝（${response.status}）：${await backendProblem(response)}`);
    const checked = validate(AttachmentRef, await response.json().catch(() => null));
    if (!checked.ok) throw new HubError('unavailable', `the backend sent an invalid attachment answer: ${describeIssues(checked.issues)}`);
    return checked.value;
  }
}
