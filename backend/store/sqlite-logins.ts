/**
 * The SQLite store's failed sign-ins and user creation (migrations 4 and 5): the count of a user's failures and
 * of a name that is no user (sign_in_failures) each go up in one statement, the lock they lead to set in the
 * same transaction; a user is created with their password in one statement. The same meaning as pg-auth.ts.
 */
import type Database from 'better-sqlite3';
import type { FailureCount, LockRule, UserRecord } from './types';

export class SqliteLogins {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      countUser: db.prepare<[string], { failed_logins: number }>('UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins'),
      lockUser: db.prepare<[string, string]>('UPDATE users SET locked_until = ? WHERE id = ?'),
      countName: db.prepare<[string, string], { failed: number }>(
        'INSERT INTO sign_in_failures (login, failed, locked_until, updated_at) VALUES (?, 1, NULL, ?) ON CONFLICT(login) DO UPDATE SET failed = failed + 1, updated_at = excluded.updated_at RETURNING failed',
      ),
      lockName: db.prepare<[string, string]>('UPDATE sign_in_failures SET locked_until = ? WHERE login = ?'),
      findName: db.prepare<[string], { failed: number; locked_until: string | null }>('SELECT failed, locked_until FROM sign_in_failures WHERE login = ?'),
      pruneNames: db.prepare<[string, string, number]>(
        'DELETE FROM sign_in_failures WHERE login IN (SELECT login FROM sign_in_failures WHERE updated_at < ? AND (locked_until IS NULL OR locked_until <= ?) LIMIT ?)',
      ),
      createUser: db.prepare<[string, string, string, string | null, string, string | null, string | null, string]>(
        'INSERT INTO users (id, name, role, district_scope, token_hash, department_id, staff_id, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING',
      ),
    };
  }

  countLoginFailure(userId: string, lockFor: LockRule): FailureCount | null {
    return this.db.transaction(() => {
      const row = this.s.countUser.get(userId);
      if (!row) return null;
      const lockedUntil = lockFor(row.failed_logins);
      if (lockedUntil) this.s.lockUser.run(lockedUntil, userId);
      return { failed: row.failed_logins, lockedUntil };
    })();
  }

  countNameFailure(login: string, at: string, lockFor: LockRule): FailureCount {
    return this.db.transaction(() => {
      const failed = this.s.countName.get(login, at)!.failed;
      const lockedUntil = lockFor(failed);
      if (lockedUntil) this.s.lockName.run(lockedUntil, login);
      return { failed, lockedUntil };
    })();
  }

  findNameFailures(login: string): FailureCount | null {
    const row = this.s.findName.get(login);
    return row ? { failed: row.failed, lockedUntil: row.locked_until } : null;
  }

  pruneNameFailures(before: string, now: string, limit: number): number {
    return this.s.pruneNames.run(before, now, limit).changes;
  }

  createUser(u: UserRecord, passwordHash: string): boolean {
    return this.s.createUser.run(u.id, u.name, u.role, u.districtScope === null ? null : JSON.stringify(u.districtScope), u.tokenHash, u.departmentId, u.staffId, passwordHash).changes > 0;
  }
}
