/**
 * Camera streams follow the viewer's sign-in (分级授权). The backend's own stream routes (`/video/<id>` MPEG-TS
 * over WebSocket, HLS, WHEP) take no bearer token — players cannot send headers — so a stream is opened with a
 * viewer ticket in its URL (`?ticket=`): the console's welcome carries it, made from the hash of the token the
 * connection signed in with (a password session or a static token):
 *
 *     <base64url(token hash)>.<HMAC(city key, 'viewer:' + token hash), 22 characters>
 *
 * The token hash is not the token: a leaked ticket cannot sign anyone in (the store keeps only hashes too). The
 * key is the city's (kept in the store's meta, shared by its instances), so a ticket works on every instance.
 * Each request (an HLS segment included) is checked: the HMAC; the token still a live session or a current static
 * token of a user who is not disabled (looked up in the store, the answer cached ≤ 5 s per ticket); the camera in
 * that user's current area scope. Camera records go out unchanged. A refusal is a 403, audited `stream-refused`
 * with its reason at most once a minute per camera and reason. Open streams are checked again every second
 * (camera-streams.ts, webrtc-streams.ts): one whose ticket stopped opening it is closed. URLs of a city's own
 * video platform (absolute ones) are left as they are: that platform checks its viewers itself.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { APP_OF_ROLE, inAreaScope, type GridReader } from '../../domain';
import { STREAM_TICKET_PARAM, withStreamTicket, type Camera } from '../../protocol';
import type { RunningStore } from '../store/open';
import type { AuditEntry, BackendStore, UserRecord } from '../store/types';

/** The key's name in the store's meta (named when tickets were per-camera grants; the same key serves both). */
const META_KEY = 'streamGrantKey';
const TICKET_PATTERN = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{22})$/;
/** How long a ticket's answer (whose token, which user, live or not) is reused before the store is asked again. */
export const TICKET_CACHE_MS = 5000;
const MAX_CACHED = 10_000;

export type StreamRefusal = 'bad-ticket' | 'session-ended' | 'out-of-scope' | 'disabled' | 'wrong-app';

/** Whether a ticket opens a camera now: the user it stands for, or why not (and whose it was, when known). */
export type StreamVerdict = { ok: true; userId: string } | { ok: false; reason: StreamRefusal; userId: string | null };

/** A ticket's holder as the store answered: the user, or why none (and whose the token was, when known). */
type Holder = { user: UserRecord } | { reason: 'bad-ticket' | 'session-ended' | 'disabled'; userId: string | null };

export interface ViewerTicketsOptions {
  store: Pick<BackendStore, 'findUserByTokenHash' | 'findSession'>;
  /** Where cameras lie (their grids' streets and communities): the city's state. */
  grids: GridReader;
  cameraById(id: string): Camera | undefined;
  cacheMs?: number;
  now?: () => number;
}

export class ViewerTickets {
  private readonly cache = new Map<string, { at: number; holder: Promise<Holder> }>();
  private readonly lastAudit = new Map<string, number>();
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(
    private readonly key: Buffer,
    private readonly o: ViewerTicketsOptions,
  ) {
    this.cacheMs = o.cacheMs ?? TICKET_CACHE_MS;
    this.now = o.now ?? Date.now;
  }

  /** The city's key: made once, by whichever instance comes first. */
  static async load(store: RunningStore, o: Omit<ViewerTicketsOptions, 'store'>): Promise<ViewerTickets> {
    const key = await store.exclusively(async () => {
      const stored = await store.getMeta(META_KEY);
      if (stored) return stored;
      const made = randomBytes(32).toString('base64url');
      await store.setMeta(META_KEY, made);
      return made;
    });
    return new ViewerTickets(Buffer.from(key, 'base64url'), { store, ...o });
  }

  private mac(tokenHash: string): string {
    return createHmac('sha256', this.key).update(`viewer:${tokenHash}`).digest('base64url').slice(0, 22);
  }

  /** The ticket of a connection signed in with the token of this hash (sha256 hex, backend/users.ts hashToken). */
  of(tokenHash: string): string {
    return `${Buffer.from(tokenHash, 'hex').toString('base64url')}.${this.mac(tokenHash)}`;
  }

  /** The token hash a ticket stands for, when its HMAC is this city's; null for anything else. */
  tokenHashOf(ticket: string | null): string | null {
    const parts = ticket === null ? null : TICKET_PATTERN.exec(ticket);
    if (!parts) return null;
    const tokenHash = Buffer.from(parts[1]!, 'base64url').toString('hex');
    const expected = Buffer.from(this.mac(tokenHash));
    const given = Buffer.from(parts[2]!);
    return given.length === expected.length && timingSafeEqual(given, expected) ? tokenHash : null;
  }

