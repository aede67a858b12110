/**
 * Grid staff (field) and department liaisons in the domain: they act only on events assigned to their staff record
 * or department (requireAssigned: refused 'forbidden' in Chinese otherwise), only with their role's commands;
 * 到场 (arrive) with a position, 退回 (return) back to the dispatcher, 申请延期 and the dispatcher's decision.
 */
import { refusalOf } from '../../harness/commands';
import { describe, expect, it } from 'vitest';
import { CityState, CommandError, executeCommand, upsert, type Actor } from '../../domain';
import type { GovEvent } from '../../protocol';

const limits = { report: 60, dispatch: 120, handle: 1440, followup: 2880, close: 1440 };
const NOW = new Date('2026-11-30T08:00:00Z');
const FIELD: Actor = { id: 'field-1', name: '网格员 李明', role: 'field', districtScope: ['d1'], staffId: 's1' };
const OTHER_FIELD: Actor = { id: 'field-2', name: '网格员 王芳', role: 'field', districtScope: ['d1'], staffId: 's2' };
const LIAISON: Actor = { id: 'liaison-1', name: '联络员 周红', role: 'liaison', districtScope: null, departmentId: 'dept-urban' };
const OTHER_LIAISON: Actor = { id: 'liaison-2', name: '联络员 钱明', role: 'liaison', districtScope: null, departmentId: 'dept-police' };
const DISPATCHER: Actor = { id: 'disp', name: '调度员', role: 'dispatcher', districtScope: null };

const event = (id: string, extra: Partial<GovEvent>): GovEvent => ({
  id, source: 'hotline', category: 'road', severity: 2, title: id, description: '', location: [118, 24], address: '', gridId: 'g1', districtId: 'd1',
  status: 'dispatched', step: 'dispatch', reportedAt: NOW.toISOString(), stepDeadline: '2026-11-30T10:00:00.000Z', finalDeadline: '2026-12-05T00:00:00.000Z',
  assignee: { departmentId: 'dept-urban', staffId: null }, coHandlers: [], coHandlingRequests: [], supervised: false, escalation: 'grid', mergedInto: null,
  reporter: null, evaluation: null, closedAt: null, acceptedAt: NOW.toISOString(), dispatchedAt: NOW.toISOString(), handledAt: null, timelineCount: 1, actors: [], cameraId: null, version: 1, ...extra,
});

function city(): CityState {
  const state = new CityState(undefined, 0);
  state.apply([
    upsert('departments', { id: 'dept-police', code: 'GA', name: '市公安局' }),
    upsert('departments', { id: 'dept-urban', code: 'CG', name: '市城市管理局' }),
    upsert('rules', { id: 'road', category: 'road', categoryName: '道路破损', departmentId: 'dept-urban', limits, handlingLevel: 'district' }),
    upsert('staff', { id: 's1', name: '李明', phone: '1', role: 'full-time', gridId: 'g1', districtId: 'd1', status: 'handling', position: null, sipUser: 's1', openTasks: 1, updatedAt: NOW.toISOString() }),
    upsert('events', event('E-dept', {})),
    upsert('events', event('E-staff', { assignee: { departmentId: null, staffId: 's1' } })),
    upsert('events', event('E-police', { assignee: { departmentId: 'dept-police', staffId: null } })),
  ]);
  return state;
}

let ids = 0;
function run(state: CityState, actor: Actor, type: string, payload: unknown): ReturnType<typeof executeCommand> {
  const outcome = executeCommand({ state, actor, now: NOW, newId: (kind) => `${kind}-${++ids}`, locate: () => ({ gridId: 'g1', districtId: 'd1', address: '某街道' }) }, type, payload);
  state.apply(outcome.changes);
  return outcome;
}
function refusal(state: CityState, actor: Actor, type: string, payload: unknown): CommandError {
  return refusalOf(() => run(state, actor, type, payload), type);
}
const timeline = (state: CityState, id: string) => [...state.collections.timeline.values()].filter((r) => r.eventId === id).sort((a, b) => a.index - b.index);

