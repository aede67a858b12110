/**
 * The console's signed-in user, one per hub (every window shares it): signing in with a password at the
 * backend's /auth/login (the password goes there and nowhere else), the session token it answers kept in memory —
 * or, under Electron, by a SessionKeeper the Electron glue implements with safeStorage — and signing out. The
 * hub links with the token; when the backend says the session ended, the link waits and the windows ask again.
 */
import { AUTH_LOGIN_PATH, AUTH_LOGOUT_PATH, LoginAnswer, LoginRefusal, validate, type SignInResult, type SignInState } from '../protocol';

/** Keeps the session token across restarts (Electron: safeStorage); the browser host keeps none (memory only). */
export interface SessionKeeper {
  load(): string | null;
  save(token: string | null): void;
}

/** The backend's HTTP origin from its WebSocket address (ws://host:port/ws → http://host:port). */
export const httpOrigin = (wsUrl: string): string => wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '');

export interface SignInOptions {
  clientId: string;
  keeper?: SessionKeeper | null;
  /** The state windows see (ConnectionState.signIn). */
  show(state: SignInState): void;
}

export class SignIn {
  private token: string | null = null;

  constructor(private readonly o: SignInOptions) {
    this.token = o.keeper?.load() ?? null;
  }

  /** A session token kept from before (Electron), to try first. */
  get kept(): string | null {
    return this.token;
  }

  async signIn(urls: readonly string[], user: string, password: string): Promise<{ result: SignInResult; token: string | null }> {
    if (urls.length === 0) return { result: { ok: false, reason: 'no-backend', message: 'no backend is configured or started', lockedUntil: null }, token: null };
    let response: Response | null = null;
    let lastError = '';
    for (const url of urls) {
      try {
        response = await fetch(`${httpOrigin(url)}${AUTH_LOGIN_PATH}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ user, password, client: { id: this.o.clientId, name: '综治指挥调度台' } }),
          signal: AbortSignal.timeout(15_000),
        });
        break;
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    if (!response) return { result: { ok: false, reason: 'unreachable', message: `could not reach the backend: ${lastError}`, lockedUntil: null }, token: null };
    const json: unknown = await response.json().catch(() => null);
    if (response.ok) {
      const answer = validate(LoginAnswer, json);
      if (!answer.ok) return { result: { ok: false, reason: 'refused', message: 'the backend sent an invalid sign-in answer', lockedUntil: null }, token: null };
      this.token = answer.value.sessionToken;
      this.o.keeper?.save(this.token);
      this.o.show({ state: 'signed-in', demo: false, expiresAt: answer.value.expiresAt });
      return { result: { ok: true, user: answer.value.user, expiresAt: answer.value.expiresAt }, token: this.token };
    }
    const refusal = validate(LoginRefusal, json);
    const message = refusal.ok ? refusal.value.message : `the backend answered ${response.status}`;
    const reason = response.status === 401 ? 'wrong-password' : response.status === 423 ? 'locked' : response.status === 403 ? 'disabled' : 'refused';
    return { result: { ok: false, reason, message, lockedUntil: refusal.ok ? (refusal.value.lockedUntil ?? null) : null }, token: null };
  }

  /** Ends the session at the backend (best effort: unreachable, it expires there on its own) and forgets it. */
  async signOut(url: string | null): Promise<void> {
    const token = this.token;
    this.forget('required');
    if (token && url) {
      await fetch(`${httpOrigin(url)}${AUTH_LOGOUT_PATH}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) }).catch(() => {});
    }
  }

  /** The session is gone (signed out, or the backend said it ended): the windows ask for a sign-in. */
  forget(state: 'required' | 'expired'): void {
    this.token = null;
    this.o.keeper?.save(null);
    this.o.show({ state, demo: false, expiresAt: null });
  }
}
