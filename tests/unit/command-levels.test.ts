/**
 * Command levels that act (平急转换): each level's step limits (new steps take rule × factor; a switch re-times the
 * current step of every open event, in one pass, and switching back restores), the administrator's level.profile.save
 * (refusals in Chinese), 下沉干部 in dispatch suggestions only while called, and 到岗率 on the KPI wall.
 */
import { refusalOf } from '../../harness/commands';
import { describe, expect, it } from 'vitest';
import { CityState, CommandError, DEFAULT_LEVEL_PROFILES, executeCommand, suggestStaff, upsert, type Actor } from '../../domain';
import type { GovEvent, Staff } from '../../protocol';
import { computeKpis } from '../../backend/kpi';

const LEADER: Actor = { id: 'leader', name: '中心领导 王强', role: 'leader', districtScope: null };
const DUTY: Actor = { id: 'duty', name: '值班员 陈静', role: 'duty', districtScope: null };
const LIAISON: Actor = { id: 'liaison', name: '市公安局联络员', role: 'liaison', districtScope: null, departmentId: 'dept-police' };
const ADMIN: Actor = { id: 'admin', name: '系统管理员 赵磊', role: 'admin', districtScope: null };
const NOW = new Date('2026-11-30T08:00:00Z');
const MIN = 60_000;
const limits = { report: 60, dispatch: 120, handle: 1440, followup: 2880, close: 1440 };

const at = (ms: number): string => new Date(ms).toISOString();
function event(id: string, extra: Partial<GovEvent>): GovEvent {
  return {
    id, source: 'hotline', category: 'noise', severity: 2, title: id, description: '', location: [117, 36.6], address: '', gridId: 'g1', districtId: 'd01',
    status: 'handling', step: 'handle', reportedAt: at(NOW.getTime() - 60 * MIN), stepDeadline: at(NOW.getTime() + 1440 * MIN), finalDeadline: at(NOW.getTime() + 9 * 1440 * MIN),
    assignee: null, coHandlers: [], coHandlingRequests: [], supervised: false, escalation: 'grid', mergedInto: null, reporter: null, evaluation: null,
    closedAt: null, acceptedAt: null, dispatchedAt: null, handledAt: null, timelineCount: 1, actors: [], cameraId: null, version: 3, ...extra,
  } as GovEvent;
}
function city(): CityState {
  const state = new CityState(undefined, 0);
  state.apply([
    upsert('rules', { id: 'noise', category: 'noise', categoryName: '噪声扰民', departmentId: 'dept-police', limits, handlingLevel: 'street' }),
    upsert('departments', { id: 'dept-police', code: 'GA', name: '市公安局' }),
  ]);
  return state;
}
let ids = 0;
function run(state: CityState, type: string, payload: unknown, actor: Actor = LEADER, now = NOW): ReturnType<typeof executeCommand> {
  const outcome = executeCommand({ state, actor, now, newId: (kind) => `${kind}-${++ids}`, locate: () => ({ gridId: 'g1', districtId: 'd01', address: '一区' }) }, type, payload);
  state.apply(outcome.changes);
  return outcome;
}
function refusal(state: CityState, type: string, payload: unknown, actor: Actor = ADMIN): CommandError {
  return refusalOf(() => run(state, type, payload, actor), type);
}
const deadline = (state: CityState, id: string): number => Date.parse(state.get('events', id)!.stepDeadline!);

