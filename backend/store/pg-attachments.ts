/**
 * The PostgreSQL store's attachments (migrations 6 and 8): the same tables and meaning as the SQLite store's
 * (sqlite-attachments.ts). Bytes are bytea in the shared database, so every instance of a city serves them.
 */
import type pg from 'pg';
import type { AttachmentRecord, BlobRead } from './types';
import { attachmentOf, type AttachmentRow } from './sqlite-attachments';

export class PgAttachments {
  constructor(private readonly pool: pg.Pool) {}

  async put(r: AttachmentRecord, bytes: Buffer, thumb: Buffer | null): Promise<{ record: AttachmentRecord; created: boolean }> {
    const client = await this.pool.connect();
    const onError = (): void => {};
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      // Two uploads of the same bytes at once: the second waits on the first's rows, then does nothing.
      await client.query('INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING', [r.id, bytes]);
      if (thumb && r.thumbSha256) await client.query('INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING', [r.thumbSha256, thumb]);
      const inserted = await client.query(
        'INSERT INTO attachments (id, kind, mime, size, width, height, duration_ms, name, thumb_sha256, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING',
        [r.id, r.kind, r.mime, r.size, r.width, r.height, r.durationMs, r.name, r.thumbSha256, r.createdAt, r.createdBy],
      );
      let result: { record: AttachmentRecord; created: boolean } = { record: r, created: true };
      if (inserted.rowCount === 0) {
        const { rows } = await client.query<AttachmentRow>('SELECT * FROM attachments WHERE id = $1', [r.id]);
        result = { record: attachmentOf(rows[0]!), created: false };
      }
      await client.query('INSERT INTO attachment_uploads (attachment_id, uploader, uploaded_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [r.id, r.createdBy, r.createdAt]);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.off('error', onError);
      client.release();
    }
  }

  async find(ids: readonly string[]): Promise<AttachmentRecord[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<AttachmentRow>('SELECT * FROM attachments WHERE id = ANY($1::text[])', [[...new Set(ids)]]);
    return rows.map(attachmentOf);
  }

  async uploadedBy(id: string, uploader: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM attachment_uploads WHERE attachment_id = $1 AND uploader = $2', [id, uploader]);
    return (rowCount ?? 0) > 0;
  }

  async events(id: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ event_id: string }>('SELECT event_id FROM attachment_links WHERE attachment_id = $1 ORDER BY event_id', [id]);
    return rows.map((r) => r.event_id);
  }

  async size(sha256: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT length(bytes) AS n FROM blobs WHERE sha256 = $1', [sha256]);
    return rows[0] ? Number(rows[0].n) : null;
  }

  async read(sha256: string, range?: { start: number; end: number }): Promise<BlobRead | null> {
    const { rows } = range
      ? await this.pool.query<{ bytes: Buffer; n: number }>('SELECT substring(bytes FROM $2 FOR $3) AS bytes, length(bytes) AS n FROM blobs WHERE sha256 = $1', [sha256, range.start + 1, range.end - range.start + 1])
      : await this.pool.query<{ bytes: Buffer; n: number }>('SELECT bytes, length(bytes) AS n FROM blobs WHERE sha256 = $1', [sha256]);
    return rows[0] ? { bytes: rows[0].bytes, total: Number(rows[0].n) } : null;
  }

  async counts(): Promise<{ blobs: number; attachments: number; links: number }> {
    const { rows } = await this.pool.query<{ blobs: string; attachments: string; links: string }>(
      'SELECT (SELECT COUNT(*) FROM blobs) AS blobs, (SELECT COUNT(*) FROM attachments) AS attachments, (SELECT COUNT(*) FROM attachment_links) AS links',
    );
    return { blobs: Number(rows[0]!.blobs), attachments: Number(rows[0]!.attachments), links: Number(rows[0]!.links) };
  }
}