describe('grid staff (field) on their own tasks', () => {
  it('sign → arrive (twice, each with its position) → feedback on an event assigned to their staff record', () => {
    const state = city();
    run(state, FIELD, 'event.sign', { eventId: 'E-staff' });
    run(state, FIELD, 'event.arrive', { eventId: 'E-staff', position: [118.1234567, 24.5], accuracy: 12.4 });
    run(state, FIELD, 'event.arrive', { eventId: 'E-staff', position: [118.2, 24.6], accuracy: 30 });
    run(state, FIELD, 'event.feedback', { eventId: 'E-staff', note: '已修复' });
    expect(state.get('events', 'E-staff')!.status).toBe('handled');
    const arrivals = timeline(state, 'E-staff').filter((r) => r.action === 'arrive');
    expect(arrivals.map((r) => [r.position, r.accuracy, r.actor])).toEqual([[[118.123457, 24.5], 12, 'field-1'], [[118.2, 24.6], 30, 'field-1']]);
  });

  it("refuses another staff member's task, a department's task, arrival before signing, and commands not theirs", () => {
    const state = city();
    const wrong = refusal(state, OTHER_FIELD, 'event.sign', { eventId: 'E-staff' });
    expect(wrong.code).toBe('forbidden');
    expect(wrong.message).toMatch(/^事件 E-staff 没有派给你/);
    expect(refusal(state, FIELD, 'event.sign', { eventId: 'E-dept' }).code).toBe('forbidden');
    expect(refusal(state, FIELD, 'event.cohandle.request', { eventId: 'E-dept', departmentId: 'dept-police', reason: '需要' }).code).toBe('forbidden');
    const early = refusal(state, FIELD, 'event.arrive', { eventId: 'E-staff', position: [118, 24], accuracy: 5 });
    expect(early.code).toBe('conflict');
    expect(early.message).toMatch(/只有处置中（已签收、未反馈）才能登记到场/);
    for (const type of ['event.accept', 'event.dispatch', 'event.return', 'event.extension.request', 'event.close']) {
      expect(refusal(state, FIELD, type, { eventId: 'E-staff' }).code, type).toBe('forbidden');
    }
    expect(state.get('events', 'E-staff')!.version).toBe(1);
  });

  it('requests co-handling on their own task', () => {
    const state = city();
    run(state, FIELD, 'event.cohandle.request', { eventId: 'E-staff', departmentId: 'dept-police', reason: '需要交警' });
    expect(state.get('events', 'E-staff')!.coHandlingRequests).toMatchObject([{ departmentId: 'dept-police', state: 'pending' }]);
  });
});

