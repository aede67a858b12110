/**
 * Sign-in with a password and the sessions it opens (分层授权: people sign in at their seat). A session token is
 * random (32 bytes), handed out once and stored only as its hash; it is used like a static token (wire hello,
 * the HTTP routes' bearer) until it ends: signed out, expired (an idle limit renewed while it is used, and an
 * absolute limit: one shift and a margin), replaced, or its user disabled. Failed sign-ins in a row lock the user
 * out for a while that doubles with each further failure, counted in one atomic step in the store (instances on one
 * PostgreSQL share the count); a name that is no user is counted and locked the same way, answered alike. Every sign-in, refusal, lockout, sign-out and expiry is
 * written to the store's audit. Wall-clock time throughout (a shift is real time, whatever the city's clock).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../node-util/logger';
import type { AuditEntry, BackendStore, SessionRecord, UserRecord } from '../store/types';
import { hashToken } from '../users';
import { dummyHash, verifyPassword } from './password';
import { wrongApp, wrongAppAudit, type SignInApp } from './apps';
import { scopeKeyOf } from '../wire/scopes';

export interface AuthLimits {
  /** A session unused this long ends (renewed while the console is linked). */
  sessionIdleMs: number;
  /** A session ends this long after sign-in, used or not: one shift and a margin. */
  sessionMaxMs: number;
  /** Failed sign-ins in a row before the user is locked out. */
  lockAfter: number;
  /** The first lockout; each further failure doubles it … */
  lockBaseMs: number;
  /** … up to this. */
  lockMaxMs: number;
  /** How often open connections' sessions are renewed, and ended ones closed. */
  sweepMs: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = {
  sessionIdleMs: 2 * 3600_000,
  sessionMaxMs: 9 * 3600_000,
  lockAfter: 5,
  lockBaseMs: 30_000,
  lockMaxMs: 15 * 60_000,
  sweepMs: 30_000,
};

export type SignInResult =
  | { ok: true; sessionToken: string; expiresAt: string; user: { id: string; name: string; role: UserRecord['role'] } }
  | { ok: false; status: 401 | 403 | 423; code: 'wrong-password' | 'locked' | 'disabled' | 'wrong-app'; message: string; lockedUntil?: string };

/** What a token is: a user's (static or a live session), an ended or expired session, or nothing known. */
export type TokenCheck = { user: UserRecord; sessionHash: string | null } | { ended: SessionRecord; why: string } | null;

const WRONG = '用户名或密码错误 / wrong user name or password';
/** How long an unlocked name's failures are kept after its last one (sign_in_failures), and how many go per sweep. */
const NAME_FAILURES_KEPT_MS = 24 * 3600_000;
const NAME_FAILURES_PRUNED_PER_SWEEP = 500;

/** The key a name that is no user is counted under: lower-cased, trimmed, at most 64 characters. */
export const nameKey = (name: string): string => name.trim().toLowerCase().slice(0, 64);
const clock = (ms: number): string => new Date(ms).toLocaleTimeString('zh-CN', { hour12: false });

export interface AuthOptions {
  store: BackendStore;
  log: Logger;
  limits?: Partial<AuthLimits>;
  /** Closes the open connections of a session that ended (the wire server); answers how many. */
  closeSession?: (tokenHash: string, why: string) => number;
  /** The sessions open connections use now (renewed at each sweep). */
  liveSessions?: () => Iterable<string>;
  /**
   * The users of open connections now (static tokens too), as each connection acts: checked at every sweep to be
   * still enabled and still of that role and area.
   */
  liveUsers?: () => Iterable<{ id: string; role: string; districtScope: readonly string[] | null }>;
  /** Closes every open connection of a user disabled (or removed) behind this instance's back; answers how many. */
  closeDisabledUser?: (userId: string) => number;
  /** Closes every open connection of a user whose role or area changed behind this instance's back (4012). */
  closeChangedUser?: (userId: string) => number;
  now?: () => number;
}

