/**
 * The alarm system in the domain (domain/alarms.ts, domain/commands/alarms.ts): what alarms and why under the
 * level's profile, one 督办 per rung up the chain, an acknowledgement with who, when and which console, a new
 * reason ringing again on the rung reached, alarms removed with their event, the hand-over refused while an alarm
 * is left out, and refusals in Chinese. The actions' command ids are fixed by what they do (run twice: the same).
 */
import { refusalOf } from '../../harness/commands';
import { describe, expect, it } from 'vitest';
import { CityState, CommandError, alarmActions, executeCommand, upsert, type Actor } from '../../domain';
import type { GovEvent } from '../../protocol';

const limits = { report: 60, dispatch: 120, handle: 1440, followup: 2880, close: 1440 };
const T0 = Date.parse('2026-11-30T08:00:00Z');
const MIN = 60_000;
const SYSTEM: Actor = { id: 'system:alarms', name: '告警系统', role: 'system', districtScope: null };
const DISPATCHER: Actor = { id: 'disp', name: '调度员 张敏', role: 'dispatcher', districtScope: null, console: '综治指挥调度台 · 坐席 3' };
const DUTY: Actor = { id: 'duty', name: '值班员 王强', role: 'duty', districtScope: ['d1'] };
const OTHER_AREA: Actor = { id: 'duty2', name: '值班员 赵丽', role: 'duty', districtScope: ['d2'] };
const VIEWER: Actor = { id: 'viewer', name: '演示', role: 'viewer', districtScope: null };

const event = (id: string, extra: Partial<GovEvent>): GovEvent => ({
  id, source: 'hotline', category: 'road', severity: 1, title: `事件 ${id}`, description: '', location: [118, 24], address: '', gridId: 'g1', districtId: 'd1',
  status: 'dispatched', step: 'dispatch', reportedAt: new Date(T0).toISOString(), stepDeadline: new Date(T0 + 120 * MIN).toISOString(), finalDeadline: '2026-12-05T00:00:00.000Z',
  assignee: { departmentId: 'dept-urban', staffId: null }, coHandlers: [], coHandlingRequests: [], supervised: false, escalation: 'grid', mergedInto: null,
  reporter: null, evaluation: null, closedAt: null, acceptedAt: null, dispatchedAt: null, handledAt: null, timelineCount: 1, actors: [], cameraId: null, version: 1, ...extra,
});

function city(...events: GovEvent[]): CityState {
  const state = new CityState(undefined, 0);
  state.apply([
    upsert('departments', { id: 'dept-urban', code: 'CG', name: '市城市管理局' }),
    upsert('rules', { id: 'road', category: 'road', categoryName: '道路破损', departmentId: 'dept-urban', limits, handlingLevel: 'district' }),
    ...events.map((e) => upsert('events', e)),
  ]);
  return state;
}

/** Where a point is (event.locate): every point is in grid g9 of district d2 here. */
const locate = (): { gridId: string; districtId: string; address: string } => ({ gridId: 'g9', districtId: 'd2', address: '某路 1 号' });
function run(state: CityState, actor: Actor, type: string, payload: unknown, atMs: number): ReturnType<typeof executeCommand> {
  const outcome = executeCommand({ state, actor, now: new Date(atMs), newId: (kind) => `${kind}-${atMs}`, locate }, type, payload);
  state.apply(outcome.changes);
  return outcome;
}
/** One round of the alarm system at `atMs`: what it did, as `type:id`. */
function round(state: CityState, atMs: number): string[] {
  return alarmActions(state, atMs).map((a) => {
    run(state, SYSTEM, a.type, a.payload, atMs);
    return `${a.type}:${'eventId' in a.payload ? `${a.payload.eventId}/${a.payload.key}` : a.payload.alarmId}`;
  });
}
function refusal(state: CityState, actor: Actor, type: string, payload: unknown, atMs: number): CommandError {
  return refusalOf(() => run(state, actor, type, payload, atMs), type);
}
const supervises = (state: CityState, id: string) => [...state.collections.timeline.values()].filter((r) => r.eventId === id && r.action === 'supervise').map((r) => r.note);

