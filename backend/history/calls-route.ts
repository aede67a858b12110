/**
 * GET /calls?from&to[&eventId][&limit] (protocol/calls.ts): the calls consoles logged (call.log) begun in [from, to)
 * of city time, oldest first, for replay and the 复盘 report. Any console user (the console gate refuses field and
 * liaison accounts before this), filtered by their area scope: a call is where its event lies, else where the
 * staff member called works (domain inAreaScope over the city's grids); a call of neither place is seen city-wide
 * only, and a user always sees their own calls. The masked roles (viewer, inspector) read people's names masked.
 *
 * A bearer token (401 without). Refusals are HistoryRefusal JSON: bad-query 400, too many reads 429. Every request,
 * refused ones too, is audited as a 'history-read' (what: 'calls') before it is answered; never cached.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CALLS_LIMIT_DEFAULT, CallRecord, CallsQuery, describeIssues, validate, type CallsAnswer } from '../../protocol';
import { MASKED_ROLES, inAreaScope, maskCall, type CityState } from '../../domain';
import type { BackendStore, UserRecord } from '../store/types';
import { send } from '../http-answers';
import { parseRequestTarget } from '../../web-serving/request-target';
import { historyRead, notGet, type ReadLimits } from './read-route';

const CALLS_PATH = '/calls';
/** Reads a user may make: 5 a second, bursts of 20 (the report reads an incident's calls once; replay per seek). */
const READS_PER_SECOND = 5;
const READS_BURST = 20;
/** Rows read to fill one answer after the scope filter, at most this many times the limit. */
const OVERREAD = 4;

/** Whether `user` may see the call: their own, or it lies in their area (a call of no place: city-wide users only). */
export function callVisible(user: Pick<UserRecord, 'id' | 'districtScope'>, call: Pick<CallRecord, 'userId' | 'districtId' | 'gridId'>, state: CityState): boolean {
  if (user.districtScope === null || call.userId === user.id) return true;
  if (call.districtId === null) return false;
  return inAreaScope(user.districtScope, { districtId: call.districtId, ...(call.gridId ? { gridId: call.gridId } : {}) }, state);
}

export function callsRoutes(o: { store: BackendStore; state: CityState; limits: ReadLimits }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = parseRequestTarget(req.url);
    if (!url || url.pathname !== CALLS_PATH) return false;
    if (notGet(req, res)) return true;
    historyRead(o.store, req, res, { what: 'calls', route: 'calls', url, limits: o.limits, perSecond: READS_PER_SECOND, burst: READS_BURST, keepParams: 5, tooMany: '通话记录查询过于频繁，请稍后再试 / too many reads of the calls: try again in a moment', failed: '通话记录读取或审计失败 / the calls could not be read or the read not audited' }, async ({ user, audit, refuse }) => {
      const checked = validate(CallsQuery, Object.fromEntries(url.searchParams));
      if (!checked.ok) {
        return refuse(400, {
          code: 'bad-query',
          message: `查询参数有误：from、to 为时间（ISO 8601 含时区，或毫秒数，from 早于 to），可选 eventId（事件编号）与 limit（1–2000）/ bad query: from and to are times, from before to; eventId and limit optional (${describeIssues(checked.issues).slice(0, 300)})`,
        });
      }
      const { from, to, eventId } = checked.value;
      const limit = checked.value.limit ?? CALLS_LIMIT_DEFAULT;
      const rows = await o.store.callsIn({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), limit: limit * OVERREAD + 1, ...(eventId ? { eventId } : {}) });
      const calls: CallRecord[] = [];
      let truncated = rows.length > limit * OVERREAD;
      for (const row of rows.slice(0, limit * OVERREAD)) {
        // The store is a boundary: a row that no longer reads as a call is left out.
        const call = CallRecord.safeParse(row.data);
        if (!call.success || !callVisible(user, call.data, o.state)) continue;
        if (calls.length === limit) {
          truncated = true;
          break;
        }
        calls.push(MASKED_ROLES.has(user.role) ? maskCall(call.data) : call.data);
      }
      const answer: CallsAnswer = { calls, truncated };
      // Audited before it is sent: a read that cannot be audited is not answered.
      await audit({ rows: calls.length, ...(eventId ? { eventId } : {}) });
      send(res, 200, answer);
    });
    return true;
  };
}