describe('a level\'s step limits', () => {
  /** An event reported, dispatched and signed for (处置 starts) at `signedAt`, through the loop's own commands. */
  function signed(state: CityState, signedAt: number): string {
    const when = new Date(signedAt);
    const id = String(run(state, 'event.report', { source: 'hotline', category: 'noise', severity: 2, title: '噪声', description: '夜间施工', location: [117, 36.6] }, DUTY, when).result.eventId);
    run(state, 'event.dispatch', { eventId: id, departmentId: 'dept-police' }, DUTY, when);
    run(state, 'event.sign', { eventId: id }, DUTY, when);
    return id;
  }

  it('加强 re-times the current step of open events by 0.75 of the listed limit, 日常 restores the daily deadlines exactly; one entry, not one per event', () => {
    const state = city();
    const handle = signed(state, NOW.getTime() - 100 * MIN); // 处置 started 100 min ago: due at +1340 min under 日常
    const soon = signed(state, NOW.getTime() - 1430 * MIN); // due in 10 min: would turn overdue, held at now + 5 min
    const late = signed(state, NOW.getTime() - 1470 * MIN); // overdue 30 min already: stays overdue, by the new limit
    state.apply([upsert('events', event('E-closed', { status: 'closed', stepDeadline: null }))]);
    const before = [...state.all('timeline')].length;
    expect(deadline(state, soon)).toBe(NOW.getTime() + 10 * MIN);
    expect(deadline(state, late)).toBe(NOW.getTime() - 30 * MIN);
    const version = state.get('events', handle)!.version;

    const out = run(state, 'level.set', { level: 'reinforced', reason: '节日保障' });
    expect(out.result).toMatchObject({ level: 'reinforced', previous: null, retimed: 3 });
    expect(deadline(state, handle)).toBe(NOW.getTime() - 100 * MIN + 1080 * MIN);
    expect(deadline(state, soon)).toBe(NOW.getTime() + 5 * MIN);
    expect(deadline(state, late)).toBe(NOW.getTime() - 1470 * MIN + 1080 * MIN);
    expect(state.get('events', handle)!.version).toBe(version + 1);
    expect(state.get('events', 'E-closed')!.stepDeadline).toBeNull();
    expect(state.get('commandLevel', 'current')).toMatchObject({ level: 'reinforced', retimed: 3 });
    expect([...state.all('timeline')]).toHaveLength(before);

    // A step started at 加强 gets rule × 0.75.
    const report = run(state, 'event.report', { source: 'hotline', category: 'noise', severity: 2, title: '噪声', description: '夜间施工', location: [117, 36.6] }, DUTY);
    expect(deadline(state, String(report.result.eventId))).toBe(NOW.getTime() + 45 * MIN);

    // Back to 日常 one minute later: every daily deadline as it was; what was overdue under 日常 still is.
    run(state, 'level.set', { level: 'daily', reason: '保障结束' }, LEADER, new Date(NOW.getTime() + MIN));
    expect(deadline(state, handle)).toBe(NOW.getTime() + 1340 * MIN);
    expect(deadline(state, soon)).toBe(NOW.getTime() + 10 * MIN);
    expect(deadline(state, late)).toBe(NOW.getTime() - 30 * MIN);
    expect(deadline(state, String(report.result.eventId))).toBe(NOW.getTime() + 60 * MIN);
  });

  it('a round trip through 应急 keeps the step\'s approved extensions, not those of an earlier step', () => {
    const state = city();
    const when = new Date(NOW.getTime() - 30 * MIN);
    const id = String(run(state, 'event.report', { source: 'hotline', category: 'noise', severity: 2, title: '噪声', description: '', location: [117, 36.6] }, DUTY, when).result.eventId);
    run(state, 'event.dispatch', { eventId: id, departmentId: 'dept-police' }, DUTY, when);
    // 派遣 step (from `when`, 120 min): extended by 20 min; then 签收 starts 处置 (1440 min), extended by 45 min.
    const first = run(state, 'event.extension.request', { eventId: id, minutes: 20, reason: '人手不足' }, LIAISON, when);
    run(state, 'event.extension.decide', { eventId: id, requestId: first.result.requestId, approve: true }, DUTY, when);
    run(state, 'event.sign', { eventId: id }, DUTY, when);
    const second = run(state, 'event.extension.request', { eventId: id, minutes: 45, reason: '需要协调' }, LIAISON, when);
    run(state, 'event.extension.decide', { eventId: id, requestId: second.result.requestId, approve: true, note: '同意' }, DUTY, when);
    run(state, 'event.comment', { eventId: id, text: '已联系' }, DUTY, when);
    const daily = when.getTime() + (1440 + 45) * MIN;
    expect(deadline(state, id)).toBe(daily);
    run(state, 'level.set', { level: 'emergency', reason: '暴雨', incidentId: id });
    expect(deadline(state, id)).toBe(when.getTime() + (720 + 45) * MIN);
    run(state, 'level.set', { level: 'reinforced', reason: '降级' }, LEADER, new Date(NOW.getTime() + 5 * MIN));
    expect(deadline(state, id)).toBe(when.getTime() + (1080 + 45) * MIN);
    run(state, 'level.set', { level: 'daily', reason: '结束' }, LEADER, new Date(NOW.getTime() + 10 * MIN));
    expect(deadline(state, id)).toBe(daily);
  });

  it('an event whose history does not say when its step began moves by the change of the limit, as before', () => {
    const state = city();
    state.apply([
      upsert('events', event('E-soon', { stepDeadline: at(NOW.getTime() + 10 * MIN) })),
      upsert('events', event('E-late', { stepDeadline: at(NOW.getTime() - 30 * MIN) })),
    ]);
    run(state, 'level.set', { level: 'reinforced', reason: '节日保障' });
    expect(deadline(state, 'E-soon')).toBe(NOW.getTime() + 5 * MIN);
    expect(deadline(state, 'E-late')).toBe(NOW.getTime() - 30 * MIN);
  });

  it('应急 halves the limits and keeps an approved extension; the incident\'s own entry says how many were re-timed', () => {
    const state = city();
    // 派遣 step whose deadline was extended by 30 minutes.
    state.apply([upsert('events', event('E1', { status: 'dispatched', step: 'dispatch', stepDeadline: at(NOW.getTime() + 150 * MIN) }))]);
    const out = run(state, 'level.set', { level: 'emergency', reason: '暴雨', incidentId: 'E1' });
    expect(out.result).toMatchObject({ retimed: 1 });
    expect(deadline(state, 'E1')).toBe(NOW.getTime() + 90 * MIN);
    const entries = [...state.all('timeline')];
    expect(entries.map((e) => e.note)).toEqual(['暴雨（1 件在办事件按新时限重算）']);
    expect(state.get('events', 'E1')!.version).toBe(4); // one new version for the re-timing and the entry together
  });

  it('re-times 20,000 open events in one bounded pass, changing only those whose deadline moves', () => {
    const state = city();
    const events: GovEvent[] = [];
    for (let i = 0; i < 20_000; i++) events.push(event(`E${i}`, i % 10 === 0 ? { status: 'closed', stepDeadline: null } : { stepDeadline: at(NOW.getTime() + (600 + (i % 800)) * MIN) }));
    state.apply(events.map((e) => upsert('events', e)));
    const t0 = performance.now();
    const out = run(state, 'level.set', { level: 'reinforced', reason: '加强' });
    const ms = performance.now() - t0;
    console.log(`level.set re-timed ${String(out.result.retimed)} of 20,000 events in ${ms.toFixed(0)} ms`);
    expect(out.result.retimed).toBe(18_000);
    expect(out.changes).toHaveLength(18_001);
    expect(ms).toBeLessThan(2_000);
  });
});

