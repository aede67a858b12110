/**
 * Which backend the hub links to, and as whom: the one link at a time (link.ts) to a configured or embedded
 * backend, with a static token or a password sign-in's session (sign-in.ts, its seat-switch rule), signing
 * out, going offline with the reason when none can be linked, the embedded backend's supervisor state and
 * restart, and the address and token the hub's HTTP reads use. hub.ts owns it and keeps its public methods.
 */
import { HubError, backendUrlList, type ConnectionState, type EmbeddedBackendState, type SignInResult } from '../protocol';
import type { Logger } from '../node-util/logger';
import { BackendLink } from './link';
import type { LinkOptions } from './link-ports';
import type { Replica } from './replica';
import type { Outbox } from './outbox';
import type { Connection } from './connection';
import type { PendingViews } from './audit';
import type { LayerSource } from './city-layers';
import { SignIn, endSession, type SessionKeeper } from './sign-in';

export interface BackendCredentials {
  /** One address, or the instances' addresses tried in turn (failover; see link-rules.ts AddressRotation). */
  url: string | readonly string[];
  token: string;
}

export interface BackendAccessOptions {
  clientId: string;
  replica: Replica;
  outbox: Outbox;
  status: Connection;
  views: PendingViews;
  log: Logger;
  link?: Partial<Pick<LinkOptions, 'backoffBaseMs' | 'backoffMaxMs' | 'silenceLimitMs'>>;
  sessionKeeper: SessionKeeper | null;
  /** The backend address in the settings (used when none is linked yet). */
  configuredUrl(): string | readonly string[] | null;
}

export class BackendAccess {
  private current: BackendLink | null = null;
  private backend: BackendCredentials | null = null;
  private readonly signInState: SignIn;
  /** Starts the embedded backend again (runEmbeddedBackend sets it); null with a configured backend. */
  private backendRestart: (() => void) | null = null;

  constructor(private readonly o: BackendAccessOptions) {
    this.signInState = new SignIn({ clientId: o.clientId, keeper: o.sessionKeeper, show: (signIn) => o.status.patch({ signIn }) });
  }

  /** The link now (null: none). */
  get link(): BackendLink | null {
    return this.current;
  }

  /**
   * Links to a backend (replacing any previous link). `demo`: the embedded backend's demo user, signed in
   * automatically with its static token (the windows say so).
   */
  connectTo(backend: BackendCredentials, how: { session?: boolean; demo?: boolean } = {}): void {
    const { status } = this.o;
    this.current?.stop();
    this.backend = backend;
    if (!how.session) status.patch({ signIn: { state: 'token', demo: how.demo === true, expiresAt: null } });
    const urls = backendUrlList(backend.url);
    status.patch({ backendUrl: urls[0] ?? null, backendUrls: urls, instance: null, status: 'connecting', lastError: null });
    this.current = new BackendLink({
      urls,
      token: backend.token,
      clientId: this.o.clientId,
      replica: this.o.replica,
      outbox: this.o.outbox,
      log: this.o.log,
      ...this.o.link,
      callbacks: {
        state: (patch) => {
          status.linkState(patch);
          if (patch.status === 'online') this.o.views.flush();
        },
        notice: (message) => status.patch({ notice: { code: 'backend', keptAs: null, detail: message } }),
        sessionEnded: () => this.signInState.forget('expired'),
      },
    });
    this.current.start();
  }

  /**
   * A configured backend without a static token: the kept session (Electron) if there is one, else the
   * windows ask for a sign-in (the picture from the cache stays behind it).
   */
  requireSignIn(url: string | readonly string[]): void {
    const kept = this.signInState.kept;
    if (kept) {
      this.o.status.patch({ signIn: { state: 'signed-in', demo: false, expiresAt: null } });
      return this.connectTo({ url, token: kept }, { session: true });
    }
    this.backend = { url, token: '' };
    this.unavailable(url, 'sign-in-required', 'nobody is signed in at this console');
    this.o.status.patch({ signIn: { state: 'required', demo: false, expiresAt: null } });
  }

