/**
 * Replay (复盘回放) on the console: one hub-wide session every window follows. While it is active the windows'
 * row subscriptions (collections, positions) read the city as it stood at the replay's time T, from the
 * backend's history (GET /history/changes, /history/batches, /history/positions); the outbox stays live, and the
 * hub refuses commands, calls, wall requests and view records. The topic `replay` tells every window where it is.
 */
import { z } from 'zod';
import { IsoTime } from '../primitives';

/** Speeds a replay plays at (× city time). */
export const REPLAY_SPEED_MAX = 60;
/** How far around an event a replay of it starts and ends by default (minutes). */
export const REPLAY_MARGIN_MIN_DEFAULT = 15;
/** Marks (timeline records) the topic carries at most. */
export const REPLAY_MARKS_MAX = 500;

/** Start a replay: a range of city time, or an event's (reportedAt − margin … closedAt + margin, or now). */
export const ReplayStartParams = z.union([
  z.object({ from: IsoTime, to: IsoTime }).strict().refine((r) => Date.parse(r.to) > Date.parse(r.from), { message: 'to must be after from', path: ['to'] }),
  z.object({ eventId: z.string().min(1).max(64), marginMin: z.number().int().min(0).max(24 * 60).optional() }).strict(),
]);
export type ReplayStartParams = z.infer<typeof ReplayStartParams>;

/** A moment of the range to jump to: a timeline record (处置记录) of an event then. */
export const ReplayMark = z.object({ at: IsoTime, eventId: z.string(), action: z.string(), actorName: z.string(), title: z.string().nullable() });
export type ReplayMark = z.infer<typeof ReplayMark>;

export const ReplayState = z.object({
  active: z.boolean(),
  from: IsoTime.nullable(),
  to: IsoTime.nullable(),
  /** The city time the windows show (T). */
  at: IsoTime.nullable(),
  /** The event the replay was started for, if any. */
  eventId: z.string().nullable(),
  playing: z.boolean(),
  speed: z.number().int().min(1).max(REPLAY_SPEED_MAX),
  /** The timeline records of the range, oldest first (at most REPLAY_MARKS_MAX). */
  marks: z.array(ReplayMark).max(REPLAY_MARKS_MAX),
  /** The last failure (a route's refusal code and its Chinese message); cleared by the next move that works. */
  error: z.object({ code: z.string().max(40), message: z.string().max(500) }).nullable(),
  /** Live alarms not acknowledged (the replica now, not at T): one click back to live. */
  liveAlarms: z.number().int().nonnegative(),
});
export type ReplayState = z.infer<typeof ReplayState>;

export const REPLAY_IDLE: ReplayState = { active: false, from: null, to: null, at: null, eventId: null, playing: false, speed: 1, marks: [], error: null, liveAlarms: 0 };

/** The message every refused command, call, wall request and view record gets during replay. */
export const REPLAY_REFUSAL = '回放中不能发送指令，请先返回实时 / no commands during replay: go back to live first';