describe('level.profile.save (administrators)', () => {
  const profile = (extra: object = {}): object => {
    const { updatedAt: _a, updatedBy: _b, ...rest } = DEFAULT_LEVEL_PROFILES.reinforced;
    return { ...rest, ...extra };
  };

  it('saves a level\'s profile; for the level in force the open events take the new limits at once', () => {
    const state = city();
    state.apply([upsert('events', event('E1', { stepDeadline: at(NOW.getTime() + 1440 * MIN) }))]);
    run(state, 'level.set', { level: 'reinforced', reason: '加强' });
    expect(deadline(state, 'E1')).toBe(NOW.getTime() + 1080 * MIN);
    const out = run(state, 'level.profile.save', profile({ stepFactors: { report: 0.5, dispatch: 0.5, handle: 0.5, followup: 0.5, close: 0.5 }, callsCadres: false }), ADMIN);
    expect(out.result).toEqual({ level: 'reinforced', retimed: 1 });
    expect(deadline(state, 'E1')).toBe(NOW.getTime() + 720 * MIN);
    expect(state.get('levelProfiles', 'reinforced')).toMatchObject({ callsCadres: false, updatedBy: '系统管理员 赵磊' });
  });

  it('refuses in Chinese: a looser 加强, a chain whose last rung has a limit or a middle rung none, a scoped admin; others may not', () => {
    const state = city();
    expect(refusal(state, 'level.profile.save', profile({ stepFactors: { report: 1, dispatch: 1.5, handle: 1, followup: 1, close: 1 } })).message).toBe('派遣时限系数 1.5 大于 1：加强和应急只能收紧时限，不能放宽');
    const chain = DEFAULT_LEVEL_PROFILES.reinforced.alarms.chain;
    const last = refusal(state, 'level.profile.save', profile({ alarms: { ...DEFAULT_LEVEL_PROFILES.reinforced.alarms, chain: chain.map((r) => ({ ...r, ackWithinMinutes: 3 })) } }));
    expect(last.message).toBe('告警升级链最后一级（中心领导）一直响到有人确认，不能有确认时限');
    const middle = refusal(state, 'level.profile.save', profile({ alarms: { ...DEFAULT_LEVEL_PROFILES.reinforced.alarms, chain: chain.map((r) => ({ ...r, ackWithinMinutes: null })) } }));
    expect(middle.message).toBe('告警升级链第 1 级（值班员）不是最后一级，需要填写确认时限（分钟）');
    expect(refusal(state, 'level.profile.save', profile(), { ...ADMIN, districtScope: ['d01'] }).message).toBe('指挥等级的含义是全市共用的，只有不限辖区的管理员可以修改（你的辖区：d01）');
    expect(refusal(state, 'level.profile.save', profile({ stepFactors: { report: 5, dispatch: 1, handle: 1, followup: 1, close: 1 } })).code).toBe('invalid');
    expect(refusal(state, 'level.profile.save', profile(), LEADER).code).toBe('forbidden');
    expect(state.get('levelProfiles', 'reinforced')).toBeUndefined();
  });

  it('refuses a 加强 or 应急 factor looser than the 日常 profile\'s for the step, naming the step and both values', () => {
    const state = city();
    const { updatedAt: _a, updatedBy: _b, ...daily } = DEFAULT_LEVEL_PROFILES.daily;
    run(state, 'level.profile.save', { ...daily, stepFactors: { report: 1, dispatch: 1, handle: 0.6, followup: 1, close: 1 } }, ADMIN);
    expect(refusal(state, 'level.profile.save', profile()).message).toBe('处置时限系数 0.75 大于日常的 0.6：加强和应急只能收紧时限，不能比日常宽');
    const { updatedAt: _c, updatedBy: _d, ...emergency } = DEFAULT_LEVEL_PROFILES.emergency;
    expect(refusal(state, 'level.profile.save', { ...emergency, stepFactors: { report: 0.5, dispatch: 0.5, handle: 0.7, followup: 0.5, close: 0.5 } }).message).toBe('处置时限系数 0.7 大于日常的 0.6：加强和应急只能收紧时限，不能比日常宽');
    expect(state.get('levelProfiles', 'reinforced')).toBeUndefined();
    run(state, 'level.profile.save', profile({ stepFactors: { report: 0.75, dispatch: 0.75, handle: 0.6, followup: 0.75, close: 0.75 } }), ADMIN);
    expect(state.get('levelProfiles', 'reinforced')!.stepFactors.handle).toBe(0.6);
  });
});