  /** Whether `ticket` opens `cameraId` now (the holder's answer cached per ticket; the scope read fresh). */
  async allows(cameraId: string, ticket: string | null): Promise<StreamVerdict> {
    const holder = await this.holder(ticket);
    if (!('user' in holder)) return { ok: false, reason: holder.reason, userId: holder.userId };
    const { user } = holder;
    // Only console accounts watch the city's cameras: a user made a 网格员 or 部门联络员 since keeps no stream.
    if (APP_OF_ROLE[user.role] !== 'console') return { ok: false, reason: 'wrong-app', userId: user.id };
    const camera = this.o.cameraById(cameraId);
    // An unknown camera is left to the route (404 / its close code) for whoever may see the whole city.
    const inScope = camera ? inAreaScope(user.districtScope, { districtId: camera.districtId, gridId: camera.gridId }, this.o.grids) : user.districtScope === null;
    return inScope ? { ok: true, userId: user.id } : { ok: false, reason: 'out-of-scope', userId: user.id };
  }

  private holder(ticket: string | null): Promise<Holder> {
    const tokenHash = this.tokenHashOf(ticket);
    if (tokenHash === null) return Promise.resolve({ reason: 'bad-ticket', userId: null });
    const now = this.now();
    const cached = this.cache.get(ticket!);
    if (cached && now - cached.at < this.cacheMs) return cached.holder;
    const holder = this.lookUp(tokenHash);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(ticket!, { at: now, holder });
    // A failed lookup is not remembered (the next request asks again).
    holder.catch(() => this.cache.delete(ticket!));
    return holder;
  }

  private async lookUp(tokenHash: string): Promise<Holder> {
    const user = await this.o.store.findUserByTokenHash(tokenHash, new Date(this.now()).toISOString());
    if (user) return { user };
    const session = await this.o.store.findSession(tokenHash);
    if (!session) return { reason: 'session-ended', userId: null }; // a static token no longer current (rotated, or its user disabled)
    return { reason: session.endedWhy === 'disabled' ? 'disabled' : 'session-ended', userId: session.userId };
  }

  /** A session ended here (sign-out, expiry, disable): its tickets' answers are asked for again at once. */
  forget(tokenHash: string): void {
    if (/^[0-9a-f]{64}$/.test(tokenHash)) this.cache.delete(this.of(tokenHash));
  }

  /** Whether a refusal is to be audited now (not more than once a minute per camera and reason). */
  auditNow(cameraId: string, reason: StreamRefusal, nowMs = this.now()): boolean {
    const key = `${cameraId}|${reason}`;
    const last = this.lastAudit.get(key) ?? 0;
    if (nowMs - last < 60_000) return false;
    if (this.lastAudit.size >= 10_000) this.lastAudit.clear();
    this.lastAudit.set(key, nowMs);
    return true;
  }

  /** The gate of the stream routes: the ticket checked; a refusal audited (at most once a minute per camera and reason). */
  gate(audit: (entries: AuditEntry[]) => Promise<void>): StreamGate {
    return {
      allows: (cameraId, ticket) => this.allows(cameraId, ticket),
      refused: (cameraId, how, verdict) => {
        if (!this.auditNow(cameraId, verdict.reason)) return;
        const entry: AuditEntry = { at: new Date(this.now()).toISOString(), userId: verdict.userId, kind: 'stream-refused', detail: { cameraId: cameraId.slice(0, 64), how, reason: verdict.reason } };
        void audit([entry]).catch(() => undefined);
      },
    };
  }
}

/** Who may open a camera's stream: the viewer's ticket checked before it opens, and again while it is open. */
export interface StreamGate {
  allows(cameraId: string, ticket: string | null): Promise<StreamVerdict>;
  /** A refusal (of a request, or of an open stream now closed): audited. `how`: which route. */
  refused(cameraId: string, how: 'mpegts' | 'hls' | 'whep' | 'recording', verdict: StreamVerdict & { ok: false }): void;
}

/** The ticket in a request target's query, if any (never throws on what a client sends). */
export function ticketIn(target: string | undefined): string | null {
  const query = (target ?? '').split('?')[1];
  if (!query) return null;
  const value = new URLSearchParams(query.slice(0, 512)).get(STREAM_TICKET_PARAM);
  return value && value.length <= 128 && /^[A-Za-z0-9_.-]+$/.test(value) ? value : null;
}

/** An HLS playlist as this viewer is sent it: each segment's URI carries the ticket too (players fetch them bare). */
export function ticketPlaylist(playlist: string, ticket: string): string {
  return playlist
    .split('\n')
    .map((line) => (line.trim() === '' || line.startsWith('#') ? line : withStreamTicket(line.trimEnd(), ticket)))
    .join('\n');
}
