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

  /**
   * Signs in at the backend. `admit` may refuse the user the backend accepted (the hub's seat-switch rule): that
   * new session is ended at once. `replaced`: the previous session (a seat switch), for the hub to end at the
   * backend once it has linked with the new one (ended before, its link would report the new one expired).
   */
  async signIn(urls: readonly string[], user: string, password: string, admit: (userId: string) => SignInResult | null = () => null): Promise<{ result: SignInResult; token: string | null; replaced?: { url: string; token: string } }> {
    if (urls.length === 0) return { result: { ok: false, reason: 'no-backend', message: 'no backend is configured or started', lockedUntil: null }, token: null };
    let response: Response | null = null;
    let lastError = '';
    let usedUrl: string | null = null;
    for (const url of urls) {
      try {
        response = await fetch(`${httpOrigin(url)}${AUTH_LOGIN_PATH}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ user, password, client: { id: this.o.clientId, name: '综治指挥调度台' } }),
          signal: AbortSignal.timeout(15_000),
        });
        usedUrl = url;
        break;
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    if (!response || !usedUrl) return { result: { ok: false, reason: 'unreachable', message: `could not reach the backend: ${lastError}`, lockedUntil: null }, token: null };
    const json: unknown = await response.json().catch(() => null);
    if (response.ok) {
      const answer = validate(LoginAnswer, json);
      if (!answer.ok) return { result: { ok: false, reason: 'refused', message: 'the backend sent an invalid sign-in answer', lockedUntil: null }, token: null };
      const refused = admit(answer.value.user.id);
      if (refused) {
        await endSession(usedUrl, answer.value.sessionToken);
        return { result: refused, token: null };
      }
      const previous = this.token;
      this.token = answer.value.sessionToken;
      this.o.keeper?.save(this.token);
      this.o.show({ state: 'signed-in', demo: false, expiresAt: answer.value.expiresAt });
      const result: SignInResult = { ok: true, user: answer.value.user, expiresAt: answer.value.expiresAt };
      return { result, token: this.token, ...(previous && previous !== this.token ? { replaced: { url: usedUrl, token: previous } } : {}) };
    }
    const refusal = validate(LoginRefusal, json);
    const message = refusal.ok ? refusal.value.message : `the backend answered ${response.status}`;
    // 403 is a disabled account, or one for another app (a field or liaison account: backend/auth/apps.ts).
    const reason = response.status === 401 ? 'wrong-password' : response.status === 423 ? 'locked' : refusal.ok && refusal.value.code === 'wrong-app' ? 'wrong-app' : response.status === 403 ? 'disabled' : 'refused';
    return { result: { ok: false, reason, message, lockedUntil: refusal.ok ? (refusal.value.lockedUntil ?? null) : null }, token: null };
  }

  /** Ends the session at the backend (best effort: unreachable, it expires there on its own) and forgets it. */
  async signOut(url: string | null): Promise<void> {
    const token = this.token;
    this.forget('required');
    if (token && url) await endSession(url, token);
  }

  /** The session is gone (signed out, or the backend said it ended): the windows ask for a sign-in. */
  forget(state: 'required' | 'expired'): void {
    this.token = null;
    this.o.keeper?.save(null);
    this.o.show({ state, demo: false, expiresAt: null });
  }
}

/** Ends a session at the backend (best effort: unreachable, it expires there on its own). */
export async function endSession(url: string, token: string): Promise<void> {
  await fetch(`${httpOrigin(url)}${AUTH_LOGOUT_PATH}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) }).catch(() => {});
}
