/**
 * 通话记录 to the backend (command `call.log`): a finished call of a console's softphone, kept by the backend
 * (its calls, for replay and the 复盘 report) on the city's clock, as made or taken by the command's user — the
 * payload's own user field is the console's word and is only kept as the SIP account. A call about an event
 * appends an entry 'call' to its history (who, with whom, how it ended, how long), once per call: the hub sends
 * it under the command id `call-log-<call id>`, which the backend applies once. An event that does not exist or
 * lies outside the user's area refuses the whole call (nothing is written). A recording of the console's side
 * (an uploaded attachment) is kept with the call and on its history entry, linked to its event.
 */
import type { CallLogPayload, CallRecord, CallResult, Staff, TimelineEntry } from '../../protocol';
import { inAreaScope } from '../permissions';
import { MAX_TIMELINE_ENTRIES } from '../bounds';
import { CommandError, type CommandContext, type Handlers } from './context';
import { attachmentsOf, entry, evolve, eventChanges, iso } from './helpers';

/** How a call ended, as the console's zh-CN catalog says it (calls.result). */
export const CALL_RESULT_ZH: Record<CallResult, string> = {
  answered: '已挂断',
  declined: '对方拒绝',
  busy: '对方忙',
  'no-answer': '无人接听',
  unreachable: '对方不在线',
  cancelled: '已取消',
  failed: '呼叫失败',
  transferred: '已转接',
};

function talkTime(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The call in one Chinese line, as the console's zh-CN timeline shows it (calls.timeline): the entry's note. */
export function callNoteZh(call: Pick<CallLogPayload, 'direction' | 'video' | 'peerName' | 'peer' | 'result' | 'durationS'>): string {
  const duration = call.durationS > 0 ? `，时长 ${talkTime(call.durationS)}` : '';
  return `${call.direction === 'outgoing' ? '呼出' : '呼入'}${call.video ? '视频' : '语音'}通话 ${call.peerName || call.peer}：${CALL_RESULT_ZH[call.result]}${duration}`;
}

function staffOfSip(ctx: CommandContext, sipUser: string): Staff | undefined {
  for (const staff of ctx.state.all('staff')) if (staff.sipUser === sipUser) return staff;
  return undefined;
}

export const callHandlers: Pick<Handlers, 'call.log'> = {
  'call.log'(ctx, p) {
    const { cityAt, userId: sipUser, attachments, ...call } = p;
    // The recording of the console's side, when one was uploaded (an id the store does not hold: refused).
    const recording = attachmentsOf(ctx, attachments)?.[0];
    // When it began on the city's clock (the console's reckoning), never after now; without it, now.
    const nowMs = ctx.now.getTime();
    const at = iso(new Date(cityAt ? Math.min(Date.parse(cityAt), nowMs) : nowMs));
    const peer = staffOfSip(ctx, p.peer);
    let place: { districtId: string; gridId: string } | null = peer ? { districtId: peer.districtId, gridId: peer.gridId } : null;
    let changes: ReturnType<typeof eventChanges> = [];
    let timelineId: string | null = null;
    if (p.eventId !== null) {
      const event = ctx.state.get('events', p.eventId);
      if (!event) throw new CommandError('invalid', { key: 'call.eventNotFound', params: { call: p.id, id: p.eventId } });
      if (!inAreaScope(ctx.actor.districtScope, event, ctx.state)) throw new CommandError('forbidden', { key: 'call.eventOutsideArea', params: { call: p.id, id: event.id, district: event.districtId } });
      place = { districtId: event.districtId, gridId: event.gridId };
      // A history at its bound takes no more entries (as comments); the call is still kept.
      if (event.timelineCount < MAX_TIMELINE_ENTRIES) {
        const record: TimelineEntry = {
          ...entry(ctx, 'call', callNoteZh(p)),
          at,
          ...(recording ? { attachments: [recording] } : {}),
          call: { id: p.id, direction: p.direction, video: p.video, peerName: p.peerName || p.peer, result: p.result, durationS: p.durationS },
        };
        const next = evolve(ctx, event, {}, [record]);
        changes = eventChanges(next);
        timelineId = next.entries[0]!.id;
      }
    }
    const kept: CallRecord = {
      ...call,
      at,
      userId: ctx.actor.id,
      userName: ctx.actor.name.slice(0, 100),
      sipUser,
      recording: recording ?? null,
      peerStaffId: peer?.id ?? null,
      districtId: place?.districtId ?? null,
      gridId: place?.gridId ?? null,
    };
    // The event in the result links the recording to it (who may read it: those who see the event).
    return { changes, result: { callId: p.id, at, ...(p.eventId !== null ? { eventId: p.eventId } : {}), ...(timelineId ? { timelineId } : {}) }, calls: [kept] };
  },
};
