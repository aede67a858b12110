/**
 * The PostgreSQL store's sign-in part (migration 4): users' passwords, lockout and disabled flag, and the
 * console sessions. The same columns and meaning as the SQLite store's (sqlite-store.ts); PgStore delegates here.
 */
import type pg from 'pg';
import type { FailureCount, LockRule, LoginRecord, SessionRecord, UserRecord } from './types';
import { sessionOf, type SessionRow } from './session-rows';
import { USERS_CHANNEL, type UserChange } from './user-changes';

/** Announces a user's change to every instance when the transaction `client` is in commits (user-changes.ts). */
export async function notifyUserChange(client: pg.PoolClient, change: UserChange): Promise<void> {
  await client.query('SELECT pg_notify($1, $2)', [USERS_CHANNEL, JSON.stringify(change)]);
}

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

  /** One transaction on a client of its own (rolled back when `work` throws). */
  private async tx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const onError = (): void => {};
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
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

  async setUserDisabled(userId: string, disabled: boolean, at: string): Promise<boolean> {
    return this.tx(async (client) => {
      const { rowCount } = await client.query('UPDATE users SET disabled = $1 WHERE id = $2', [disabled, userId]);
      if ((rowCount ?? 0) > 0 && disabled) await client.query("UPDATE sessions SET ended_at = $1, ended_why = 'disabled' WHERE user_id = $2 AND ended_at IS NULL", [at, userId]);
      if ((rowCount ?? 0) > 0) await notifyUserChange(client, { id: userId, what: disabled ? 'disabled' : 'enabled' });
      return (rowCount ?? 0) > 0;
    });
  }

  /** The row stays locked from the count to the commit: a failure counted on another instance waits for this one. */
  countLoginFailure(userId: string, lockFor: LockRule): Promise<FailureCount | null> {
    return this.tx(async (client) => {
      const { rows } = await client.query<{ failed_logins: number }>('UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins', [userId]);
      if (!rows[0]) return null;
      const failed = rows[0].failed_logins;
      const lockedUntil = lockFor(failed);
      if (lockedUntil) await client.query('UPDATE users SET locked_until = $1 WHERE id = $2', [lockedUntil, userId]);
      return { failed, lockedUntil };
    });
  }

  countNameFailure(login: string, at: string, lockFor: LockRule): Promise<FailureCount> {
    return this.tx(async (client) => {
      const { rows } = await client.query<{ failed: number }>(
        `INSERT INTO sign_in_failures (login, failed, locked_until, updated_at) VALUES ($1, 1, NULL, $2)
         ON CONFLICT (login) DO UPDATE SET failed = sign_in_failures.failed + 1, updated_at = excluded.updated_at RETURNING failed`,
        [login, at],
      );
      const failed = rows[0]!.failed;
      const lockedUntil = lockFor(failed);
      if (lockedUntil) await client.query('UPDATE sign_in_failures SET locked_until = $1 WHERE login = $2', [lockedUntil, login]);
      return { failed, lockedUntil };
    });
  }

  async findNameFailures(login: string): Promise<FailureCount | null> {
    const { rows } = await this.pool.query<{ failed: number; locked_until: string | null }>('SELECT failed, locked_until FROM sign_in_failures WHERE login = $1', [login]);
    return rows[0] ? { failed: rows[0].failed, lockedUntil: rows[0].locked_until } : null;
  }

  async pruneNameFailures(before: string, now: string, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM sign_in_failures WHERE login IN (SELECT login FROM sign_in_failures WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until <= $2) LIMIT $3)',
      [before, now, limit],
    );
    return rowCount ?? 0;
  }

  async createUser(u: UserRecord, passwordHash: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'INSERT INTO users (id, name, role, district_scope, token_hash, department_id, staff_id, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING',
      [u.id, u.name, u.role, u.districtScope === null ? null : JSON.stringify(u.districtScope), u.tokenHash, u.departmentId, u.staffId, passwordHash],
    );
    return (rowCount ?? 0) > 0;
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
