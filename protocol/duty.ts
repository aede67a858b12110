/**
 * The command room's state on the wire: the command level (日常 / 加强 / 应急) with its plan (预案), what each
 * level means (its profile: alarm thresholds and the escalation chain), the alarms (告警) the backend raises and
 * escalates and a person acknowledges, and the duty hand-over (交接班).
 */
import { z } from 'zod';
import { EventSource, IsoTime, Severity } from './primitives';
import { CommandLevel, UserRole } from './vocabulary';

/** One step of an emergency plan (预案): what to do, which department owns it, and whether it is done. */
export const PlanItem = z.object({
  id: z.string(),
  text: z.string(),
  ownerDepartmentId: z.string(),
  /** The resources the step calls on, from the plan record (teams, vehicles, supplies). */
  resources: z.array(z.object({ name: z.string(), quantity: z.number(), unit: z.string().default('') })).optional(),
  doneAt: IsoTime.nullable(),
  doneBy: z.string().nullable(),
});
export type PlanItem = z.infer<typeof PlanItem>;

export const CommandLevelState = z.object({
  id: z.literal('current'),
  level: CommandLevel,
  since: IsoTime,
  by: z.string(),
  reason: z.string(),
  /** The event the raised level is about (应急: what every wall shows first); null when none was named. */
  incidentId: z.string().nullable().default(null),
  /** The plan (预案) opened for the emergency, with owners and ticks; empty below the emergency level. */
  planTitle: z.string().default(''),
  /** The plan record (collection plans) the checklist was opened from; null when none (below 应急, or older states). */
  planId: z.string().nullable().optional(),
  plan: z.array(PlanItem).default([]),
  /** How many open events had their current step re-timed by the switch (the level's step limits). */
  retimed: z.number().int().nonnegative().optional(),
  /**
   * When the 下沉干部 were called while they still are (a level that calls them, kept across a switch between two
   * such levels: 加强→应急 sends nobody home); null or absent when the level in force does not call them.
   */
  cadresCalledSince: IsoTime.nullable().optional(),
});
export type CommandLevelState = z.infer<typeof CommandLevelState>;

export const DutyHandover = z.object({
  id: z.string(),
  at: IsoTime,
  fromUserId: z.string(),
  fromName: z.string(),
  toUserId: z.string().nullable(),
  notes: z.string(),
  openItems: z.array(z.object({ text: z.string(), eventId: z.string().nullable() })),
  /** The alarms still unacknowledged at the hand-over, each handed over by name (none may be left out silently). */
  alarms: z.array(z.object({ alarmId: z.string(), eventId: z.string(), title: z.string(), rung: z.number().int() })).default([]),
  acknowledgedAt: IsoTime.nullable(),
  acknowledgedBy: z.string().nullable(),
});
export type DutyHandover = z.infer<typeof DutyHandover>;

/**
 * Why an event alarms: it is serious (severity at or above the level's threshold), its step ran past its deadline
 * (once per step), someone put it under 督办, or a video-AI or sensor platform reported it at or above the level's
 * device threshold.
 */
export const AlarmKind = z.enum(['severe', 'overdue', 'supervised', 'device']);
export type AlarmKind = z.infer<typeof AlarmKind>;

export const AlarmReason = z.object({
  kind: AlarmKind,
  /** What makes the reason one of a kind on this event: the kind, or `overdue:<step>`. */
  key: z.string().max(40),
  at: IsoTime,
  detail: z.string().max(500),
});
export type AlarmReason = z.infer<typeof AlarmReason>;

/**
 * An event's alarm (one per open event at most; removed when the event closes or is merged). It rings from
 * `raisedAt` until someone acknowledges it; each new reason after an acknowledgement rings it again. Left ringing
 * past its rung's time limit it goes one rung up the level's chain (值班员 → 值班长 → 中心领导), once per rung.
 */
