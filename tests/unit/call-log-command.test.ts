/**
 * 通话记录 to the backend (call.log) in the domain: the call kept as the command's user made it (the payload's user
 * is only the SIP account), on the city's clock (never after now), placed where its event lies or where the staff
 * member called works; a call about an event appends one entry 'call' to its history with who, with whom, how it
 * ended and how long. Refused with a Chinese reason: an event that does not exist or lies outside the user's area,
 * a bad payload, a role that logs no calls. The hub's command id for a call stays within a command id's bounds.
 */
import { describe, expect, it } from 'vitest';
import { CityState, MAX_TIMELINE_ENTRIES, executeCommand, upsert, type Actor } from '../../domain';
import { callNoteZh } from '../../domain/commands/calls';
import { refusalOf } from '../../harness/commands';
import { callLogCommandId } from '../../hub/call-log';
import { COMMAND_ID_PATTERN, type AttachmentRef, type CallLogPayload, type CallRecord, type GovEvent, type Staff, type TimelineRecord } from '../../protocol';

const NOW = new Date('2026-11-30T08:00:00Z');
const DISPATCHER: Actor = { id: 'disp', name: '调度员 张敏', role: 'dispatcher', districtScope: null };
const D2_DUTY: Actor = { id: 'duty-d2', name: '值班员', role: 'duty', districtScope: ['d2'] };
const VIEWER: Actor = { id: 'demo', name: '演示', role: 'viewer', districtScope: null };

const event = (id: string, extra: Partial<GovEvent> = {}): GovEvent => ({
  id, source: 'hotline', category: 'road', severity: 2, title: id, description: '', location: [118, 24], address: '', gridId: 'g1', districtId: 'd1',
  status: 'dispatched', step: 'handle', reportedAt: '2026-11-30T07:00:00.000Z', stepDeadline: '2026-11-30T10:00:00.000Z', finalDeadline: '2026-12-05T00:00:00.000Z',
  assignee: null, coHandlers: [], coHandlingRequests: [], supervised: false, escalation: 'grid', mergedInto: null,
  reporter: null, evaluation: null, closedAt: null, acceptedAt: null, dispatchedAt: null, handledAt: null, timelineCount: 1, actors: ['x'], cameraId: null, version: 4, ...extra,
});
const staff: Staff = { id: 'S-7', name: '网格员 王五', phone: '', role: 'full-time', gridId: 'g2', districtId: 'd2', status: 'patrolling', position: [118.5, 24.5], sipUser: 'sip-s7', openTasks: 0, updatedAt: NOW.toISOString() };

function city(): CityState {
  const state = new CityState(undefined, 0);
  state.apply([
    upsert('events', event('E-1')),
    upsert('events', event('E-full', { timelineCount: MAX_TIMELINE_ENTRIES })),
    upsert('timeline', { id: 'E-1.0000', eventId: 'E-1', districtId: 'd1', index: 0, at: '2026-11-30T07:00:00.000Z', actor: 'x', actorName: 'x', action: 'report' }),
    upsert('staff', staff),
  ]);
  return state;
}

const call = (extra: Partial<CallLogPayload> = {}): CallLogPayload => ({
  id: 'call-lx4k2-1', direction: 'outgoing', peer: 'sip-s7', peerName: '王五', video: true,
  startedAt: '2026-11-30T07:58:00.000Z', answeredAt: '2026-11-30T07:58:05.000Z', endedAt: '2026-11-30T07:59:30.000Z',
  durationS: 85, result: 'answered', cause: '', eventId: 'E-1', groupId: null, userId: 'sip-console-3', cityAt: '2026-11-30T07:58:00.000Z', ...extra,
});
const VOICE: AttachmentRef = { id: 'a'.repeat(64), kind: 'audio', mime: 'audio/webm', size: 4000, name: 'call-lx4k2-1.webm', durationMs: 85_000, thumb: false };
function run(state: CityState, actor: Actor, payload: unknown): ReturnType<typeof executeCommand> {
  const attachment = (id: string): AttachmentRef | undefined => (id === VOICE.id ? VOICE : undefined);
  const outcome = executeCommand({ state, actor, now: NOW, newId: (kind) => `${kind}-1`, locate: () => null, attachment }, 'call.log', payload);
  state.apply(outcome.changes);
  return outcome;
}
const history = (state: CityState, id: string): TimelineRecord[] => [...state.collections.timeline.values()].filter((r) => r.eventId === id).sort((a, b) => a.index - b.index);

