/**
 * The truth about the backend link every window shows in its status bar, and the server clock derived from it.
 */
import { z } from 'zod';
import { CommandLevel } from '../vocabulary';
import { IsoTime } from '../model';
import { AreaScope, BackendInstance, UserRole } from '../wire-messages';

export const ConnectionStatus = z.enum(['online', 'connecting', 'reconnecting', 'offline']);
export type ConnectionStatus = z.infer<typeof ConnectionStatus>;

/**
 * The embedded backend as the console's supervisor sees it. 'retrying': a start failed or the backend exited,
 * the next try is at nextRetryAt (the pause grows with each failure in a row). 'failed': the supervisor has
 * stopped trying — the backend said its data needs a person, or it failed too often in a row — until a person
 * has fixed the cause and asks for a start (restartBackend).
 */
export const EmbeddedBackendState = z.object({
  state: z.enum(['starting', 'running', 'retrying', 'failed']),
  /** Failed starts (or exits soon after a start) in a row; 0 once it has run a while. */
  failures: z.number().int().nonnegative(),
  nextRetryAt: IsoTime.nullable(),
  /**
   * Why the last try failed: the backend's own refusal code (database-empty, database-not-ours,
   * database-corrupt, database-newer, tokens-unreadable, port-in-use, broker-refused, start-failed) or the supervisor's
   * (exited, start-timeout, not-built). `message` is the technical detail in English; `path` the file concerned.
   */
  lastError: z.object({ code: z.string().max(64), message: z.string().max(4000), path: z.string().max(4096).nullable() }).nullable(),
});
export type EmbeddedBackendState = z.infer<typeof EmbeddedBackendState>;

/** The truth about the backend link, always visible in the status bar. */
/**
 * A one-time message from the hub, worded by each window in its language from the code; the technical detail
 * (the parse error, the backend's own words) is kept for a "details" click. Codes: settings-set-aside (settings.json
 * could not be used: defaults in use, the file kept as keptAs), cache-rebuilt (the local cache was unusable: kept as
 * keptAs, rebuilt from the backend), backend (the backend's notice; its text is the detail).
 */
export const HubNotice = z.object({
  code: z.enum(['settings-set-aside', 'cache-rebuilt', 'backend']),
  keptAs: z.string().nullable(),
  detail: z.string(),
});
export type HubNotice = z.infer<typeof HubNotice>;

/**
 * Who is signed in at this console (one user for every window, held by the hub). 'token': a static token
 * (ZONGZHI_BACKEND_TOKEN, credentials.json, the embedded demo); 'signed-in': with a password (a session until
 * expiresAt, renewed while linked); 'required': nobody, the windows ask for a sign-in; 'expired': the session
 * ended (expired, or signed out elsewhere) — the link waits, the outbox keeps its commands until a sign-in.
 * `demo`: the embedded backend's demo user signed in automatically.
 */
export const SignInState = z.object({
  state: z.enum(['token', 'signed-in', 'required', 'expired']),
  demo: z.boolean(),
  expiresAt: IsoTime.nullable(),
});
export type SignInState = z.infer<typeof SignInState>;

export const ConnectionState = z.object({
  status: ConnectionStatus,
  /** When the current status began (e.g. offline since T). */
  since: IsoTime,
  /** The address the hub is on, or trying now (one of backendUrls); null while no backend is configured or started. */
  backendUrl: z.string().nullable(),
  /**
   * Every address the hub may link to, in the order it tries them: the configured list (one address for a
   * single backend or one behind a load balancer), or the embedded backend's. Pages may stream from all of them.
   */
  backendUrls: z.array(z.string()).max(16),
  /** The backend instance that welcomed the hub on backendUrl; null before that, or when the backend does not say. */
  instance: BackendInstance.nullable(),
  /** Commands written locally and not yet acknowledged by the backend. */
  pendingCommands: z.number().int().nonnegative(),
  /** Commands the backend refused that still wait for the user to retry or discard. */
  rejectedCommands: z.number().int().nonnegative(),
  reconnectAttempt: z.number().int().nonnegative(),
  nextRetryAt: IsoTime.nullable(),
  lastError: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** Command level as last known from the backend; null when never received. */
  commandLevel: CommandLevel.nullable(),
  /** Who the hub is logged in as at the backend (from the last welcome); null before the first one. */
  user: z.object({ id: z.string(), name: z.string(), role: UserRole }).nullable(),
  districtScope: z.array(z.string()).nullable(),
  /** The scope's units described, from the last welcome (null: the whole city, or a backend that does not say). */
  areaScope: AreaScope.nullable(),
  /**
   * What opens the backend's own camera streams for this console's sign-in (the last welcome's streamTicket; a
   * new welcome replaces it): every player adds it to backend-relative stream URLs (resolveStreamUrl). Null
   * before a welcome, or from a backend that does not send one.
   */
  streamTicket: z.string().max(128).nullable(),
  /** Server clock: serverNow = serverTime + (localNow - localTime) × clockRate (the backend may run faster). */
  serverClock: z.object({ serverTime: IsoTime, localTime: IsoTime, clockRate: z.number().positive() }).nullable(),
  /** Last applied sequence number and when the cache was last in step with the backend. */
  lastSeq: z.number().int().nonnegative(),
  lastSyncedAt: IsoTime.nullable(),
  /** A one-time message for the user (e.g. the cache was rebuilt); null when none. Windows word it by its code. */
  notice: HubNotice.nullable(),
  /** The embedded backend's supervisor; null when the console links to a configured backend (or none). */
  embeddedBackend: EmbeddedBackendState.nullable(),
  /** Sign-in at this console (SignInState). */
  signIn: SignInState,
});
export type ConnectionState = z.infer<typeof ConnectionState>;

/** Server time now (ms) from the last welcome's clock; local time when none is known yet. */
export function serverNowMs(clock: ConnectionState['serverClock'], localNowMs: number = Date.now()): number {
  if (!clock) return localNowMs;
  return Date.parse(clock.serverTime) + (localNowMs - Date.parse(clock.localTime)) * clock.clockRate;
}
