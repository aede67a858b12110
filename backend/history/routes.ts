/**
 * The history kept for replay, over HTTP (protocol/history.ts), for the console's users (the console gate refuses
 * field and liaison accounts before this):
 *
 * - GET /history/range: what can be replayed (the oldest checkpoint, the city's time now, the retention);
 * - GET /history/state?at=T[&collections=a,b]: the records as they stood at city time T (ISO with an offset, or
 *   epoch ms), filtered by the reader's area scope as the live sync is (scoped collections by where each record
 *   lay at T, KPI rows computed for the scope at their own computedAt, over the state at T).
 *
 * A bearer token (401 without). Refusals are HistoryRefusal JSON: bad-query 400, future 400, before-history 410,
 * beyond-retention 410, no-data 404, too many reads 429. Every request, refused ones too, is audited as a
 * 'history-read' before it is answered; never cached.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { COLLECTIONS, HistoryStateQuery, describeIssues, validate, type CollectionName, type HistoryRange, type HistoryState } from '../../protocol';
import type { BackendStore } from '../store/types';
import type { SimClock } from '../clock';
import { send } from '../http-answers';
import { parseRequestTarget } from '../../web-serving/request-target';
import { AreaScopes } from '../wire/scopes';
import { futureRefusal, historyRead, notGet, stateAtOrRefuse, type ReadLimits } from './read-route';
import type { HistoryService } from './service';

const RANGE_PATH = '/history/range';
const STATE_PATH = '/history/state';
/** Reads of past states a user may make: 2 a second, bursts of 10 (a rebuild from a cold day takes a while). */
const READS_PER_SECOND = 2;
const READS_BURST = 10;

export function historyRoutes(o: { store: BackendStore; clock: SimClock; history: HistoryService; limits: ReadLimits }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = parseRequestTarget(req.url);
    const what = url?.pathname === RANGE_PATH ? 'range' : url?.pathname === STATE_PATH ? 'state' : null;
    if (!url || !what) return false;
    if (notGet(req, res)) return true;
    historyRead(o.store, req, res, { what, route: 'history', url, limits: o.limits, perSecond: READS_PER_SECOND, burst: READS_BURST, tooMany: '回放查询过于频繁，请稍后再试 / too many replay reads: try again in a moment', failed: '回放记录读取或审计失败 / the history could not be read or the read not audited' }, async ({ user, audit, refuse }) => {
      const { history, clock } = o;
      const nowMs = clock.nowMs();
      if (what === 'range') {
        const range: HistoryRange = { earliest: await history.earliest(), latest: new Date(nowMs).toISOString(), retentionDays: history.keepDays, checkpoints: (await o.store.checkpointRange())?.count ?? 0 };
        await audit({});
        return send(res, 200, range);
      }
      const checked = validate(HistoryStateQuery, Object.fromEntries(url.searchParams));
      if (!checked.ok) return refuse(400, { code: 'bad-query', message: `查询参数有误：at 为时间（ISO 8601 含时区，或毫秒数），collections 可列出要读的数据集（逗号分隔）/ bad query: at is a time (ISO 8601 with an offset, or epoch ms), collections optionally a comma-separated list (${describeIssues(checked.issues).slice(0, 300)})` });
      const { at: atMs, collections } = checked.value;
      if (atMs > nowMs) return refuse(400, futureRefusal(atMs, nowMs));
      const rebuilt = await stateAtOrRefuse(history, atMs, nowMs, refuse);
      if (!rebuilt) return;
      const scope = user.districtScope;
      const scopes = new AreaScopes(rebuilt.state);
      const out: HistoryState['collections'] = {};
      let rows = 0;
      const names: readonly CollectionName[] = collections ?? COLLECTIONS;
      for (const c of names) {
        const records: unknown[] = [];
        for (const record of rebuilt.state.collections[c].values()) if (scopes.visible(scope, c, record)) records.push(scopes.outgoing(scope, c, record));
        out[c] = records;
        rows += records.length;
      }
      const answer: HistoryState = { at: rebuilt.at, seq: rebuilt.state.seq, checkpoint: rebuilt.checkpoint, collections: out };
      // Audited before it is sent: a read that cannot be audited is not answered.
      await audit({ at: rebuilt.at, seq: rebuilt.state.seq, rows });
      send(res, 200, answer);
    });
    return true;
  };
}