describe('call.log (通话记录)', () => {
  it('keeps the call as the command’s user made it, and appends one entry “call” to its event’s history', () => {
    const state = city();
    const outcome = run(state, DISPATCHER, call());
    const kept: CallRecord = {
      ...call(),
      at: '2026-11-30T07:58:00.000Z',
      userId: 'disp',
      userName: '调度员 张敏',
      sipUser: 'sip-console-3',
      recording: null,
      peerStaffId: 'S-7',
      districtId: 'd1',
      gridId: 'g1',
    };
    delete (kept as Partial<CallLogPayload>).cityAt;
    expect(outcome.calls).toEqual([kept]);
    expect(outcome.result).toEqual({ callId: 'call-lx4k2-1', at: '2026-11-30T07:58:00.000Z', eventId: 'E-1', timelineId: 'E-1.0001' });
    const entries = history(state, 'E-1');
    expect(entries).toHaveLength(2);
    expect(entries[1]).toEqual({
      id: 'E-1.0001', eventId: 'E-1', districtId: 'd1', index: 1,
      at: '2026-11-30T07:58:00.000Z', actor: 'disp', actorName: '调度员 张敏', action: 'call',
      note: '呼出视频通话 王五：已挂断，时长 1:25',
      call: { id: 'call-lx4k2-1', direction: 'outgoing', video: true, peerName: '王五', result: 'answered', durationS: 85 },
    });
    expect(state.get('events', 'E-1')).toMatchObject({ version: 5, timelineCount: 2, actors: ['x', 'disp'], status: 'dispatched' });
  });

  it('a call about no event changes no record and is placed where the staff member called works; a time after now is now', () => {
    const state = city();
    const outcome = run(state, D2_DUTY, call({ eventId: null, cityAt: '2026-11-30T09:00:00.000Z', direction: 'incoming', video: false, result: 'no-answer', durationS: 0 }));
    expect(outcome.changes).toEqual([]);
    expect(outcome.calls?.[0]).toMatchObject({ at: NOW.toISOString(), userId: 'duty-d2', peerStaffId: 'S-7', districtId: 'd2', gridId: 'g2' });
    // Without the console's reckoning of the city's clock: now. A peer who is no staff member: no place.
    expect(run(state, DISPATCHER, call({ eventId: null, peer: 'sip-other', cityAt: undefined })).calls?.[0]).toMatchObject({ at: NOW.toISOString(), peerStaffId: null, districtId: null, gridId: null });
  });

  it('keeps the recording of the console’s side with the call and on its history entry; an unknown recording refuses it', () => {
    const state = city();
    const outcome = run(state, DISPATCHER, call({ attachments: [VOICE.id] }));
    expect(outcome.calls?.[0]?.recording).toEqual(VOICE);
    expect(history(state, 'E-1')[1]?.attachments).toEqual([VOICE]);
    const unknown = refusalOf(() => run(state, DISPATCHER, call({ id: 'call-other', attachments: ['b'.repeat(64)] })));
    expect(unknown.reason.key).toBe('attachment.notFound');
    expect(refusalOf(() => run(state, DISPATCHER, call({ attachments: [VOICE.id, 'b'.repeat(64)] }))).code).toBe('invalid');
    expect(history(state, 'E-1')).toHaveLength(2);
  });

  it('an event whose history is full takes no entry; the call is still kept', () => {
    const state = city();
    const outcome = run(state, DISPATCHER, call({ eventId: 'E-full' }));
    expect(outcome.changes).toEqual([]);
    expect(outcome.calls).toHaveLength(1);
    expect(outcome.result).not.toHaveProperty('timelineId');
  });

  it('refuses, in Chinese and with nothing written: an event that does not exist, one outside the area, a bad payload, a role that logs no calls', () => {
    const state = city();
    const before = state.seq;
    const missing = refusalOf(() => run(state, DISPATCHER, call({ eventId: 'E-nope' })));
    expect(missing.code).toBe('invalid');
    expect(missing.reason).toEqual({ key: 'call.eventNotFound', params: { call: 'call-lx4k2-1', id: 'E-nope' } });
    expect(missing.message).toBe('通话 call-lx4k2-1 关联的事件 E-nope 不存在，通话记录未保存');
    const outside = refusalOf(() => run(state, D2_DUTY, call()));
    expect(outside.code).toBe('forbidden');
    expect(outside.message).toBe('通话 call-lx4k2-1 关联的事件 E-1 在 d1，不在您的辖区，通话记录未保存');
    const backwards = refusalOf(() => run(state, DISPATCHER, call({ endedAt: '2026-11-30T07:00:00.000Z' })));
    expect(backwards.code).toBe('invalid');
    expect(backwards.message).toContain('通话结束时间早于开始时间');
    expect(refusalOf(() => run(state, DISPATCHER, { ...call(), id: 'not a call id' })).code).toBe('invalid');
    expect(refusalOf(() => run(state, DISPATCHER, { ...call(), durationS: -1 })).code).toBe('invalid');
    const viewer = refusalOf(() => run(state, VIEWER, call()));
    expect(viewer.code).toBe('forbidden');
    expect(viewer.message).toContain('call.log');
    expect(state.seq).toBe(before);
    expect(history(state, 'E-1')).toHaveLength(1);
    expect(state.get('events', 'E-1')?.version).toBe(4);
  });

  it('says the call in one Chinese line, as the console’s zh-CN timeline does', () => {
    expect(callNoteZh({ direction: 'incoming', video: false, peerName: '', peer: 'sip-9', result: 'busy', durationS: 0 })).toBe('呼入语音通话 sip-9：对方忙');
    expect(callNoteZh({ direction: 'outgoing', video: false, peerName: '李四', peer: 'x', result: 'answered', durationS: 3600.4 })).toBe('呼出语音通话 李四：已挂断，时长 60:00');
  });

  it('sends a call under one command id made from its id, within a command id’s bounds', () => {
    expect(callLogCommandId('call-lx4k2-1')).toBe('call-log-call-lx4k2-1');
    const long = `call-${'a'.repeat(60)}`;
    expect(callLogCommandId(long)).toMatch(COMMAND_ID_PATTERN);
    expect(callLogCommandId(long)).toBe(callLogCommandId(long));
    expect(callLogCommandId(long)).not.toBe(callLogCommandId(`call-${'b'.repeat(60)}`));
  });
});
