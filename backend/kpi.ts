/**
 * KPIs computed from the events, with the seed definitions (考核指标). Each ratio carries its numerator and
 * denominator so every number can explain itself on hover. Computed for the whole city (the `kpis` collection as
 * stored) or for an area scope (what a scoped session is sent instead, see backend/wire/scopes.ts): then only the
 * events, staff, cameras and grids in the scope count, and the district ranking lists the scope's districts.
 */
import type { GovEvent, KpiPeriod, KpiSnapshot, Ratio } from '../protocol';
import { cadresCalled, inAreaScope, type CityState } from '../domain';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Days and "today" are local days in China Standard Time (UTC+8). */
const LOCAL_OFFSET_MS = 8 * 60 * MINUTE;

export function ratio(numerator: number, denominator: number): Ratio {
  return { numerator, denominator, value: denominator === 0 ? null : Math.round((numerator / denominator) * 10_000) / 10_000 };
}

function localDayStart(ms: number): number {
  return Math.floor((ms + LOCAL_OFFSET_MS) / DAY) * DAY - LOCAL_OFFSET_MS;
}

function localDate(ms: number): string {
  return new Date(ms + LOCAL_OFFSET_MS).toISOString().slice(0, 10);
}

export function periodStart(period: KpiPeriod, now: Date): Date {
  const today = localDayStart(now.getTime());
  return new Date(period === 'today' ? today : today - (period === '7d' ? 6 : 29) * DAY);
}

const OPEN = new Set(['new', 'accepted', 'dispatched', 'handling', 'handled', 'followed-up']);

export function isOverdue(event: GovEvent, nowMs: number): boolean {
  return OPEN.has(event.status) && event.stepDeadline !== null && Date.parse(event.stepDeadline) < nowMs;
}

function dispatchLimitMinutes(state: CityState, event: GovEvent): number {
  const rule = state.get('rules', event.category);
  return rule ? rule.limits.report + rule.limits.dispatch : 180;
}

