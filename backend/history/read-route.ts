/**
 * What the history reads over HTTP share (routes.ts, replay-routes.ts, track-routes.ts, calls-route.ts): a bearer token (401
 * without), a per-user rate (429; one bucket map per backend, each route at its own rate), and the audit of every
 * request, refused ones too, as a 'history-read' before it is answered (a read that cannot be audited is not
 * answered: 500). Refusals are HistoryRefusal JSON. Also the refusals of a time no state can be rebuilt at.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HistoryRefusal } from '../../protocol';
import type { BackendStore, UserRecord } from '../store/types';
import { bearerUser, send } from '../http-answers';
import { TokenBucket } from '../rate-limit';
import { beijingStamp } from '../beijing-time';
import { HistoryUnavailable, type RebuiltState } from './state-at';
import type { HistoryService } from './service';
import { DAY_MS } from './retention';

/** The read rates of one backend's users, by route: one map for every history route. */
export class ReadLimits {
  private readonly buckets = new Map<string, TokenBucket>();

  /** Whether `userId` may read `route` now, at `perSecond` with bursts of `burst`. */
  take(route: string, userId: string, perSecond: number, burst: number): boolean {
    const key = `${route}\u0000${userId}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size > 10_000) this.buckets.clear();
      this.buckets.set(key, (bucket = new TokenBucket(perSecond, burst)));
    }
    return bucket.take();
  }
}

export interface HistoryRead {
  user: UserRecord;
  /** Audits the answered read (with what it says), before it is sent. */
  audit(detail: Record<string, unknown>): Promise<void>;
  /** Audits the refusal, then sends it. */
  refuse(status: number, refusal: HistoryRefusal): Promise<void>;
}

export interface ReadSpec {
  /** The audit's `what`. */
  what: string;
  /** Whose rate it counts against (a route's reads share one). */
  route: string;
  url: { searchParams: URLSearchParams };
  limits: ReadLimits;
  perSecond: number;
  burst: number;
  /** The 429's message and the 500's, in Chinese and English. */
  tooMany: string;
  failed: string;
  /** How many query parameters the audit keeps (default 4). */
  keepParams?: number;
}

/** Runs `work` for a signed-in user within their rate, every outcome audited; a failure answered 500. */
export function historyRead(store: BackendStore, req: IncomingMessage, res: ServerResponse, spec: ReadSpec, work: (read: HistoryRead) => Promise<void>): void {
  const asked = Object.fromEntries([...spec.url.searchParams].slice(0, spec.keepParams ?? 4).map(([k, v]) => [k.slice(0, 20), v.slice(0, 100)]));
  let user: UserRecord | null = null;
  const audit = (detail: Record<string, unknown>): Promise<void> =>
    store.audit([{ at: new Date().toISOString(), userId: user?.id ?? null, kind: 'history-read', detail: { what: spec.what, query: asked, ...detail } }]);
  const refuse = async (status: number, refusal: HistoryRefusal): Promise<void> => {
    await audit({ refused: status, code: refusal.code });
    send(res, status, refusal);
  };
  void (async () => {
    user = await bearerUser(store, req);
    if (!user) return refuse(401, { code: 'unauthorized', message: '需要有效的令牌 / a valid bearer token is required' });
    if (!spec.limits.take(spec.route, user.id, spec.perSecond, spec.burst)) return refuse(429, { code: 'too-many', message: spec.tooMany });
    await work({ user, audit, refuse });
  })().catch(() => {
    if (!res.headersSent) send(res, 500, { code: 'failed', message: spec.failed });
  });
}

/** A GET-only route: anything else is answered 405 here (true: answered). */
export function notGet(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET') return false;
  res.writeHead(405, { Allow: 'GET' }).end();
  return true;
}

/** The refusal of a time after the city's time now (400 future). */
export const futureRefusal = (at: number, nowMs: number): HistoryRefusal => ({ code: 'future', message: `所选时间（${beijingStamp(at)}）晚于当前时间（${beijingStamp(nowMs)}）/ the time asked is after the city's time now` });

/**
 * The state at `at`, or null once the refusal is sent: no history kept yet (404 no-data), older than the retention
 * (410 beyond-retention) or before the first checkpoint (410 before-history).
 */
export async function stateAtOrRefuse(history: HistoryService, at: number, nowMs: number, refuse: HistoryRead['refuse']): Promise<RebuiltState | null> {
  try {
    return await history.reader.stateAt(at);
  } catch (e) {
    if (!(e instanceof HistoryUnavailable)) throw e;
    if (e.code === 'no-data') await refuse(404, { code: 'no-data', message: '该时段没有记录：尚未保存任何回放记录 / no history is kept yet' });
    else if (at < nowMs - history.keepDays * DAY_MS) await refuse(410, { code: 'beyond-retention', message: `超出保留期（保留 ${history.keepDays} 天），最早可回放到 ${beijingStamp(Date.parse(e.earliest!))} / beyond the retention (${history.keepDays} days)` });
    else await refuse(410, { code: 'before-history', message: `早于最早的回放记录（${beijingStamp(Date.parse(e.earliest!))}）/ before the earliest replayable time (${e.earliest})` });
    return null;
  }
}
