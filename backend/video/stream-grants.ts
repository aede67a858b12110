/**
 * Camera streams tied to the area scope (分级授权). The backend's own stream routes (`/video/<id>` MPEG-TS over
 * WebSocket, HLS, WHEP) take no bearer token — players cannot send headers — so a stream is opened with a grant
 * in its URL: `?grant=` an HMAC of the camera's id under a key of the city (kept in the store, shared by its
 * instances). The grant travels only inside the camera's record, and a record only goes to consoles whose scope
 * holds the camera (backend/wire/scopes.ts): a user never sent a camera cannot open its stream by id. A stream
 * asked for without a valid grant is refused (403) and audited, at most once a minute per camera. URLs of a
 * city's own video platform (absolute ones) are left as they are: that platform checks its viewers itself.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { VIDEO_PATH_PREFIX, type Camera } from '../../protocol';
import type { RunningStore } from '../store/open';
import type { AuditEntry } from '../store/types';
import type { StreamGate } from './camera-streams';

export const GRANT_PARAM = 'grant';
const META_KEY = 'streamGrantKey';

export class StreamGrants {
  private readonly lastAudit = new Map<string, number>();

  constructor(private readonly key: Buffer) {}

  /** The city's key: made once, by whichever instance comes first. */
  static async load(store: RunningStore): Promise<StreamGrants> {
    const key = await store.exclusively(async () => {
      const stored = await store.getMeta(META_KEY);
      if (stored) return stored;
      const made = randomBytes(32).toString('base64url');
      await store.setMeta(META_KEY, made);
      return made;
    });
    return new StreamGrants(Buffer.from(key, 'base64url'));
  }

  /** The grant of one camera's streams (22 url-safe characters). */
  of(cameraId: string): string {
    return createHmac('sha256', this.key).update(`camera:${cameraId}`).digest('base64url').slice(0, 22);
  }

  allows(cameraId: string, grant: string | null): boolean {
    if (grant === null || grant.length !== 22) return false;
    const expected = Buffer.from(this.of(cameraId));
    const given = Buffer.from(grant);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Whether a refusal about this camera is to be audited now (not more than once a minute per camera). */
  auditNow(cameraId: string, nowMs = Date.now()): boolean {
    const last = this.lastAudit.get(cameraId) ?? 0;
    if (nowMs - last < 60_000) return false;
    if (this.lastAudit.size >= 10_000) this.lastAudit.clear();
    this.lastAudit.set(cameraId, nowMs);
    return true;
  }

  /** The gate of the stream routes: the grant checked; a refusal audited (at most once a minute per camera). */
  gate(audit: (entries: AuditEntry[]) => Promise<void>): StreamGate {
    return {
      allows: (cameraId, grant) => this.allows(cameraId, grant),
      refused: (cameraId, how) => {
        if (this.auditNow(cameraId)) void audit([{ at: new Date().toISOString(), userId: null, kind: 'stream-refused', detail: { cameraId: cameraId.slice(0, 64), how } }]).catch(() => undefined);
      },
    };
  }

  /** The camera as a console is sent it: its backend-relative stream URLs carry their grant. */
  grantCamera(camera: Camera): Camera {
    if (!camera.streams.some((s) => s.url.startsWith(VIDEO_PATH_PREFIX))) return camera;
    const grant = this.of(camera.id);
    return { ...camera, streams: camera.streams.map((s) => (s.url.startsWith(VIDEO_PATH_PREFIX) ? { ...s, url: withGrant(s.url, grant) } : s)) };
  }
}

export function withGrant(url: string, grant: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${GRANT_PARAM}=${encodeURIComponent(grant)}`;
}

/** The grant in a request target's query, if any (never throws on what a client sends). */
export function grantIn(target: string | undefined): string | null {
  const query = (target ?? '').split('?')[1];
  if (!query) return null;
  const value = new URLSearchParams(query.slice(0, 512)).get(GRANT_PARAM);
  return value && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : null;
}

/** An HLS playlist as this viewer is sent it: each segment's URI carries the grant too (players fetch them bare). */
export function grantPlaylist(playlist: string, grant: string): string {
  return playlist
    .split('\n')
    .map((line) => (line.trim() === '' || line.startsWith('#') ? line : withGrant(line.trimEnd(), grant)))
    .join('\n');
}