export function computeKpis(state: CityState, period: KpiPeriod, now: Date, scope: readonly string[] | null = null): KpiSnapshot {
  const nowMs = now.getTime();
  const inArea = (place: { districtId: string; gridId?: string }): boolean => inAreaScope(scope, place, state);
  let gridsInScope = 0;
  const scopeDistricts = new Set<string>();
  for (const grid of state.all('grids')) {
    if (!inArea({ districtId: grid.districtId, gridId: grid.id })) continue;
    gridsInScope++;
    scopeDistricts.add(grid.districtId);
  }
  const from = periodStart(period, now);
  const fromMs = from.getTime();

  let reported = 0;
  let closed = 0;
  let closedOnTime = 0;
  let dispatched = 0;
  let dispatchedInTime = 0;
  let evaluated = 0;
  let satisfied = 0;
  let hotline = 0;
  let overdue = 0;
  const reportingGrids = new Set<string>();
  const bySource: Record<string, number> = {};
  const byCategory: Record<string, number> = {};
  const districts = new Map<string, { reported: number; closed: number; overdue: number; evaluated: number; satisfied: number }>();
  for (const unit of state.all('adminUnits')) {
    if (unit.level === 'district' && (scope === null || scope.includes(unit.id) || scopeDistricts.has(unit.id))) districts.set(unit.id, { reported: 0, closed: 0, overdue: 0, evaluated: 0, satisfied: 0 });
  }
  // Trend buckets: hours for today, local days otherwise.
  const bucketMs = period === 'today' ? 60 * MINUTE : DAY;
  const buckets = Math.ceil((nowMs - fromMs) / bucketMs) || 1;
  const trend = Array.from({ length: buckets }, (_, i) => {
    const start = fromMs + i * bucketMs;
    return { date: period === 'today' ? `${new Date(start + LOCAL_OFFSET_MS).toISOString().slice(11, 13)}:00` : localDate(start), reported: 0, closed: 0 };
  });

  for (const event of state.all('events')) {
    if (!inArea(event)) continue;
    const district = districts.get(event.districtId);
    if (isOverdue(event, nowMs)) {
      overdue++;
      if (district) district.overdue++;
    }
    if (event.status === 'merged') continue;
    const reportedMs = Date.parse(event.reportedAt);
    if (event.closedAt) {
      const closedMs = Date.parse(event.closedAt);
      if (closedMs >= fromMs && closedMs <= nowMs) {
        const bucket = trend[Math.floor((closedMs - fromMs) / bucketMs)];
        if (bucket) bucket.closed++;
      }
    }
    if (reportedMs < fromMs || reportedMs > nowMs) continue;
    reported++;
    bySource[event.source] = (bySource[event.source] ?? 0) + 1;
    byCategory[event.category] = (byCategory[event.category] ?? 0) + 1;
    const bucket = trend[Math.floor((reportedMs - fromMs) / bucketMs)];
    if (bucket) bucket.reported++;
    if (event.source === 'grid-app') reportingGrids.add(event.gridId);
    if (event.source === 'hotline') hotline++;
    if (district) district.reported++;
    if (event.dispatchedAt) {
      dispatched++;
      if (Date.parse(event.dispatchedAt) - reportedMs <= dispatchLimitMinutes(state, event) * MINUTE) dispatchedInTime++;
    }
    if (event.status === 'closed' && event.closedAt) {
      closed++;
      if (district) district.closed++;
      if (Date.parse(event.closedAt) <= Date.parse(event.finalDeadline)) closedOnTime++;
    }
    if (event.evaluation) {
      evaluated++;
      if (district) district.evaluated++;
      // 满意 and 基本满意 both count as satisfied, as in the seed assessment rules.
      if (event.evaluation.satisfaction !== 'unsatisfied') {
        satisfied++;
        if (district) district.satisfied++;
      }
    }
  }

  // Grid staff on the roster count for 在线率; the 下沉干部 count apart, for 到岗率 while the level calls them.
  let staffOnline = 0;
  let staffTotal = 0;
  let cadresCalledCount = 0;
  let cadresArrived = 0;
  for (const staff of state.all('staff')) {
    if (!inArea(staff)) continue;
    if (staff.role === 'cadre') {
      cadresCalledCount++;
      if (staff.status !== 'offline') cadresArrived++;
      continue;
    }
    staffTotal++;
    if (staff.status !== 'offline') staffOnline++;
  }
  let camerasOnline = 0;
  let camerasTotal = 0;
  for (const camera of state.all('cameras')) {
    if (!inArea(camera)) continue;
    camerasTotal++;
    if (camera.online) camerasOnline++;
  }

  const byDistrict = [...districts.entries()].map(([districtId, d]) => {
    const closureRate = ratio(d.closed, d.reported);
    const satisfactionRate = ratio(d.satisfied, d.evaluated);
    const overdueShare = d.reported + d.overdue === 0 ? 0 : d.overdue / (d.reported + d.overdue);
    // Ranking score: closure 50 %, satisfaction 30 %, overdue 20 % (fewer is better).
    const score = Math.round(((closureRate.value ?? 0) * 50 + (satisfactionRate.value ?? 0) * 30 + (1 - overdueShare) * 20) * 10) / 10;
    return { districtId, reported: d.reported, closed: d.closed, overdue: d.overdue, closureRate, satisfactionRate, score };
  });

  return {
    id: period,
    computedAt: now.toISOString(),
    from: from.toISOString(),
    to: now.toISOString(),
    reportingCoverage: ratio(reportingGrids.size, gridsInScope),
    dispatchInTimeRate: ratio(dispatchedInTime, dispatched),
    closureRate: ratio(closed, reported),
    onTimeClosureRate: ratio(closedOnTime, closed),
    satisfactionRate: ratio(satisfied, evaluated),
    overdueCount: overdue,
    staffOnlineRate: ratio(staffOnline, staffTotal),
    cadreArrivalRate: cadresCalled(state) ? ratio(cadresArrived, cadresCalledCount) : null,
    cameraOnlineRate: ratio(camerasOnline, camerasTotal),
    hotlineVolume: hotline,
    bySource,
    byCategory,
    byDistrict,
    trend,
  };
}
