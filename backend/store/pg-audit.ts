/**
 * Reading the audit back on PostgreSQL (GET /audit, backend/audit): filters in SQL, newest first, a page at a
 * time. Reads only: the table is append-only by its trigger.
 */
import type pg from 'pg';
import type { AuditFilter, AuditRecord } from './types';

export async function readPgAudit(pool: pg.Pool, filter: AuditFilter): Promise<AuditRecord[]> {
  const where: string[] = [];
  const args: Array<string | number> = [];
  const arg = (value: string | number): string => `$${args.push(value)}`;
  if (filter.userId !== undefined) where.push(`user_id = ${arg(filter.userId)}`);
  if (filter.kind !== undefined) where.push(`kind = ${arg(filter.kind)}`);
  if (filter.eventId !== undefined) {
    const e = arg(filter.eventId);
    where.push(`(detail->>'eventId' = ${e} OR detail#>>'{payload,eventId}' = ${e})`);
  }
  if (filter.from !== undefined) where.push(`at >= ${arg(filter.from)}`);
  if (filter.to !== undefined) where.push(`at < ${arg(filter.to)}`);
  if (filter.text !== undefined) {
    const like = arg(`%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`(detail::text ILIKE ${like} OR user_id ILIKE ${like} OR kind ILIKE ${like})`);
  }
  if (filter.before) {
    const at = arg(filter.before.at);
    where.push(`(at < ${at} OR (at = ${at} AND id < ${arg(filter.before.id)}))`);
  }
  // Newest first on the index on `at` (ISO times in UTC, all of one shape: their text order is their time order).
  const sql = `SELECT id::text AS id, at, user_id, kind, detail FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ${arg(filter.limit)}`;
  const { rows } = await pool.query<{ id: string; at: string; user_id: string | null; kind: string; detail: Record<string, unknown> }>(sql, args);
  return rows.map((r) => ({ id: Number(r.id), at: r.at, userId: r.user_id, kind: r.kind, detail: r.detail }));
}
