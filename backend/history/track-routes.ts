/**
 * Staff tracks for replay over HTTP (protocol/history.ts), beside routes.ts and in its manner (a console token,
 * 401 without; every request, refused ones too, audited as 'history-read' before it is answered; rate-limited per
 * user; refusals as HistoryRefusal JSON in Chinese and English; never cached):
 *
 * - GET /history/positions?at=T: where the staff were at T, each [id, lon, lat, statusCode], placed along their
 *   track; those with no point in the 2 minutes before T, or offline, left out;
 * - GET /history/tracks?from=A&to=B[&staff=a,b]: each staff member's points over [A, B] (at most 24 hours).
 *
 * Staff outside the reader's area scope are left out (by their grid, as the live sync does). Refused: a bad query
 * (400 bad-query), a time after now (400 future), a range over 24 h (400 range-too-long), older than the retention
 * (410 beyond-retention), no track recorded at all in those hours (404 no-data), too many reads (429 too-many).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HistoryPositionsQuery, HistoryTracksQuery, TRACKS_MAX_RANGE_MS, describeIssues, validate, type HistoryPositions, type HistoryTracks } from '../../protocol';
import type { CityState } from '../../domain';
import type { BackendStore } from '../store/types';
import type { SimClock } from '../clock';
import { send } from '../http-answers';
import { parseRequestTarget } from '../../web-serving/request-target';
import { AreaScopes } from '../wire/scopes';
import { beijingStamp } from '../beijing-time';
import { historyRead, notGet, type ReadLimits } from './read-route';
import { DAY_MS } from './retention';
import { hourOf, type TrackPoint } from './track-codec';
import { TRACK_STALE_MS, positionAt } from './track-line';
import type { TrackRecorder } from './tracks';

const POSITIONS_PATH = '/history/positions';
const TRACKS_PATH = '/history/tracks';
/** Reads a user may make: 5 a second, bursts of 20 (a replay seeks, then plays from tracks it holds). */
const READS_PER_SECOND = 5;
const READS_BURST = 20;

const TIME_HELP = '时间为 ISO 8601（含时区）或毫秒数 / times are ISO 8601 with an offset, or epoch ms';

export function trackRoutes(o: { store: BackendStore; state: CityState; clock: SimClock; tracks: TrackRecorder; keepDays: () => number; limits: ReadLimits }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = parseRequestTarget(req.url);
    const what = url?.pathname === POSITIONS_PATH ? 'positions' : url?.pathname === TRACKS_PATH ? 'tracks' : null;
    if (!url || !what) return false;
    if (notGet(req, res)) return true;
    historyRead(o.store, req, res, { what, route: 'tracks', url, limits: o.limits, perSecond: READS_PER_SECOND, burst: READS_BURST, tooMany: '轨迹查询过于频繁，请稍后再试 / too many track reads: try again in a moment', failed: '轨迹记录读取或审计失败 / the tracks could not be read or the read not audited' }, async ({ user, audit, refuse }) => {
      const nowMs = o.clock.nowMs();
      const keepDays = o.keepDays();
      const params = Object.fromEntries(url.searchParams);
      let from: number;
      let to: number;
      let staffIds: string[] | undefined;
      if (what === 'positions') {
        const checked = validate(HistoryPositionsQuery, params);
        if (!checked.ok) return refuse(400, { code: 'bad-query', message: `查询参数有误：需要 at（${TIME_HELP}）(${describeIssues(checked.issues).slice(0, 300)})` });
        from = to = checked.value.at;
      } else {
        const checked = validate(HistoryTracksQuery, params);
        if (!checked.ok) return refuse(400, { code: 'bad-query', message: `查询参数有误：需要 from 与 to（to 晚于 from；${TIME_HELP}），staff 可列出人员编号（逗号分隔，至多 500 个）(${describeIssues(checked.issues).slice(0, 300)})` });
        ({ from, to } = checked.value);
        staffIds = checked.value.staff;
        if (to - from > TRACKS_MAX_RANGE_MS) return refuse(400, { code: 'range-too-long', message: `时间范围过长（${((to - from) / 3_600_000).toFixed(1)} 小时）：轨迹一次最多查询 24 小时 / the range is longer than the 24 hours answered at once` });
      }
      if (from > nowMs) return refuse(400, { code: 'future', message: `所选时间（${beijingStamp(from)}）晚于当前时间（${beijingStamp(nowMs)}）/ the time asked is after the city's time now` });
      if (to < nowMs - keepDays * DAY_MS) return refuse(410, { code: 'beyond-retention', message: `超出保留期（保留 ${keepDays} 天），轨迹最早可查到 ${beijingStamp(nowMs - keepDays * DAY_MS)} / beyond the retention (${keepDays} days)` });
      // The points around the range too: the one before it (within the 2 minutes that say where someone is) and after.
      const read = await o.tracks.read(hourOf(from - TRACK_STALE_MS), hourOf(Math.min(to + TRACK_STALE_MS, nowMs)), staffIds);
      if (read.rows === 0) return refuse(404, { code: 'no-data', message: `该时段没有轨迹记录（${beijingStamp(from)}${to > from ? ` 至 ${beijingStamp(to)}` : ''}）/ no staff track was recorded then` });
      const scope = user.districtScope;
      const scopes = new AreaScopes(o.state);
      const visible = (staffId: string): boolean => {
        if (scope === null) return true;
        const staff = o.state.get('staff', staffId);
        return staff !== undefined && scopes.visible(scope, 'staff', staff);
      };
      if (what === 'positions') {
        const items: HistoryPositions['items'] = [];
        for (const [staffId, points] of read.tracks) {
          if (!visible(staffId)) continue;
          const p = positionAt(points, from);
          if (p) items.push([staffId, Math.round(p.lon * 1e6) / 1e6, Math.round(p.lat * 1e6) / 1e6, p.code]);
        }
        await audit({ at: new Date(from).toISOString(), staff: items.length, damaged: read.damaged });
        return send(res, 200, { at: new Date(from).toISOString(), items } satisfies HistoryPositions);
      }
      const tracks: HistoryTracks['tracks'] = [];
      let points = 0;
      for (const [staffId, all] of read.tracks) {
        if (!visible(staffId)) continue;
        const within = clip(all, from, to);
        if (within.length === 0) continue;
        tracks.push({ staffId, points: within.map((p) => [p.t, p.lon, p.lat, p.code]) });
        points += within.length;
      }
      await audit({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), staff: tracks.length, points, damaged: read.damaged });
      send(res, 200, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), tracks } satisfies HistoryTracks);
    });
    return true;
  };
}

/** The points in [from, to], with the last one before `from` (when recent enough to say where they were) and the first after `to`. */
function clip(points: readonly TrackPoint[], from: number, to: number): TrackPoint[] {
  const first = points.findIndex((p) => p.t >= from);
  if (first < 0) {
    const last = points.at(-1);
    return last && from - last.t <= TRACK_STALE_MS ? [last] : [];
  }
  let end = first;
  while (end < points.length && points[end]!.t <= to) end++;
  const start = first > 0 && from - points[first - 1]!.t <= TRACK_STALE_MS ? first - 1 : first;
  return points.slice(start, Math.min(points.length, end + 1));
}