describe('department liaisons on their department queue', () => {
  it('signs and feeds back an event assigned to their department; refused on another department’s', () => {
    const state = city();
    run(state, LIAISON, 'event.sign', { eventId: 'E-dept' });
    run(state, LIAISON, 'event.feedback', { eventId: 'E-dept', note: '处置完毕' });
    expect(state.get('events', 'E-dept')!.status).toBe('handled');
    const other = refusal(state, LIAISON, 'event.sign', { eventId: 'E-police' });
    expect(other.code).toBe('forbidden');
    expect(other.message).toMatch(/没有派给你的部门/);
    expect(refusal(state, OTHER_LIAISON, 'event.feedback', { eventId: 'E-dept', note: 'x' }).code).toBe('forbidden');
    expect(refusal(state, LIAISON, 'event.arrive', { eventId: 'E-dept', position: [118, 24], accuracy: 5 }).code).toBe('forbidden');
  });

  it('returns an event with a reason: back to accepted, no assignee, dispatch limit again, a return entry naming the department', () => {
    const state = city();
    run(state, LIAISON, 'event.return', { eventId: 'E-dept', reason: '不属于本部门职责' });
    const e = state.get('events', 'E-dept')!;
    expect(e).toMatchObject({ status: 'accepted', step: 'dispatch', assignee: null, dispatchedAt: null, stepDeadline: '2026-11-30T10:00:00.000Z' });
    expect(timeline(state, 'E-dept').at(-1)).toMatchObject({ action: 'return', note: '市城市管理局 退回：不属于本部门职责' });
    // No longer theirs; a returned event cannot be returned again, nor one after feedback.
    expect(refusal(state, LIAISON, 'event.return', { eventId: 'E-dept', reason: 'again' }).code).toBe('forbidden');
    expect(refusal(state, DISPATCHER, 'event.return', { eventId: 'E-dept', reason: 'x' }).code).toBe('forbidden');
    const s2 = city();
    run(s2, LIAISON, 'event.sign', { eventId: 'E-dept' });
    run(s2, LIAISON, 'event.feedback', { eventId: 'E-dept', note: '好了' });
    const late = refusal(s2, LIAISON, 'event.return', { eventId: 'E-dept', reason: '晚了' });
    expect(late.code).toBe('conflict');
    expect(late.message).toMatch(/只能在反馈前退回/);
    expect(refusal(s2, LIAISON, 'event.return', { eventId: 'E-dept', reason: '' }).code).toBe('invalid');
  });

  it('requests an extension; one pending at a time; the dispatcher approves (deadline moves) or refuses; a liaison cannot decide', () => {
    const state = city();
    const asked = run(state, LIAISON, 'event.extension.request', { eventId: 'E-dept', minutes: 90, reason: '需采购材料' });
    const requestId = asked.result['requestId'] as string;
    expect(state.get('events', 'E-dept')!.extensionRequests).toMatchObject([{ id: requestId, minutes: 90, state: 'pending', departmentId: 'dept-urban', requestedBy: 'liaison-1' }]);
    expect(refusal(state, LIAISON, 'event.extension.request', { eventId: 'E-dept', minutes: 30, reason: '再要' }).message).toMatch(/已有待审批的延期申请/);
    expect(refusal(state, LIAISON, 'event.extension.decide', { eventId: 'E-dept', requestId, approve: true }).code).toBe('forbidden');
    expect(refusal(state, LIAISON, 'event.extension.request', { eventId: 'E-dept', minutes: 0, reason: 'x' }).code).toBe('invalid');
    run(state, DISPATCHER, 'event.extension.decide', { eventId: 'E-dept', requestId, approve: true });
    expect(state.get('events', 'E-dept')!.stepDeadline).toBe('2026-11-30T11:30:00.000Z');
    expect(refusal(state, DISPATCHER, 'event.extension.decide', { eventId: 'E-dept', requestId, approve: false }).code).toBe('conflict');
    expect(refusal(state, DISPATCHER, 'event.extension.decide', { eventId: 'E-dept', requestId: 'nope', approve: false }).code).toBe('invalid');
    const second = run(state, LIAISON, 'event.extension.request', { eventId: 'E-dept', minutes: 30, reason: '再等' }).result['requestId'] as string;
    run(state, { ...DISPATCHER, role: 'leader' }, 'event.extension.decide', { eventId: 'E-dept', requestId: second, approve: false, note: '不批' });
    expect(state.get('events', 'E-dept')!.stepDeadline).toBe('2026-11-30T11:30:00.000Z');
    expect(timeline(state, 'E-dept').map((r) => r.action).slice(-2)).toEqual(['extension-request', 'extension-refuse']);
    expect(refusal(state, LIAISON, 'event.extension.request', { eventId: 'E-police', minutes: 30, reason: 'x' }).code).toBe('forbidden');
  });

  it('a return cancels a pending extension request', () => {
    const state = city();
    run(state, LIAISON, 'event.extension.request', { eventId: 'E-dept', minutes: 60, reason: '等' });
    run(state, LIAISON, 'event.return', { eventId: 'E-dept', reason: '不归我们' });
    expect(state.get('events', 'E-dept')!.extensionRequests?.[0]?.state).toBe('cancelled');
  });
});