export class Auth {
  readonly limits: AuthLimits;
  private timer: NodeJS.Timeout | null = null;
  /** The sign-in running for each user id (lower-cased), the next one waits for it. */
  private readonly attempts = new Map<string, Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly o: AuthOptions) {
    this.limits = { ...DEFAULT_AUTH_LIMITS, ...o.limits };
    this.now = o.now ?? Date.now;
  }

  private audit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    return this.o.store.audit([{ at: new Date(this.now()).toISOString(), ...entry }]);
  }

  /**
   * Signs a user in. Attempts for one user run one after another (on this instance): parallel guesses each see the
   * failures counted before them, so a burst cannot get more tries past the lock than one at a time would.
   */
  signIn(userId: string, password: string, client: { id: string; name: string | null }, remote: string, app: SignInApp = 'console'): Promise<SignInResult> {
    const key = userId.toLowerCase();
    const before = this.attempts.get(key) ?? Promise.resolve();
    const mine = before.then(() => this.signInNow(userId, password, client, remote, app));
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.attempts.set(key, settled);
    void settled.then(() => {
      if (this.attempts.get(key) === settled) this.attempts.delete(key);
    });
    return mine;
  }

  /** The lock after `failed` failures in a row from `now`: none before lockAfter, then doubling up to lockMaxMs. */
  private lockRule(now: number): (failed: number) => string | null {
    return (failed) => {
      const over = failed - this.limits.lockAfter;
      return over >= 0 ? new Date(now + Math.min(this.limits.lockMaxMs, this.limits.lockBaseMs * 2 ** Math.min(over, 30))).toISOString() : null;
    };
  }

  private async signInNow(userId: string, password: string, client: { id: string; name: string | null }, remote: string, app: SignInApp): Promise<SignInResult> {
    const now = this.now();
    const at = new Date(now).toISOString();
    const login = await this.o.store.findLogin(userId);
    // A name that is no user is counted and locked like a user (under its key): the answers never tell them apart.
    const name = login ? null : nameKey(userId);
    const who = { userId: login ? userId : null };
    const detail = { clientId: client.id, clientName: client.name, remote, ...(login ? {} : { asked: userId.slice(0, 64) }) };
    const lockedUntil = login ? login.lockedUntil : ((await this.o.store.findNameFailures(name!))?.lockedUntil ?? null);
    if (lockedUntil && Date.parse(lockedUntil) > now) {
      // Not even checked while locked: the lock must stop guessing, not only slow it.
      await this.audit({ userId: who.userId, kind: 'sign-in-refused', detail: { ...detail, reason: 'locked', lockedUntil } });
      return { ok: false, status: 423, code: 'locked', lockedUntil, message: `登录失败次数过多，已锁定至 ${clock(Date.parse(lockedUntil))} / too many failed sign-ins: locked until ${lockedUntil}` };
    }
    // An unknown user or one without a password costs the same time as a wrong password (says nothing either way).
    const matches = await verifyPassword(password, login?.passwordHash ?? (await dummyHash()));
    if (!login || !login.passwordHash || !matches) {
      // One atomic step in the store (several instances count the same failures), the lock set with the count.
      const rule = this.lockRule(now);
      const counted = login ? await this.o.store.countLoginFailure(userId, rule) : await this.o.store.countNameFailure(name!, at, rule);
      const { failed, lockedUntil: lock } = counted ?? { failed: 1, lockedUntil: null };
      const reason = !login ? 'unknown-user' : login.passwordHash ? 'wrong-password' : 'no-password';
      await this.audit({ userId: who.userId, kind: 'sign-in-refused', detail: { ...detail, reason, failedLogins: failed } });
      if (lock) {
        await this.audit({ userId: who.userId, kind: 'lockout', detail: { ...detail, failedLogins: failed, lockedUntil: lock } });
        return { ok: false, status: 423, code: 'locked', lockedUntil: lock, message: `密码错误次数过多，已锁定至 ${clock(Date.parse(lock))} / too many wrong passwords: locked until ${lock}` };
      }
      return { ok: false, status: 401, code: 'wrong-password', message: WRONG };
    }
    if (login.disabled) {
      await this.audit({ userId, kind: 'sign-in-refused', detail: { ...detail, reason: 'disabled' } });
      return { ok: false, status: 403, code: 'disabled', message: '该账号已停用，请联系系统管理员 / this account is disabled: ask the administrator' };
    }
    // The app only after the password (a guesser learns nothing); neither a failure nor a success for the lockout.
    const wrong = wrongApp(login.user.role, app);
    if (wrong) {
      await this.audit(wrongAppAudit(userId, app, wrong.app, detail));
      return { ok: false, status: wrong.status, code: wrong.code, message: wrong.message };
    }
    if (login.failedLogins > 0 || login.lockedUntil) await this.o.store.setLoginFailures(userId, 0, null);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now + this.limits.sessionMaxMs).toISOString();
    const session: SessionRecord = {
      tokenHash: hashToken(token),
      userId,
      clientId: client.id,
      clientName: client.name,
      createdAt: at,
      expiresAt,
      idleExpiresAt: this.idleDeadline(now, expiresAt),
      lastUsedAt: at,
      endedAt: null,
      endedWhy: null,
    };
    await this.o.store.createSession(session);
    await this.audit({ userId, kind: 'sign-in', detail: { ...detail, session: session.tokenHash.slice(0, 12), expiresAt } });
    return { ok: true, sessionToken: token, expiresAt, user: { id: login.user.id, name: login.user.name, role: login.user.role } };
  }

  private idleDeadline(now: number, expiresAt: string): string {
    return new Date(Math.min(now + this.limits.sessionIdleMs, Date.parse(expiresAt))).toISOString();
  }

  /** Ends the session of `token` (sign-out); its connections close. False when it was no live session. */
  async signOut(token: string, remote: string): Promise<boolean> {
    const hash = hashToken(token);
    const session = await this.o.store.findSession(hash);
    const at = new Date(this.now()).toISOString();
    if (!session || !(await this.o.store.endSession(hash, at, 'sign-out'))) return false;
    await this.audit({ userId: session.userId, kind: 'sign-out', detail: { clientId: session.clientId, remote, session: hash.slice(0, 12) } });
    this.o.closeSession?.(hash, 'signed out');
    return true;
  }

  /**
   * What a token presented at hello (or as a bearer) is. A live session is renewed; one past a limit is ended
   * as expired here (and audited) the first time it is presented after that.
   */
  async check(token: string): Promise<TokenCheck> {
    const hash = hashToken(token);
    const nowMs = this.now();
    const now = new Date(nowMs).toISOString();
    const user = await this.o.store.findUserByTokenHash(hash, now);
    const session = await this.o.store.findSession(hash);
    if (user && !session) return { user, sessionHash: null };
    if (!session) return null;
    if (user && user.id === session.userId) {
      await this.o.store.touchSession(hash, now, this.idleDeadline(nowMs, session.expiresAt));
      return { user, sessionHash: hash };
    }
    if (session.endedAt === null) await this.expire(session, now);
    const ended = (await this.o.store.findSession(hash)) ?? session;
    return { ended, why: ended.endedWhy ?? 'expired' };
  }

  private async expire(session: SessionRecord, at: string): Promise<void> {
    if (!(await this.o.store.endSession(session.tokenHash, at, 'expired'))) return;
    const limit = Date.parse(session.expiresAt) <= Date.parse(at) ? 'absolute' : 'idle';
    await this.audit({ userId: session.userId, kind: 'session-expired', detail: { clientId: session.clientId, session: session.tokenHash.slice(0, 12), limit, lastUsedAt: session.lastUsedAt } });
  }

  /** Renews the sessions open connections use; ends (and closes) those past a limit or ended elsewhere. */
  async sweep(): Promise<void> {
    const nowMs = this.now();
    const now = new Date(nowMs).toISOString();
    for (const hash of new Set(this.o.liveSessions?.() ?? [])) {
      const session = await this.o.store.findSession(hash);
      if (!session) continue;
      const user = await this.o.store.findUserByTokenHash(hash, now);
      if (session.endedAt === null && user) {
        await this.o.store.touchSession(hash, now, this.idleDeadline(nowMs, session.expiresAt));
        continue;
      }
      if (session.endedAt === null) await this.expire(session, now);
      const why = session.endedWhy;
      this.o.closeSession?.(hash, why === 'sign-out' ? 'signed out' : why === 'disabled' ? 'disabled' : 'session expired');
    }
    // A user disabled, or given another role or area, elsewhere (the command line writes the store directly; a
    // change announced while this instance was not listening): their connections close too, static-token ones
    // included — disabled with 4011, changed with 4012 (the console resyncs to the new area).
    const seen = new Set<string>();
    for (const live of this.o.liveUsers?.() ?? []) {
      const actingAs = `${live.id}|${live.role}|${scopeKeyOf(live.districtScope)}`;
      if (seen.has(actingAs)) continue;
      seen.add(actingAs);
      const login = await this.o.store.findLogin(live.id);
      if (!login || login.disabled) {
        const closed = this.o.closeDisabledUser?.(live.id) ?? 0;
        if (closed > 0) this.o.log.info('connections of a disabled user closed', { user: live.id, closed });
      } else if (login.user.role !== live.role || scopeKeyOf(login.user.districtScope) !== scopeKeyOf(live.districtScope)) {
        const closed = this.o.closeChangedUser?.(live.id) ?? 0;
        if (closed > 0) this.o.log.info('connections of a user whose role or area changed closed', { user: live.id, closed });
      }
    }
    // Names that are no user, unlocked and not tried for a day, are forgotten (a bounded number per sweep).
    await this.o.store.pruneNameFailures(new Date(nowMs - NAME_FAILURES_KEPT_MS).toISOString(), now, NAME_FAILURES_PRUNED_PER_SWEEP);
  }

  start(): void {
    this.timer ??= setInterval(() => this.sweep().catch((e: unknown) => this.o.log.error('session sweep failed', { error: (e as Error).message })), this.limits.sweepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
