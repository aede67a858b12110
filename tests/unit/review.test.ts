import { describe, expect, it } from 'vitest';
import type { CallRecord, GovEvent, StepLimits, TimelineRecord } from '../../protocol';
import { formatSpan, reviewIncident, type ReviewInput } from '../../domain/review';

const T0 = Date.parse('2026-11-30T08:00:00Z');
const at = (min: number): string => new Date(T0 + min * 60_000).toISOString();
const LIMITS: StepLimits = { report: 10, dispatch: 30, handle: 120, followup: 60, close: 60 };

function event(extra: Partial<GovEvent> = {}): GovEvent {
  return {
    id: 'E1', source: 'hotline', category: 'noise', severity: 'normal', title: '噪音扰民', description: '', location: [117, 36],
    address: '历下区', gridId: 'G1', districtId: 'D1', status: 'closed', step: 'close', reportedAt: at(0), stepDeadline: null,
    finalDeadline: at(280), assignee: { departmentId: 'dept-env', staffId: 's1' }, coHandlers: ['dept-police'], coHandlingRequests: [],
    supervised: false, escalation: 'grid', mergedInto: null, reporter: null, evaluation: null, closedAt: at(200), acceptedAt: at(5),
    dispatchedAt: at(8), handledAt: at(100), timelineCount: 0, actors: [], cameraId: null, version: 1, ...extra,
  } as GovEvent;
}
function entry(index: number, min: number, action: string, actor = 'u-disp', actorName = '调度员 张敏', extra: Partial<TimelineRecord> = {}): TimelineRecord {
  return { id: `E1.${index}`, eventId: 'E1', districtId: 'D1', index, at: at(min), actor, actorName, action, ...extra };
}
function call(id: string, min: number, extra: Partial<CallRecord> = {}): CallRecord {
  return {
    id, direction: 'outgoing', peer: 'staff1', peerName: '李强', video: true, startedAt: at(min), answeredAt: at(min), endedAt: at(min + 2), durationS: 95,
    result: 'answered', cause: '', eventId: 'E1', groupId: null, userId: 'u-disp', recording: null, at: at(min), userName: '调度员 张敏',
    sipUser: 'disp1', peerStaffId: 's1', districtId: 'D1', gridId: 'G1', ...extra,
  } as CallRecord;
}
const full = [
  entry(0, 0, 'report', 'u-citizen', '市民热线'),
  entry(1, 5, 'accept'),
  entry(2, 8, 'dispatch'),
  entry(3, 50, 'sign', 's1', '李强'), // dispatch limit 30 from accept at 5 → due at 35: late by 15 min
  entry(4, 60, 'arrive', 's1', '李强'),
  entry(5, 100, 'feedback', 's1', '李强'),
  entry(6, 120, 'followup'),
  entry(7, 200, 'close'), // close limit 60 from followup at 120 → due at 180: late by 20 min
];
function input(extra: Partial<ReviewInput> = {}): ReviewInput {
  return {
    event: event({ timelineCount: full.length }), timeline: full, calls: [call('call-1', 20)],
    staff: [{ id: 's1', name: '李强', gridId: 'G1' }], departments: [{ id: 'dept-env', name: '生态环境局' }, { id: 'dept-police', name: '公安分局', liaison: 'u-police' }],
    limits: LIMITS, nowMs: T0 + 300 * 60_000, ...extra,
  };
}

