/** The sessions table's rows (migration 4): the same columns on SQLite and PostgreSQL, read into one record shape. */
import type { SessionRecord } from './types';

/** A sessions row as both stores read it (the same columns on SQLite and PostgreSQL). */
export interface SessionRow {
  token_hash: string;
  user_id: string;
  client_id: string;
  client_name: string | null;
  created_at: string;
  expires_at: string;
  idle_expires_at: string;
  last_used_at: string;
  ended_at: string | null;
  ended_why: string | null;
}

/** A sessions row (both stores: the same columns) as a record. */
export const sessionOf = (row: SessionRow): SessionRecord => ({
  tokenHash: row.token_hash,
  userId: row.user_id,
  clientId: row.client_id,
  clientName: row.client_name,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  idleExpiresAt: row.idle_expires_at,
  lastUsedAt: row.last_used_at,
  endedAt: row.ended_at,
  endedWhy: row.ended_why,
});