export const Alarm = z.object({
  id: z.string(),
  eventId: z.string(),
  /** The event's place when the alarm last changed (the area scopes read the event's own place first). */
  districtId: z.string(),
  gridId: z.string(),
  title: z.string(),
  severity: Severity,
  source: EventSource,
  cameraId: z.string().nullable(),
  /** When the event was reported (a video wall opens the camera of a fresh incident's alarm, not of an old one's). */
  reportedAt: IsoTime,
  reasons: z.array(AlarmReason).max(20),
  createdAt: IsoTime,
  /** When it last started ringing. */
  raisedAt: IsoTime,
  /** The rung of the chain it has reached (1: the first), and since when. */
  rung: z.number().int().min(1).max(5),
  rungAt: IsoTime,
  ackedAt: IsoTime.nullable(),
  ackedBy: z.string().nullable(),
  ackedById: z.string().nullable(),
  /** The console it was acknowledged at (the hub's name for itself). */
  ackedConsole: z.string().nullable(),
  /** What the person who acknowledged it wrote, if anything. */
  ackNote: z.string().nullable().default(null),
  version: z.number().int().positive(),
});
export type Alarm = z.infer<typeof Alarm>;

/** One rung of the escalation chain: who is called, how long they have to acknowledge, and how it sounds. */
export const AlarmRung = z.object({
  name: z.string().trim().min(1).max(40),
  roles: z.array(UserRole).min(1).max(8),
  /** Minutes to acknowledge before the next rung is called; null: the last rung (it rings until acknowledged). */
  ackWithinMinutes: z.number().positive().max(24 * 60).nullable(),
  /** 0–1 of the console's volume. */
  volume: z.number().min(0).max(1),
  /** The tone repeats this often while the alarm rings. */
  repeatSeconds: z.number().int().min(2).max(120),
});
export type AlarmRung = z.infer<typeof AlarmRung>;

export const AlarmPolicy = z.object({
  /** Events of this severity or more alarm when reported (or raised to it). */
  severeFrom: Severity,
  /** Video-AI and sensor reports of this severity or more alarm (device alarms). */
  deviceFrom: Severity,
  overdue: z.boolean(),
  supervised: z.boolean(),
  chain: z.array(AlarmRung).min(1).max(5),
});
export type AlarmPolicy = z.infer<typeof AlarmPolicy>;

/**
 * Each step's time limit at a level as a factor of the 权责清单's limit (1: as listed; 0.5: half the time). New steps
 * take rule × factor; switching the level re-times the current step of every open event.
 */
const StepFactor = z.number().min(0.1).max(2);
export const StepFactors = z.object({ report: StepFactor, dispatch: StepFactor, handle: StepFactor, followup: StepFactor, close: StepFactor });
export type StepFactors = z.infer<typeof StepFactors>;

/**
 * What the walls show first at a level: the map (the whole city, or the incident: flown to the 应急 incident, else
 * touring the incidents the center alarms for), the video wall (its tour, or the incidents' cameras: the 应急
 * incident's, else each alarm's camera as it rings, old incidents' too).
 */
export const WallsFirst = z.object({
  map: z.enum(['city', 'incident']),
  video: z.enum(['tour', 'incident-cameras']),
});
export type WallsFirst = z.infer<typeof WallsFirst>;

/** What a command level means, one record per level (absent: the built-in defaults, domain/level-profiles.ts). */
export const LevelProfile = z.object({
  id: CommandLevel,
  alarms: AlarmPolicy,
  /** Records stored before these fields existed read as the daily meaning (limits as listed, no 下沉干部). */
  stepFactors: StepFactors.default({ report: 1, dispatch: 1, handle: 1, followup: 1, close: 1 }),
  walls: WallsFirst.default({ map: 'city', video: 'tour' }),
  /** Whether the level calls the 下沉干部 (part-time cadres) to their pre-assigned grids. */
  callsCadres: z.boolean().default(false),
  updatedAt: IsoTime.nullable(),
  updatedBy: z.string().nullable(),
});
export type LevelProfile = z.infer<typeof LevelProfile>;
