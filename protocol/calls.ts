/**
 * Calls of 音视频调度: one finished call as the console logs it (its hub's call log, Hub API `logCall`), the
 * command `call.log` that takes it to the backend (through the hub's outbox: kept offline, applied once per
 * command id), the call as the backend keeps it (table `calls`, city time) and GET /calls, which serves it to
 * replay and the 复盘 report. An answer refused is a HistoryRefusal (protocol/history.ts).
 */
import { z } from 'zod';
import { IsoTime, QueryTime } from './primitives';
import { AttachmentId, AttachmentRef } from './attachments';

/** A SIP account name (the peer of a call). */
export const SipUser = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);

/** How a call ended (音视频调度 call log). */
export const CallResult = z.enum(['answered', 'declined', 'busy', 'no-answer', 'unreachable', 'cancelled', 'failed', 'transferred']);
export type CallResult = z.infer<typeof CallResult>;
export const CallDirection = z.enum(['outgoing', 'incoming']);
export type CallDirection = z.infer<typeof CallDirection>;
export const CallId = z.string().regex(/^call-[0-9a-z-]{1,60}$/);

const callFields = {
  id: CallId,
  direction: CallDirection,
  peer: SipUser,
  peerName: z.string().max(100),
  video: z.boolean(),
  startedAt: IsoTime,
  answeredAt: IsoTime.nullable(),
  endedAt: IsoTime,
  /** Talk time in seconds (answer to hang-up); 0 when never answered. */
  durationS: z.number().nonnegative().max(7 * 86_400),
  result: CallResult,
  /** SIP status or reason behind a failed result. */
  cause: z.string().max(300),
  /** The event the call was about, when made from one. */
  eventId: z.string().max(64).nullable(),
  /** Set for the calls of one group call (点对多 / 多方会商). */
  groupId: z.string().max(64).nullable(),
  /** Who made or took it at this console (their SIP account). */
  userId: z.string().max(64),
  /** The recording of this console's side (the setting recordCalls), uploaded before (POST /attachments): one id. */
  attachments: z.array(AttachmentId).max(1).optional(),
};
const endsAfterStart = (e: { startedAt: string; endedAt: string }): boolean => Date.parse(e.endedAt) >= Date.parse(e.startedAt);
const END_BEFORE_START = '通话结束时间早于开始时间 / a call cannot end before it started';

/** One call in the console's call log (kept in the hub cache; shown in the event's timeline when about one). Wall-clock times. */
export const CallLogEntry = z.object(callFields).strict().refine(endsAfterStart, END_BEFORE_START);
export type CallLogEntry = z.infer<typeof CallLogEntry>;

/**
 * The command `call.log`: the console's entry, and when the call began on the backend's clock as the console knew
 * it (`cityAt`; the city may run faster than real time). Its `userId` is not trusted: the backend keeps the
 * command's user.
 */
export const CallLogPayload = z
  .object({ ...callFields, cityAt: IsoTime.optional() })
  .refine(endsAfterStart, END_BEFORE_START);
export type CallLogPayload = z.infer<typeof CallLogPayload>;

/** A call as an event's history entry carries it (TimelineEntry.call): enough to show it in any language. */
export const TimelineCall = z.object({
  id: CallId,
  direction: CallDirection,
  video: z.boolean(),
  peerName: z.string().max(100),
  result: CallResult,
  durationS: z.number().nonnegative(),
});
export type TimelineCall = z.infer<typeof TimelineCall>;

/** A call as the backend keeps and serves it: the entry, on the city's clock, with who and where. */
const { attachments: _ids, ...recordFields } = callFields;
export const CallRecord = z.object({
  ...recordFields,
  /** The recording of the console's side, when one was made. */
  recording: AttachmentRef.nullable(),
  /** When the call began, city time (what replay and /calls go by). */
  at: IsoTime,
  /** The user who made or took it (the command's user); `sipUser`: their SIP account as the console said. */
  userId: z.string().max(64),
  userName: z.string().max(100),
  sipUser: z.string().max(64),
  /** The staff member called, when the peer is one. */
  peerStaffId: z.string().max(64).nullable(),
  /** Where the call belongs for area scopes: the event's place, else the staff member's; null: neither. */
  districtId: z.string().max(64).nullable(),
  gridId: z.string().max(64).nullable(),
});
export type CallRecord = z.infer<typeof CallRecord>;

export const CALLS_LIMIT_DEFAULT = 500;
export const CALLS_LIMIT_MAX = 2000;

/** GET /calls?from&to[&eventId][&limit]: the calls begun in [from, to) city time, oldest first. */
export const CallsQuery = z
  .object({
    from: QueryTime,
    to: QueryTime,
    eventId: z.string().min(1).max(64).optional(),
    limit: z.coerce.number().int().min(1).max(CALLS_LIMIT_MAX).optional(),
  })
  .strict()
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['to'] });
export type CallsQuery = z.infer<typeof CallsQuery>;

export const CallsAnswer = z.object({
  calls: z.array(CallRecord),
  /** More calls matched than the limit: the first `limit` are given. */
  truncated: z.boolean(),
});
export type CallsAnswer = z.infer<typeof CallsAnswer>;