describe('the alarm system', () => {
  it('rings for what is already serious or overdue, device alarms above their threshold, and not for the rest', () => {
    const state = city(
      event('E-severe', { severity: 3 }),
      event('E-overdue', { stepDeadline: new Date(T0 - MIN).toISOString() }),
      event('E-ai', { source: 'video-ai', severity: 3, cameraId: 'cam-1' }),
      event('E-sensor-low', { source: 'sensor', severity: 2 }),
      event('E-quiet', {}),
      event('E-closed', { status: 'closed', severity: 4 }),
    );
    expect(round(state, T0).sort()).toEqual(['alarm.raise:E-ai/severe', 'alarm.raise:E-overdue/overdue:dispatch', 'alarm.raise:E-severe/severe']);
    expect(state.get('alarms', 'alarm-E-ai')).toMatchObject({ rung: 1, ackedAt: null, cameraId: 'cam-1', severity: 3, source: 'video-ai' });
    expect(round(state, T0 + 1000)).toEqual([]);
    // 加强: the device threshold drops to 2.
    state.apply([upsert('commandLevel', { id: 'current', level: 'reinforced', since: new Date(T0).toISOString(), by: 'x', reason: '节日', incidentId: null, planTitle: '', plan: [] })]);
    expect(round(state, T0 + 2000)).toEqual(['alarm.raise:E-sensor-low/device']);
  });

  it('climbs the chain once per rung, each a 督办 on the timeline, and stops at the last rung', () => {
    const state = city(event('E1', { severity: 4 }));
    round(state, T0);
    expect(round(state, T0 + 2 * MIN)).toEqual([]);
    const actions = alarmActions(state, T0 + 3 * MIN + 1);
    expect(actions.map((a) => a.commandId)).toEqual(alarmActions(state, T0 + 3 * MIN + 500).map((a) => a.commandId));
    expect(round(state, T0 + 3 * MIN + 1)).toEqual(['alarm.escalate:alarm-E1']);
    expect(round(state, T0 + 3 * MIN + 2)).toEqual([]);
    expect(round(state, T0 + 8 * MIN + 2)).toEqual(['alarm.escalate:alarm-E1']);
    expect(round(state, T0 + 100 * MIN)).toEqual([]);
    expect(state.get('alarms', 'alarm-E1')!.rung).toBe(3);
    expect(supervises(state, 'E1')).toEqual(['告警 3 分钟未确认，升级至值班长督办（第 2 级）', '告警 5 分钟未确认，升级至中心领导督办（第 3 级）']);
    expect(state.get('events', 'E1')!.supervised).toBe(true);
    // Its own 督办 raises no second alarm of the kind.
    expect(state.get('alarms', 'alarm-E1')!.reasons.map((r) => r.key)).toEqual(['severe', 'supervised']);
    // The same escalation again is refused: once per rung.
    expect(refusal(state, SYSTEM, 'alarm.escalate', { alarmId: 'alarm-E1', toRung: 3 }, T0 + 101 * MIN).message).toMatch(/已在第 3 级/);
  });

  it('is acknowledged with who, when and which console; a new reason rings again on the rung reached', () => {
    const state = city(event('E1', { severity: 3 }));
    round(state, T0);
    round(state, T0 + 4 * MIN);
    run(state, DISPATCHER, 'alarm.acknowledge', { alarmId: 'alarm-E1' }, T0 + 5 * MIN);
    expect(state.get('alarms', 'alarm-E1')).toMatchObject({ rung: 2, ackedBy: '调度员 张敏', ackedById: 'disp', ackedConsole: '综治指挥调度台 · 坐席 3', ackedAt: new Date(T0 + 5 * MIN).toISOString() });
    expect(refusal(state, DUTY, 'alarm.acknowledge', { alarmId: 'alarm-E1' }, T0 + 6 * MIN).message).toMatch(/告警 alarm-E1 已由 调度员 张敏 于 .* 确认（综治指挥调度台 · 坐席 3）/);
    // Acknowledged: it does not climb.
    expect(round(state, T0 + 60 * MIN)).toEqual([]);
    // The step runs past its deadline (120 min): rings again, on rung 2, its time counted from now.
    expect(round(state, T0 + 121 * MIN)).toEqual(['alarm.raise:E1/overdue:dispatch']);
    expect(state.get('alarms', 'alarm-E1')).toMatchObject({ rung: 2, ackedAt: null, rungAt: new Date(T0 + 121 * MIN).toISOString() });
    expect(round(state, T0 + 125 * MIN)).toEqual([]);
    expect(round(state, T0 + 126 * MIN + 1)).toEqual(['alarm.escalate:alarm-E1']);
  });

  it('refuses an acknowledgement outside the area or by a role without it, and anyone but the system raising', () => {
    const state = city(event('E1', { severity: 4 }));
    round(state, T0);
    expect(refusal(state, OTHER_AREA, 'alarm.acknowledge', { alarmId: 'alarm-E1' }, T0).message).toMatch(/不在您的辖区内/);
    expect(refusal(state, VIEWER, 'alarm.acknowledge', { alarmId: 'alarm-E1' }, T0).code).toBe('forbidden');
    expect(refusal(state, DISPATCHER, 'alarm.raise', { eventId: 'E1', kind: 'severe', key: 'x', detail: '' }, T0).code).toBe('forbidden');
    expect(refusal(state, DISPATCHER, 'alarm.clear', { alarmId: 'alarm-E1' }, T0).code).toBe('forbidden');
    expect(refusal(state, DUTY, 'alarm.acknowledge', { alarmId: 'alarm-nope' }, T0).message).toMatch(/告警 alarm-nope 不存在/);
    expect(refusal(state, SYSTEM, 'alarm.clear', { alarmId: 'alarm-E1' }, T0).message).toMatch(/仍在办理/);
    run(state, DUTY, 'alarm.acknowledge', { alarmId: 'alarm-E1' }, T0 + 1000);
  });

  it('goes with its event (closed or merged), and a reopened event alarms afresh', () => {
    const state = city(event('E1', { severity: 4 }), event('E2', { severity: 4 }));
    round(state, T0);
    state.apply([upsert('events', { ...state.get('events', 'E1')!, status: 'closed' }), upsert('events', { ...state.get('events', 'E2')!, status: 'merged' })]);
    expect(round(state, T0 + 1000).sort()).toEqual(['alarm.clear:alarm-E1', 'alarm.clear:alarm-E2']);
    expect(state.collections.alarms.size).toBe(0);
    state.apply([upsert('events', { ...state.get('events', 'E1')!, status: 'handling', version: 9 })]);
    expect(round(state, T0 + 2000)).toEqual(['alarm.raise:E1/severe']);
  });

  it("never reuses a command id for a new act (the pipeline answers a used id from its record, refused ones too)", () => {
    const used = new Set<string>();
    /** A round as the pipeline runs it: an id used before changes nothing; a refusal is kept like an answer. */
    const pipelineRound = (state: CityState, atMs: number, before?: () => void): string[] => {
      const actions = alarmActions(state, atMs);
      before?.();
      return actions.flatMap((a) => {
        if (used.has(a.commandId)) return [];
        used.add(a.commandId);
        try {
          run(state, SYSTEM, a.type, a.payload, atMs);
          return [a.type];
        } catch (e) {
          if (e instanceof CommandError) return [`refused ${a.type}`];
          throw e;
        }
      });
    };
    const state = city(event('E1', { severity: 4 }));
    const setStatus = (status: GovEvent['status']) => state.apply([upsert('events', { ...state.get('events', 'E1')!, status, version: state.get('events', 'E1')!.version + 1 })]);
    expect(pipelineRound(state, T0)).toEqual(['alarm.raise']);
    setStatus('closed');
    expect(pipelineRound(state, T0 + 1000)).toEqual(['alarm.clear']);
    setStatus('handling'); // reopened: a new alarm
    expect(pipelineRound(state, T0 + 2000)).toEqual(['alarm.raise']);
    setStatus('closed'); // closed again: cleared again
    expect(pipelineRound(state, T0 + 3000)).toEqual(['alarm.clear']);
    expect(state.collections.alarms.size).toBe(0);

    // A person acknowledges between the round's look and its write: the escalation is refused; rung again later, it climbs.
    const two = city(event('E2', { severity: 4 }));
    pipelineRound(two, T0);
    expect(pipelineRound(two, T0 + 3 * MIN + 1, () => run(two, DUTY, 'alarm.acknowledge', { alarmId: 'alarm-E2' }, T0 + 3 * MIN))).toEqual(['refused alarm.escalate']);
    expect(pipelineRound(two, T0 + 121 * MIN)).toEqual(['alarm.raise']); // overdue: rings again on rung 1
    expect(pipelineRound(two, T0 + 124 * MIN + 1)).toEqual(['alarm.escalate']);
    expect(two.get('alarms', 'alarm-E2')!.rung).toBe(2);
  });

  it('moves with its event when the desk places an unplaced report (核实位置)', () => {
    const state = city(event('E1', { severity: 4, locationUnresolved: true }));
    round(state, T0);
    run(state, DISPATCHER, 'event.locate', { eventId: 'E1', location: [118.1, 24.1] }, T0 + 1000);
    expect(state.get('alarms', 'alarm-E1')).toMatchObject({ districtId: 'd2', gridId: 'g9', version: 2 });
  });

  it('the hand-over names every alarm still ringing in the area, or is refused with what was left out', () => {
    const state = city(event('E1', { severity: 4 }), event('E2', { severity: 4 }), event('E3', { severity: 4, districtId: 'd2', gridId: 'g9' }));
    round(state, T0);
    const left = refusal(state, DUTY, 'duty.handover', { notes: '', openItems: [], toUserId: null, alarmIds: ['alarm-E1'] }, T0);
    expect(left.code).toBe('conflict');
    expect(left.message).toMatch(/还有 1 条未确认告警没有列入交接：E2 事件 E2/);
    run(state, DUTY, 'duty.handover', { notes: '夜班交接', openItems: [], toUserId: null, alarmIds: ['alarm-E1', 'alarm-E2'] }, T0);
    const handover = [...state.collections.handovers.values()][0]!;
    expect(handover.alarms.map((a) => a.alarmId)).toEqual(['alarm-E1', 'alarm-E2']);
    // Nothing ringing in the area: a hand-over needs no list.
    run(state, DUTY, 'alarm.acknowledge', { alarmId: 'alarm-E1' }, T0);
    run(state, DUTY, 'alarm.acknowledge', { alarmId: 'alarm-E2' }, T0);
    run(state, DUTY, 'duty.handover', { notes: '', openItems: [], toUserId: null }, T0 + 1);
  });
});
