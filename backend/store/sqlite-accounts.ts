/**
 * The SQLite store's accounts: users (their rights, passwords, lock and disabling) and sessions (migrations 1–5),
 * split from sqlite-store.ts by job. The same meaning as pg-auth.ts; failed sign-ins are sqlite-logins.ts.
 */
import type Database from 'better-sqlite3';
import { sessionOf, type SessionRow } from './session-rows';
import { LocalUserChanges, rightsChanged, type UserChange } from './user-changes';
import type { LoginRecord, SessionRecord, UserRecord, Watch } from './types';

interface UserRow {
  id: string;
  name: string;
  role: string;
  district_scope: string | null;
  token_hash: string;
  department_id: string | null;
  staff_id: string | null;
}

const userOf = (row: UserRow): UserRecord => ({
  id: row.id,
  name: row.name,
  role: row.role as UserRecord['role'],
  districtScope: row.district_scope === null ? null : (JSON.parse(row.district_scope) as string[]),
  tokenHash: row.token_hash,
  departmentId: row.department_id,
  staffId: row.staff_id,
});

export class SqliteAccounts {
  private readonly s;
  /** Users' rights changed by this process (the only writer): told to the instance's connections. */
  private readonly userChanges = new LocalUserChanges();

  constructor(private readonly db: Database.Database) {
    this.s = {
      userByToken: db.prepare<[string], UserRow>('SELECT id, name, role, district_scope, token_hash, department_id, staff_id FROM users WHERE token_hash = ? AND disabled = 0'),
      userBySession: db.prepare<[string, string, string], UserRow>(
        'SELECT u.id, u.name, u.role, u.district_scope, u.token_hash, u.department_id, u.staff_id FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.ended_at IS NULL AND s.expires_at > ? AND s.idle_expires_at > ? AND u.disabled = 0',
      ),
      login: db.prepare<[string], UserRow & { password_hash: string | null; failed_logins: number; locked_until: string | null; disabled: number }>('SELECT * FROM users WHERE id = ?'),
      setPassword: db.prepare<[string | null, string]>('UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?'),
      setFailures: db.prepare<[number, string | null, string]>('UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?'),
      setDisabled: db.prepare<[number, string]>('UPDATE users SET disabled = ? WHERE id = ?'),
      endUserSessions: db.prepare<[string, string, string]>('UPDATE sessions SET ended_at = ?, ended_why = ? WHERE user_id = ? AND ended_at IS NULL'),
      insertSession: db.prepare<[string, string, string, string | null, string, string, string, string]>(
        'INSERT INTO sessions (token_hash, user_id, client_id, client_name, created_at, expires_at, idle_expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      findSession: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE token_hash = ?'),
      touchSession: db.prepare<[string, string, string]>('UPDATE sessions SET last_used_at = ?, idle_expires_at = ? WHERE token_hash = ? AND ended_at IS NULL'),
      endSession: db.prepare<[string, string, string]>('UPDATE sessions SET ended_at = ?, ended_why = ? WHERE token_hash = ? AND ended_at IS NULL'),
      upsertUser: db.prepare<[string, string, string, string | null, string, string | null, string | null]>(
        'INSERT INTO users (id, name, role, district_scope, token_hash, department_id, staff_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, role = excluded.role, district_scope = excluded.district_scope, token_hash = excluded.token_hash, department_id = excluded.department_id, staff_id = excluded.staff_id',
      ),
      countUsers: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users'),
      listUsers: db.prepare<[], UserRow>('SELECT id, name, role, district_scope, token_hash, department_id, staff_id FROM users ORDER BY id'),
    };
  }

  findUserByTokenHash(tokenHash: string, now = new Date().toISOString()): UserRecord | null {
    const row = this.s.userByToken.get(tokenHash) ?? this.s.userBySession.get(tokenHash, now, now);
    return row ? userOf(row) : null;
  }

  findLogin(userId: string): LoginRecord | null {
    const row = this.s.login.get(userId);
    if (!row) return null;
    return { user: userOf(row), passwordHash: row.password_hash, failedLogins: row.failed_logins, lockedUntil: row.locked_until, disabled: row.disabled !== 0 };
  }

  setPassword(userId: string, passwordHash: string | null): boolean {
    return this.s.setPassword.run(passwordHash, userId).changes > 0;
  }

  setLoginFailures(userId: string, failedLogins: number, lockedUntil: string | null): void {
    this.s.setFailures.run(failedLogins, lockedUntil, userId);
  }

  setUserDisabled(userId: string, disabled: boolean, at: string): boolean {
    const changed = this.db.transaction(() => {
      const changed = this.s.setDisabled.run(disabled ? 1 : 0, userId).changes > 0;
      if (changed && disabled) this.s.endUserSessions.run(at, 'disabled', userId);
      return changed;
    })();
    if (changed) this.userChanges.tell([{ id: userId, what: disabled ? 'disabled' : 'enabled' }]);
    return changed;
  }

  watchUsers(onChange: (change: UserChange) => void): Watch {
    return this.userChanges.watch(onChange);
  }

  createSession(s: SessionRecord): void {
    this.s.insertSession.run(s.tokenHash, s.userId, s.clientId, s.clientName, s.createdAt, s.expiresAt, s.idleExpiresAt, s.lastUsedAt);
  }

  findSession(tokenHash: string): SessionRecord | null {
    const row = this.s.findSession.get(tokenHash);
    return row ? sessionOf(row) : null;
  }

  touchSession(tokenHash: string, at: string, idleExpiresAt: string): void {
    this.s.touchSession.run(at, idleExpiresAt, tokenHash);
  }

  endSession(tokenHash: string, at: string, why: string): boolean {
    return this.s.endSession.run(at, why, tokenHash).changes > 0;
  }

  upsertUsers(users: UserRecord[]): void {
    const changes = this.db.transaction(() =>
      users.flatMap((u): UserChange[] => {
        const before = this.s.login.get(u.id);
        this.s.upsertUser.run(u.id, u.name, u.role, u.districtScope === null ? null : JSON.stringify(u.districtScope), u.tokenHash, u.departmentId, u.staffId);
        return rightsChanged(before && userOf(before), u) ? [{ id: u.id, what: 'rights' }] : [];
      }),
    )();
    this.userChanges.tell(changes);
  }

  countUsers(): number {
    return this.s.countUsers.get()?.n ?? 0;
  }

  listUsers(): UserRecord[] {
    return this.s.listUsers.all().map(userOf);
  }
}
