/**
 * The SQLite store's attachments (migrations 6 and 8): blobs by SHA-256, the attachment records, who uploaded
 * each (every uploader of the same bytes), the events naming them. SqliteStore delegates here; the PostgreSQL store's twin is pg-attachments.ts (same tables and meaning).
 */
import type Database from 'better-sqlite3';
import type { AttachmentLink, AttachmentRecord, BlobRead } from './types';

export interface AttachmentRow {
  id: string;
  kind: string;
  mime: string;
  size: number;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  name: string;
  thumb_sha256: string | null;
  created_at: string;
  created_by: string;
}

export const attachmentOf = (r: AttachmentRow): AttachmentRecord => ({
  id: r.id,
  kind: r.kind as AttachmentRecord['kind'],
  mime: r.mime,
  size: Number(r.size),
  width: r.width === null ? null : Number(r.width),
  height: r.height === null ? null : Number(r.height),
  durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
  name: r.name,
  thumbSha256: r.thumb_sha256,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export class SqliteAttachments {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      putBlob: db.prepare<[string, Buffer]>('INSERT INTO blobs (sha256, bytes) VALUES (?, ?) ON CONFLICT(sha256) DO NOTHING'),
      putAttachment: db.prepare<[string, string, string, number, number | null, number | null, number | null, string, string | null, string, string]>(
        'INSERT INTO attachments (id, kind, mime, size, width, height, duration_ms, name, thumb_sha256, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING',
      ),
      find: db.prepare<[string], AttachmentRow>('SELECT * FROM attachments WHERE id = ?'),
      upload: db.prepare<[string, string, string]>('INSERT INTO attachment_uploads (attachment_id, uploader, uploaded_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      uploadedBy: db.prepare<[string, string], { n: number }>('SELECT 1 AS n FROM attachment_uploads WHERE attachment_id = ? AND uploader = ?'),
      events: db.prepare<[string], { event_id: string }>('SELECT event_id FROM attachment_links WHERE attachment_id = ? ORDER BY event_id'),
      link: db.prepare<[string, string]>('INSERT INTO attachment_links (attachment_id, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      size: db.prepare<[string], { n: number }>('SELECT length(bytes) AS n FROM blobs WHERE sha256 = ?'),
      whole: db.prepare<[string], { bytes: Buffer }>('SELECT bytes FROM blobs WHERE sha256 = ?'),
      part: db.prepare<[number, number, string], { bytes: Buffer; n: number }>('SELECT substr(bytes, ?, ?) AS bytes, length(bytes) AS n FROM blobs WHERE sha256 = ?'),
      counts: db.prepare<[], { blobs: number; attachments: number; links: number }>(
        'SELECT (SELECT COUNT(*) FROM blobs) AS blobs, (SELECT COUNT(*) FROM attachments) AS attachments, (SELECT COUNT(*) FROM attachment_links) AS links',
      ),
    };
  }

  put(r: AttachmentRecord, bytes: Buffer, thumb: Buffer | null): { record: AttachmentRecord; created: boolean } {
    return this.db.transaction(() => {
      const known = this.s.find.get(r.id);
      if (!known) {
        this.s.putBlob.run(r.id, bytes);
        if (thumb && r.thumbSha256) this.s.putBlob.run(r.thumbSha256, thumb);
        this.s.putAttachment.run(r.id, r.kind, r.mime, r.size, r.width, r.height, r.durationMs, r.name, r.thumbSha256, r.createdAt, r.createdBy);
      }
      this.s.upload.run(r.id, r.createdBy, r.createdAt);
      return known ? { record: attachmentOf(known), created: false } : { record: r, created: true };
    })();
  }

  find(ids: readonly string[]): AttachmentRecord[] {
    return [...new Set(ids)].flatMap((id) => {
      const row = this.s.find.get(id);
      return row ? [attachmentOf(row)] : [];
    });
  }

  uploadedBy(id: string, uploader: string): boolean {
    return this.s.uploadedBy.get(id, uploader) !== undefined;
  }

  events(id: string): string[] {
    return this.s.events.all(id).map((r) => r.event_id);
  }

  /** Inside the caller's transaction (a commit). */
  link(links: readonly AttachmentLink[]): void {
    for (const l of links) this.s.link.run(l.attachmentId, l.eventId);
  }

  size(sha256: string): number | null {
    return this.s.size.get(sha256)?.n ?? null;
  }

  read(sha256: string, range?: { start: number; end: number }): BlobRead | null {
    if (!range) {
      const row = this.s.whole.get(sha256);
      return row ? { bytes: row.bytes, total: row.bytes.length } : null;
    }
    const row = this.s.part.get(range.start + 1, range.end - range.start + 1, sha256);
    return row ? { bytes: row.bytes, total: row.n } : null;
  }

  counts(): { blobs: number; attachments: number; links: number } {
    return this.s.counts.get()!;
  }
}
