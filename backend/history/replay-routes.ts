/**
 * What a replaying console (the hub's replay session, hub/replay/) reads as it moves through the past, beside
 * routes.ts and in its manner (a console token, 401 without; every request, refused ones too, audited as
 * 'history-read' before it is answered; rate-limited per user; refusals as HistoryRefusal JSON in Chinese and
 * English; never cached):
 *
 * - GET /history/changes?fromSeq=S&at=T: every record touched between batch S and the state at T (a seek back or
 *   forward alike), valued as at T — a removal where the record did not exist then or lies outside the reader's
 *   scope. A span over CHANGES_MAX_BATCHES batches, or S outside the kept log, answers the whole state at T
 *   instead (`reset: true`), which the console swaps in;
 * - GET /history/batches?after=B&until=T[&limit=N]: the batches after seq B committed up to T (the city's time
 *   now at most), scoped as the live sync's deltas, for playing forward.
 *
 * Refused: a bad query (400 bad-query), T after now (400 future), T before the first checkpoint (410
 * before-history) or older than the retention (410 beyond-retention), B before the kept log (410
 * beyond-retention: the console seeks instead), no history yet (404 no-data), too many reads (429 too-many).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BATCHES_LIMIT_MAX,
  CHANGES_MAX_BATCHES,
  COLLECTIONS,
  HistoryBatchesQuery,
  HistoryChangesQuery,
  describeIssues,
  validate,
  type Change,
  type CollectionName,
  type HistoryBatches,
  type HistoryChanges,
} from '../../protocol';
import type { BackendStore } from '../store/types';
import type { SimClock } from '../clock';
import { send } from '../http-answers';
import { parseRequestTarget } from '../../web-serving/request-target';
import { AreaScopes } from '../wire/scopes';
import type { RebuiltState } from './state-at';
import type { HistoryService } from './service';
import { futureRefusal, historyRead, notGet, stateAtOrRefuse, type ReadLimits } from './read-route';

const CHANGES_PATH = '/history/changes';
const BATCHES_PATH = '/history/batches';
/** Reads a user may make: 10 a second, bursts of 40 (a console seeks while it plays, and prefetches batches). */
const READS_PER_SECOND = 10;
const READS_BURST = 40;
/** Batches read from the log a round while the keys of a span are gathered. */
const PAGE = 2000;
const BATCHES_LIMIT_DEFAULT = 1000;
/** Later than any batch: the log's batches by seq alone. */
const FAR = '9999-12-31T23:59:59.999Z';

const TIME_HELP = '时间为 ISO 8601（含时区）或毫秒数 / times are ISO 8601 with an offset, or epoch ms';