describe('复盘 review of an incident (domain/review.ts)', () => {
  it('gives each step with who, when, time from the report and from the step before, against its deadline', () => {
    const r = reviewIncident(input());
    expect(r.steps.map((s) => s.action)).toEqual(['report', 'accept', 'dispatch', 'sign', 'arrive', 'feedback', 'followup', 'close']);
    const byAction = Object.fromEntries(r.steps.map((s) => [s.action, s]));
    expect(byAction.accept).toMatchObject({ sinceReportS: 300, sincePreviousS: 300, deadline: at(10), lateByS: 0, actorName: '调度员 张敏' });
    expect(byAction.sign).toMatchObject({ sinceReportS: 3000, sincePreviousS: 42 * 60, deadline: at(35), lateByS: 15 * 60, actorName: '李强' });
    expect(byAction.feedback).toMatchObject({ deadline: at(170), lateByS: 0 });
    expect(byAction.close).toMatchObject({ deadline: at(180), lateByS: 20 * 60 });
    expect(byAction.dispatch!.deadline).toBeNull(); // dispatching is timed with the signature
    expect(r.lateSteps).toBe(2);
    expect(r.finalLateByS).toBe(0); // closed at 200, the loop's deadline 280
    expect(r.durationS).toBe(200 * 60);
    expect(r.missing).toEqual([]);
    expect(r.reached.arrive).toEqual({ at: at(60), sinceReportS: 3600 });
    expect(r.problems).toEqual([]);
  });

  it('names the people and departments involved', () => {
    const r = reviewIncident(input({ timeline: [...full, entry(8, 130, 'comment', 'u-police', '公安分局联络员')] }));
    expect(r.people.map((p) => p.name)).toEqual(['市民热线', '调度员 张敏', '李强', '公安分局联络员']);
    expect(r.people.find((p) => p.id === 's1')).toMatchObject({ staffId: 's1', gridId: 'G1', actions: ['sign', 'arrive', 'feedback'] });
    expect(r.people.find((p) => p.id === 'u-disp')!.actions).toEqual(['accept', 'dispatch', 'followup', 'close']);
    expect(r.people.find((p) => p.id === 'u-police')!.departmentName).toBe('公安分局');
    expect(r.departments).toEqual([
      { id: 'dept-env', name: '生态环境局', role: 'assignee' },
      { id: 'dept-police', name: '公安分局', role: 'cohandler' },
    ]);
  });

  it('counts extensions approved during a step into its deadline', () => {
    const timeline = [...full.slice(0, 3), entry(3, 20, 'extension-request', 's1', '李强'), entry(4, 25, 'extension-approve'), { ...full[3]!, index: 5 }];
    const r = reviewIncident(input({ timeline, event: event({ timelineCount: 6, extensionRequests: [{ id: 'x1', minutes: 20, reason: '', requestedBy: 's1', departmentId: null, state: 'approved', requestedAt: at(20) }] }) }));
    expect(r.steps.find((s) => s.action === 'sign')).toMatchObject({ deadline: at(55), lateByS: 0 });
  });

  it('lists the calls with duration and outcome, adding the history\'s calls the backend did not have', () => {
    const timelineCall = entry(8, 150, 'call', 'u-disp', '调度员 张敏', { call: { id: 'call-2', direction: 'outgoing', video: false, peerName: '王芳', result: 'no-answer', durationS: 0 } });
    const r = reviewIncident(input({
      timeline: [...full, timelineCall],
      calls: [call('call-1', 20), call('call-1', 20), call('call-9', 30, { eventId: 'E-other' }), call('call-3', 40, { result: 'busy', durationS: 0 })],
    }));
    expect(r.calls.map((c) => [c.id, c.result, c.durationS, c.fromTimeline])).toEqual([
      ['call-1', 'answered', 95, false],
      ['call-3', 'busy', 0, false],
      ['call-2', 'no-answer', 0, true],
    ]);
    expect(r.calls[0]).toMatchObject({ sinceReportS: 1200, userName: '调度员 张敏', peerName: '李强', video: true });
    expect(r.callsAnswered).toBe(1);
    expect(r.talkS).toBe(95);
  });

  it('says which milestones were skipped, and times an open event to now', () => {
    const timeline = [full[0]!, full[1]!, full[2]!, full[3]!, full[5]!];
    const r = reviewIncident(input({ timeline, event: event({ status: 'handled', closedAt: null, timelineCount: 5 }) }));
    expect(r.missing).toEqual(['arrive']);
    expect(r.reached.close).toBeUndefined();
    expect(r.durationS).toBe(300 * 60);
    expect(r.finalLateByS).toBeNull();
  });

  it('has no deadlines without the limits, and marks escalations', () => {
    const r = reviewIncident(input({ limits: null, timeline: [...full.slice(0, 2), entry(2, 30, 'supervise', 'sim:leader', '分管领导（模拟）')] }));
    expect(r.steps.every((s) => s.deadline === null && s.lateByS === null)).toBe(true);
    expect(r.steps.find((s) => s.action === 'supervise')!.escalation).toBe(true);
    expect(r.lateSteps).toBe(0);
  });

  it('does not crash on bad or missing data: it leaves the entry out and says so', () => {
    const bad = [...full.slice(0, 2), entry(2, 8, 'dispatch', 'u', 'x', { at: 'not a time' }), entry(3, 9, 'sign', 'u', 'x', { eventId: 'E2' })];
    const r = reviewIncident(input({ timeline: bad, calls: [call('call-1', 20, { at: 'garbage' })], staff: [], departments: [], event: event({ timelineCount: 9, reportedAt: 'bad', closedAt: null, coHandlers: [], assignee: null }) }));
    expect(r.steps.map((s) => s.action)).toEqual(['report', 'accept']);
    expect(r.calls).toEqual([]);
    expect(r.problems.join('\n')).toMatch(/E1\.2.*无效/);
    expect(r.problems.join('\n')).toMatch(/call-1/);
    expect(r.problems.join('\n')).toMatch(/上报时间无效/);
    expect(r.problems.join('\n')).toMatch(/缺 7 条/);
    expect(r.steps[1]!.sinceReportS).toBe(300); // counted from the first entry when the report time is unreadable
    expect(reviewIncident(input({ timeline: [], calls: [] })).steps).toEqual([]);
  });

  it('prints spans', () => {
    expect(formatSpan(42)).toBe('0:42');
    expect(formatSpan(309)).toBe('5:09');
    expect(formatSpan(3909)).toBe('1:05:09');
    expect(formatSpan(-5)).toBe('0:00');
  });
});
