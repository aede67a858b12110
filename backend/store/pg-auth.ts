/**
 * The PostgreSQL store's sign-in part (migration 4): users' passwords, lockout and disabled flag, and the
 * console sessions. The same columns and meaning as the SQLite store's (sqlite-store.ts); PgStore delegates here.
 */
import type pg from 'pg';
import type { LoginRecord, SessionRecord, UserRecord } from './types';
import { sessionOf, type SessionRow } from './session-rows';

export interface UserRow {
  id: string;
  name: string;
  role: UserRecord['role'];
  district_scope: string[] | null;
  token_hash: string;
  department_id: string | null;
  staff_id: string | null;
}

export const userOf = (row: UserRow): UserRecord => ({ id: row.id, name: row.name, role: row.role, districtScope: row.district_scope, tokenHash: row.token_hash, departmentId: row.department_id, staffId: row.staff_id });


export class PgAuth {
  constructor(private readonly pool: pg.Pool) {}

  async findUserByTokenHash(tokenHash: string, now: string): Promise<UserRecord | null> {
    const { rows } = await this.pool.query<UserRow>(
      `SELECT id, name, role, district_scope, token_hash, department_id, staff_id FROM users WHERE token_hash = $1 AND NOT disabled
       UNION ALL
       SELECT u.id, u.name, u.role, u.district_scope, u.token_hash, u.department_id, u.staff_id FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND s.idle_expires_at > $2 AND NOT u.disabled
       LIMIT 1`,
      [tokenHash, now],
    );
    return rows[0] ? userOf(rows[0]) : null;
  }

  async findLogin(userId: string): Promise<LoginRecord | null> {
    const { rows } = await this.pool.query<UserRow & { password_hash: string | null; failed_logins: number; locked_until: string | null; disabled: boolean }>('SELECT * FROM users WHERE id = $1', [userId]);
    const row = rows[0];
    return row ? { user: userOf(row), passwordHash: row.password_hash, failedLogins: row.failed_logins, lockedUntil: row.locked_until, disabled: row.disabled } : null;
  }

  async setPassword(userId: string, passwordHash: string | null): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE id = $2', [passwordHash, userId]);
    return (rowCount ?? 0) > 0;
  }

  async setLoginFailures(userId: string, failedLogins: number, lockedUntil: string | null): Promise<void> {
    await this.pool.query('UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3', [failedLogins, lockedUntil, userId]);
  }

  async setUserDisabled(userId: string, disabled: boolean, at: string): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rowCount } = await client.query('UPDATE users SET disabled = $1 WHERE id = $2', [disabled, userId]);
      if ((rowCount ?? 0) > 0 && disabled) await client.query("UPDATE sessions SET ended_at = $1, ended_why = 'disabled' WHERE user_id = $2 AND ended_at IS NULL", [at, userId]);
      await client.query('COMMIT');
      return (rowCount ?? 0) > 0;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async createSession(s: SessionRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO sessions (token_hash, user_id, client_id, client_name, created_at, expires_at, idle_expires_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [s.tokenHash, s.userId, s.clientId, s.clientName, s.createdAt, s.expiresAt, s.idleExpiresAt, s.lastUsedAt],
    );
  }

  async findSession(tokenHash: string): Promise<SessionRecord | null> {
    const { rows } = await this.pool.query<SessionRow>('SELECT * FROM sessions WHERE token_hash = $1', [tokenHash]);
    const r = rows[0];
    return r ? sessionOf(r) : null;
  }

  async touchSession(tokenHash: string, at: string, idleExpiresAt: string): Promise<void> {
    await this.pool.query('UPDATE sessions SET last_used_at = $1, idle_expires_at = $2 WHERE token_hash = $3 AND ended_at IS NULL', [at, idleExpiresAt, tokenHash]);
  }

  async endSession(tokenHash: string, at: string, why: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE sessions SET ended_at = $1, ended_why = $2 WHERE token_hash = $3 AND ended_at IS NULL', [at, why, tokenHash]);
    return (rowCount ?? 0) > 0;
  }
}