export function replayRoutes(o: { store: BackendStore; clock: SimClock; history: HistoryService; limits: ReadLimits }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = parseRequestTarget(req.url);
    const what = url?.pathname === CHANGES_PATH ? 'changes' : url?.pathname === BATCHES_PATH ? 'batches' : null;
    if (!url || !what) return false;
    if (notGet(req, res)) return true;
    historyRead(o.store, req, res, { what, route: 'replay', url, limits: o.limits, perSecond: READS_PER_SECOND, burst: READS_BURST, tooMany: '回放查询过于频繁，请稍后再试 / too many replay reads: try again in a moment', failed: '回放记录读取或审计失败 / the history could not be read or the read not audited' }, async ({ user, audit, refuse }) => {
      const params = Object.fromEntries(url.searchParams);
      const nowMs = o.clock.nowMs();
      const scope = user.districtScope;
      if (what === 'changes') {
        const checked = validate(HistoryChangesQuery, params);
        if (!checked.ok) return refuse(400, { code: 'bad-query', message: `查询参数有误：需要 fromSeq（批次序号）与 at（${TIME_HELP}）(${describeIssues(checked.issues).slice(0, 300)})` });
        const { fromSeq, at } = checked.value;
        if (at > nowMs) return refuse(400, futureRefusal(at, nowMs));
        const rebuilt = await stateAtOrRefuse(o.history, at, nowMs, refuse);
        if (!rebuilt) return;
        const answer = await changesTo(o.store, rebuilt, fromSeq, scope);
        await audit({ at: rebuilt.at, fromSeq, seq: answer.seq, changes: answer.changes.length, ...(answer.reset ? { reset: true } : {}) });
        return send(res, 200, answer);
      }
      const checked = validate(HistoryBatchesQuery, params);
      if (!checked.ok) return refuse(400, { code: 'bad-query', message: `查询参数有误：需要 after（批次序号）与 until（${TIME_HELP}），limit 可选（1–${BATCHES_LIMIT_MAX}）(${describeIssues(checked.issues).slice(0, 300)})` });
      const { after } = checked.value;
      const until = Math.min(checked.value.until, nowMs);
      const limit = checked.value.limit ?? BATCHES_LIMIT_DEFAULT;
      // The batch after `after` must still be kept: otherwise the console would miss what was pruned (it seeks instead).
      if ((await o.store.changesSince(after, 1)) === null) {
        return refuse(410, { code: 'beyond-retention', message: `回放位置（批次 ${after}）早于保留的记录，请重新定位 / batch ${after} is older than the kept log: seek instead` });
      }
      const untilIso = new Date(until).toISOString();
      const page = await o.store.changesBetween(after, untilIso, limit + 1);
      const more = page.length > limit;
      let batches = page.slice(0, limit);
      if (scope !== null && batches.length > 0) {
        // Scoped as the live sync scopes deltas: over the state at the last batch's time (where each record lay).
        const rebuilt = await stateAtOrRefuse(o.history, Date.parse(batches.at(-1)!.at), nowMs, refuse);
        if (!rebuilt) return;
        const scopes = new AreaScopes(rebuilt.state);
        batches = batches.map((b) => ({ ...b, changes: b.changes.map((c) => scoped(scopes, scope, c, c.op === 'upsert' ? c.data : undefined)) }));
      }
      const answer: HistoryBatches = { until: untilIso, batches, more };
      await audit({ after, until: untilIso, batches: batches.length, more });
      send(res, 200, answer);
    });
    return true;
  };
}

/** A change as a scoped reader gets it: `record` (the value then, undefined: none) upserted when visible, else removed. */
function scoped(scopes: AreaScopes, scope: readonly string[] | null, change: Pick<Change, 'collection' | 'id'>, record: unknown): Change {
  const { collection, id } = change;
  if (record === undefined || !scopes.visible(scope, collection, record)) return { op: 'remove', collection, id };
  return { op: 'upsert', collection, id, data: scopes.outgoing(scope, collection, record) } as Change;
}

/**
 * What turns the state after batch `fromSeq` into `rebuilt`: the keys the batches between the two touched (either
 * way), valued in `rebuilt`; the whole of it when the span is too long or leaves the kept log.
 */
async function changesTo(store: BackendStore, rebuilt: RebuiltState, fromSeq: number, scope: readonly string[] | null): Promise<HistoryChanges> {
  const { state } = rebuilt;
  const scopes = new AreaScopes(state);
  const lo = Math.min(fromSeq, state.seq);
  const hi = Math.max(fromSeq, state.seq);
  const keys = new Map<string, [CollectionName, string]>();
  let reset = false;
  let after = lo;
  let read = 0;
  let reached = lo;
  while (after < hi) {
    const page = await store.changesBetween(after, FAR, PAGE);
    // The log must run on from `lo` without a gap (pruned, or a seq the backend never had: the whole state).
    if (read === 0 && page[0]?.seq !== lo + 1) {
      reset = true;
      break;
    }
    for (const batch of page) {
      if (batch.seq > hi) break;
      for (const c of batch.changes) keys.set(`${c.collection}\u0000${c.id}`, [c.collection, c.id]);
      read++;
      reached = batch.seq;
    }
    if (read > CHANGES_MAX_BATCHES) {
      reset = true;
      break;
    }
    if (page.length < PAGE) break;
    after = page.at(-1)!.seq;
  }
  // A fromSeq past the end of the log is none the backend had: the whole state.
  if (reached < hi) reset = true;
  const changes: Change[] = [];
  if (reset) {
    for (const c of COLLECTIONS) for (const [id, record] of state.collections[c] as Map<string, unknown>) if (scopes.visible(scope, c, record)) changes.push(scoped(scopes, scope, { collection: c, id }, record));
    return { seq: state.seq, at: rebuilt.at, reset: true, changes };
  }
  for (const [collection, id] of keys.values()) changes.push(scoped(scopes, scope, { collection, id }, (state.collections[collection] as Map<string, unknown>).get(id)));
  return { seq: state.seq, at: rebuilt.at, changes };
}
