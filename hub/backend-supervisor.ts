/**
 * Keeps the embedded backend running, without hammering one that cannot start: a failed start (or an exit soon
 * after one) is retried after a pause that doubles with each failure in a row; after a few in a row, or at
 * once when the backend says its data needs a person (exit code 3, node-util/backend-refusal.ts), it stops trying
 * and the console says why in the status bar with a 重试 button (restartBackend). It used to restart a backend
 * on a corrupt database every ten seconds forever while the window said only "no backend".
 */
import type { EmbeddedBackendState } from '../protocol';
import type { Logger } from '../node-util/logger';
import { EXIT_NEEDS_PERSON } from '../node-util/backend-refusal';
import { EmbeddedBackendError, startEmbeddedBackend, type EmbeddedBackend, type EmbeddedBackendOptions } from './embedded-backend';
import { embeddedCredentials } from './credentials';
import type { Hub } from './hub';

export interface BackoffPolicy {
  /** The pause before the first retry; each further failure in a row doubles it. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Failures in a row after which the supervisor stops trying until a person asks (重试). */
  maxFailures: number;
  /** A backend that ran this long before it exited was healthy: its exit starts a fresh count. */
  stableAfterMs: number;
}

/** Tries at 0, +2, +4, +8, +16 s, then waits for a person: a wall is back within seconds of a passing fault. */
export const DEFAULT_BACKOFF: BackoffPolicy = { firstDelayMs: 2000, maxDelayMs: 60_000, maxFailures: 5, stableAfterMs: 60_000 };

/** The pause after the n-th failure in a row (n ≥ 1). */
export function retryDelayMs(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.max(0, failures - 1));
}

export interface BackendSupervisor {
  readonly state: EmbeddedBackendState;
  /** Starts again now with a fresh count (a person fixed the cause); does nothing while starting or running. */
  restart(): void;
  stop(): Promise<void>;
}

export interface SupervisorOptions {
  /** One start of the backend (startEmbeddedBackend; tests pass fakes). */
  start: () => Promise<EmbeddedBackend>;
  log: Logger;
  onReady: (backend: EmbeddedBackend) => void;
  onState: (state: EmbeddedBackendState) => void;
  policy?: Partial<BackoffPolicy>;
}

export function superviseEmbeddedBackend(options: SupervisorOptions): BackendSupervisor {
  const policy: BackoffPolicy = { ...DEFAULT_BACKOFF, ...options.policy };
  let state: EmbeddedBackendState = { state: 'starting', failures: 0, nextRetryAt: null, lastError: null };
  let current: EmbeddedBackend | null = null;
  let stopping = false;
  let timer: NodeJS.Timeout | null = null;

  const set = (next: Partial<EmbeddedBackendState>): void => {
    state = { ...state, ...next };
    options.onState(state);
  };

  const failed = (error: EmbeddedBackendError): void => {
    const failures = state.failures + 1;
    const lastError = { code: error.code, message: error.message, path: error.path };
    if (error.needsPerson || failures >= policy.maxFailures) {
      options.log.error('embedded backend failed; not retrying until asked', { code: error.code, error: error.message, failures, needsPerson: error.needsPerson });
      set({ state: 'failed', failures, nextRetryAt: null, lastError });
      return;
    }
    const delayMs = retryDelayMs(failures, policy);
    options.log.error('embedded backend failed; retrying', { code: error.code, error: error.message, failures, delayMs });
    set({ state: 'retrying', failures, nextRetryAt: new Date(Date.now() + delayMs).toISOString(), lastError });
    timer = setTimeout(launch, delayMs);
  };

  function launch(): void {
    timer = null;
    set({ state: 'starting', nextRetryAt: null });
    options.start().then(
      (backend) => {
        if (stopping) {
          void backend.stop();
          return;
        }
        current = backend;
        const startedAt = Date.now();
        backend.process.once('exit', (code, signal) => {
          current = null;
          if (stopping) return;
          // Only a quick relapse adds to the count; a backend that ran a while and then died starts afresh.
          if (Date.now() - startedAt >= policy.stableAfterMs) state = { ...state, failures: 0 };
          failed(new EmbeddedBackendError('exited', `embedded backend exited (${signal ?? `code ${code}`})`, code === EXIT_NEEDS_PERSON));
        });
        set({ state: 'running', nextRetryAt: null, lastError: null });
        options.onReady(backend);
      },
      (e: unknown) => {
        if (stopping) return;
        failed(e instanceof EmbeddedBackendError ? e : new EmbeddedBackendError('exited', e instanceof Error ? e.message : String(e), false));
      },
    );
  }

  launch();
  return {
    get state() {
      return state;
    },
    restart() {
      if (stopping || state.state === 'starting' || state.state === 'running') return;
      if (timer) clearTimeout(timer);
      options.log.info('embedded backend: starting again as asked', { after: state.lastError?.code ?? null });
      state = { ...state, failures: 0 };
      launch();
    },
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      await current?.stop();
    },
  };
}

/**
 * The embedded backend for a hub: supervised, its address and login handed to the hub on every start, its
 * state shown in the hub's connection state, and a person's 重试 (restartBackend) wired to the supervisor.
 * Used by both electron/main.ts and the browser host (host/cli.ts).
 */
export function runEmbeddedBackend(hub: Hub, options: EmbeddedBackendOptions & { policy?: Partial<BackoffPolicy> }): BackendSupervisor {
  const { policy, ...startOptions } = options;
  const supervisor = superviseEmbeddedBackend({
    start: () => startEmbeddedBackend(startOptions),
    log: options.log,
    ...(policy ? { policy } : {}),
    onReady: (backend) => {
      const login = embeddedCredentials(backend.url, backend.tokens);
      if (login.ok) hub.connectTo(login.credentials, { demo: true });
      else hub.unavailable(backend.url, login.code, login.message);
    },
    onState: (state) => hub.setEmbeddedBackend(state),
  });
  hub.setBackendRestart(() => supervisor.restart());
  return supervisor;
}