  /** Signs the console in with a password (sign-in.ts); linked as that user once the backend says yes. */
  async signIn(user: string, password: string): Promise<SignInResult> {
    const urls = backendUrlList(this.backend?.url ?? this.o.configuredUrl());
    const { result, token, replaced } = await this.signInState.signIn(urls, user, password, (userId) => this.seatSwitchRefusal(userId));
    if (token) this.connectTo({ url: this.backend?.url ?? urls, token }, { session: true });
    // A seat switch: the outgoing officer's session ends at the backend (after the link moved to the new one).
    if (replaced) await endSession(replaced.url, replaced.token);
    return result;
  }

  /**
   * A seat switch while the outbox still holds commands queued by the previous user (the last one the backend
   * welcomed): refused, so that none of them goes out in the incoming user's name; they are sent (the previous
   * user signs in again) or discarded first. The same user signing in again (an expired session) is welcome.
   */
  private seatSwitchRefusal(userId: string): SignInResult | null {
    const previous = this.o.status.state.value.user;
    const pending = this.o.outbox.size;
    if (!previous || previous.id === userId || pending === 0) return null;
    return {
      ok: false,
      reason: 'outbox-pending',
      message: `${pending} command(s) queued by ${previous.name} (${previous.id}) are not sent yet: send them (sign in as ${previous.id}) or discard them first`,
      lockedUntil: null,
      pendingCommands: pending,
    };
  }

  /** Signs the console's user out: the session ends at the backend, the link closes, the cache stays. */
  async signOut(): Promise<void> {
    const url = this.current?.url ?? null;
    const backend = this.backend;
    this.current?.stop();
    this.current = null;
    await this.signInState.signOut(url);
    if (backend) this.backend = { url: backend.url, token: '' };
    this.o.status.linkState({ status: 'offline', reconnectAttempt: 0, nextRetryAt: null, lastError: { code: 'signed-out', message: 'signed out: nobody is signed in at this console' } });
  }

  /** No backend can be linked (none configured, no login, embedded one failed): offline, with the reason. */
  unavailable(backendUrl: string | readonly string[] | null, code: string, message: string, extra: Partial<ConnectionState> = {}): void {
    this.current?.stop();
    this.current = null;
    const urls = backendUrlList(backendUrl);
    // As for a link that dropped: `since` and the last sync move, and the stopped link's retry plan is gone.
    this.o.status.linkState({ status: 'offline', reconnectAttempt: 0, nextRetryAt: null, lastError: { code, message } }, { backendUrl: urls[0] ?? null, backendUrls: urls, instance: null, ...extra });
  }

  /**
   * The embedded backend's supervisor state (see backend-supervisor.ts), shown with the connection. A failed
   * start or an exit takes the link down at once, with the reason, rather than leaving it to find out.
   */
  setEmbeddedBackend(state: EmbeddedBackendState): void {
    const error = state.lastError;
    if ((state.state === 'retrying' || state.state === 'failed') && error) {
      this.unavailable(null, 'embedded-failed', `${error.code}: ${error.message}`, { embeddedBackend: state });
    } else this.o.status.patch({ embeddedBackend: state });
  }

  setBackendRestart(restart: (() => void) | null): void {
    this.backendRestart = restart;
  }

  /** A person's 重试: the embedded backend starts again now. */
  restartBackend(): void {
    if (!this.backendRestart) throw new HubError('unavailable', 'this console links to a configured backend: there is no embedded backend to start');
    this.backendRestart();
  }

  /** The linked backend's address now and its token (null: none linked). */
  source(): LayerSource | null {
    if (!this.backend?.token) return null;
    const urls = backendUrlList(this.backend.url);
    return { url: this.current?.url ?? urls[0]!, urls, token: this.backend.token };
  }

  /** The hub closes: the link stops. */
  stop(): void {
    this.current?.stop();
  }
}