const staff = (id: string, extra: Partial<Staff>): Staff => ({ id, name: id, phone: '13800000000', role: 'full-time', gridId: 'g1', districtId: 'd01', status: 'patrolling', position: [117.001, 36.6], sipUser: id, openTasks: 0, updatedAt: at(NOW.getTime()), ...extra });

describe('下沉干部', () => {
  it('are suggested for dispatch only while the level calls them (and once on duty)', () => {
    const list = [staff('cadre', { role: 'cadre', position: [117.0001, 36.6] }), staff('grid', { position: [117.01, 36.6] }), staff('cadre-off', { role: 'cadre', status: 'offline' })];
    const e = { location: [117, 36.6] as [number, number], gridId: 'g1' };
    expect(suggestStaff(e, list, null).map((s) => s.staff.id)).toEqual(['grid']);
    expect(suggestStaff(e, list, null, 3, undefined, true).map((s) => s.staff.id)).toEqual(['cadre', 'grid']);
  });

  it('到岗率 on the KPI wall: cadres on duty ÷ called while the level calls them; null in daily; not in 网格员在线率', () => {
    const state = city();
    state.apply([staff('c1', { role: 'cadre' }), staff('c2', { role: 'cadre', status: 'offline' }), staff('c3', { role: 'cadre', status: 'offline' }), staff('g1', {})].map((s) => upsert('staff', s)));
    expect(computeKpis(state, 'today', NOW).cadreArrivalRate).toBeNull();
    expect(computeKpis(state, 'today', NOW).staffOnlineRate).toMatchObject({ numerator: 1, denominator: 1 });
    run(state, 'level.set', { level: 'reinforced', reason: '加强' });
    expect(computeKpis(state, 'today', NOW).cadreArrivalRate).toEqual({ numerator: 1, denominator: 3, value: 0.3333 });
  });
});
