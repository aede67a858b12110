/**
 * The domain model carried by wire protocol v1: the administrative hierarchy and grids, staff, departments and
 * the responsibility list, cameras, events with their five-step loop, places, and the collections a client holds
 * (the command room's level, plans and hand-overs are in duty.ts, the KPIs in kpi.ts).
 * Fields holding personal data are listed in PRIVATE_FIELDS so demo screens can mask them.
 */
import { z } from 'zod';
import { AttachmentRef } from './attachments';
import { TimelineCall } from './calls';
import { EventSource, IsoTime, LonLat, Severity } from './primitives';
import { Alarm, CommandLevelState, DutyHandover, LevelProfile } from './duty';
import { KpiSnapshot } from './kpi';
import { Plan } from './plans';

export { EventSource, IsoTime, LonLat, Severity } from './primitives';

/** A closed ring (first point not repeated). */
export const Ring = z.array(LonLat).min(3).max(10_000);

export const AdminLevel = z.enum(['city', 'district', 'street', 'community']);
export type AdminLevel = z.infer<typeof AdminLevel>;

export const AdminUnit = z.object({
  id: z.string(),
  level: AdminLevel,
  code: z.string().regex(/^\d{4,12}$/),
  name: z.string(),
  parentId: z.string().nullable(),
  polygon: Ring,
  center: LonLat,
});
export type AdminUnit = z.infer<typeof AdminUnit>;

export const Grid = z.object({
  id: z.string(),
  /** 网格编码: fixed 15-digit code (city 4 + district 2 + street 3 + community 3 + grid 3). */
  code: z.string().regex(/^\d{15}$/),
  name: z.string(),
  communityId: z.string(),
  streetId: z.string(),
  districtId: z.string(),
  polygon: Ring,
  center: LonLat,
  households: z.number().int().nonnegative(),
  population: z.number().int().nonnegative(),
});
export type Grid = z.infer<typeof Grid>;

export const StaffRole = z.enum(['grid-leader', 'full-time', 'part-time', 'cadre']); // 网格长 / 专职 / 兼职 / 下沉干部 (called to their grid by a level)
export const StaffStatus = z.enum(['patrolling', 'handling', 'idle', 'offline']);
export type StaffStatus = z.infer<typeof StaffStatus>;

export const Staff = z.object({
  id: z.string(),
  name: z.string(),
  /** Private: masked on demo screens. */
  phone: z.string(),
  role: StaffRole,
  gridId: z.string(),
  districtId: z.string(),
  status: StaffStatus,
  position: LonLat.nullable(),
  /** SIP user part for calls (音视频调度). */
  sipUser: z.string(),
  /** Open events currently assigned to this person (current load). */
  openTasks: z.number().int().nonnegative(),
  updatedAt: IsoTime,
});
export type Staff = z.infer<typeof Staff>;

export const Department = z.object({
  id: z.string(),
  code: z.string(),
  name: z.string(),
  /** The department's liaison (联络人) console account, when the import named one. */
  liaison: z.string().optional(),
});
export type Department = z.infer<typeof Department>;

export const EventStep = z.enum(['report', 'dispatch', 'handle', 'followup', 'close']); // the five steps
export type EventStep = z.infer<typeof EventStep>;

/** Time limits per step in minutes (时限). */
export const StepLimits = z.object({
  report: z.number().int().positive(), // to accept (受理)
  dispatch: z.number().int().positive(), // to dispatch and be signed for
  handle: z.number().int().positive(), // to handle
  followup: z.number().int().positive(), // to follow up with the citizen
  close: z.number().int().positive(), // to evaluate and close
});
export type StepLimits = z.infer<typeof StepLimits>;

/** 权责清单: one row per event category. */
export const ResponsibilityRule = z.object({
  category: z.string(),
  categoryName: z.string(),
  departmentId: z.string(),
  limits: StepLimits,
  /** Highest level expected to solve it without escalation. */
  handlingLevel: z.enum(['grid', 'street', 'district', 'city']),
});
export type ResponsibilityRule = z.infer<typeof ResponsibilityRule>;

export const StreamProtocol = z.enum(['webrtc', 'mpegts', 'flv', 'hls']);
export const CameraStream = z.object({
  protocol: StreamProtocol,
  url: z.string(),
  codec: z.enum(['h264', 'h265']),
  /**
   * WebRTC only: WHEP as standardised (the player offers: ZLMediaKit, MediaMTX, Janus 1.2+), or the server
   * offers and the player answers with PATCH (draft-murillo-whep-01; Janus 1.1's streaming plugin, which the
   * reference backend fronts). Default 'client'.
   */
  offer: z.enum(['client', 'server']).optional(),
});
export type CameraStream = z.infer<typeof CameraStream>;

/**
 * Where a camera's recordings are played from (复盘回放), a URL template with {cameraId} {from} {to} (ISO 8601)
 * {fromMs} {toMs} (epoch ms) {fromUnix} {toUnix} (s): `hls-range` an HLS VOD playlist of the range (the reference
 * backend's own `/recordings/…/index.m3u8`; a platform's), `mp4-range` an MP4 of the range, `gb28181-http` a
 * GB/T 28181 platform's HTTP 回放 API answering JSON with the URL to play.
 */
export const CameraPlayback = z.object({
  kind: z.enum(['hls-range', 'mp4-range', 'gb28181-http']),
  urlTemplate: z.string().max(1000),
  codec: z.enum(['h264', 'h265']).optional(),
});
export type CameraPlayback = z.infer<typeof CameraPlayback>;

export const Camera = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['tianwang', 'xueliang']), // 天网 (urban) / 雪亮 (rural)
  position: LonLat,
  /** Degrees clockwise from north. */
  heading: z.number().min(0).max(360),
  fov: z.number().min(1).max(360),
  gridId: z.string(),
  districtId: z.string(),
  online: z.boolean(),
  /** Stream URLs per protocol, best first; empty until the video platform provides them. */
  streams: z.array(CameraStream),
  /** Its recordings, when kept (absent: none; older hubs drop the key). */
  playback: CameraPlayback.optional(),
});
export type Camera = z.infer<typeof Camera>;

export const ResourceKind = z.enum(['police-station', 'intercom', 'sensor']);
export const Resource = z.object({
  id: z.string(),
  kind: ResourceKind,
  name: z.string(),
  position: LonLat,
  gridId: z.string(),
  districtId: z.string(),
  online: z.boolean(),
});
export type Resource = z.infer<typeof Resource>;

/**
 * Where an event stands, and the step whose time limit runs: new (report: awaiting 受理); accepted and
 * dispatched (dispatch: awaiting 派遣, then the department's sign-for); handling (handle); handled (followup:
 * awaiting 回访); followed-up (close: awaiting 评价结案); closed. merged events leave the loop.
 */
export const EventStatus = z.enum(['new', 'accepted', 'dispatched', 'handling', 'handled', 'followed-up', 'closed', 'merged']);
export type EventStatus = z.infer<typeof EventStatus>;

export const STEP_OF_STATUS: Record<EventStatus, EventStep> = {
  new: 'report',
  accepted: 'dispatch',
  dispatched: 'dispatch',
  handling: 'handle',
  handled: 'followup',
  'followed-up': 'close',
  closed: 'close',
  merged: 'close',
};

export const EscalationLevel = z.enum(['grid', 'street', 'district', 'city']);
export type EscalationLevel = z.infer<typeof EscalationLevel>;
export const Satisfaction = z.enum(['satisfied', 'basic', 'unsatisfied']); // 满意 / 基本满意 / 不满意

export const TimelineEntry = z.object({
  at: IsoTime,
  /** User id, or "sim:<who>" for simulated departments and staff. */
  actor: z.string(),
  actorName: z.string(),
  action: z.string(),
  note: z.string().optional(),
  /** What a feedback (处置反馈) attached: photos, video, voice notes. */
  attachments: z.array(AttachmentRef).optional(),
  /** Where the actor was (到场 'arrive': the phone's position, WGS84) and how sure (metres). */
  position: LonLat.optional(),
  accuracy: z.number().nonnegative().optional(),
  /** A call about the event (action 'call', command call.log): shown in the reader's language, one per call id. */
  call: TimelineCall.optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

/**
 * 处置记录: one entry of an event's history, as a record of its own (collection `timeline`). An event's history
 * can grow long; its own record must not (every change to it travels whole), so each entry is appended once as
 * its own small record. `index` orders the entries of one event (0 = the report); id = `${eventId}.${index}`.
 */
export const TimelineRecord = TimelineEntry.extend({
  id: z.string(),
  eventId: z.string(),
  /** The event's district: area scopes apply to the history as to the event. */
  districtId: z.string(),
  index: z.number().int().nonnegative(),
});
export type TimelineRecord = z.infer<typeof TimelineRecord>;

export const CoHandlingRequest = z.object({
  id: z.string(),
  departmentId: z.string(),
  reason: z.string(),
  state: z.enum(['pending', 'approved', 'refused']),
  requestedAt: IsoTime,
});

/** 申请延期: a department or grid staff member asks for more time on the current step; the dispatcher decides. */
export const ExtensionRequest = z.object({
  id: z.string(),
  minutes: z.number().int().positive(),
  reason: z.string(),
  /** Who asked (user id) and for whom (their department, or null for a grid staff member). */
  requestedBy: z.string(),
  departmentId: z.string().nullable(),
  /** cancelled: the event was returned (退回) or moved on before a decision. */
  state: z.enum(['pending', 'approved', 'refused', 'cancelled']),
  requestedAt: IsoTime,
});
export type ExtensionRequest = z.infer<typeof ExtensionRequest>;

export const GovEvent = z.object({
  id: z.string(),
  source: EventSource,
  category: z.string(),
  severity: Severity,
  title: z.string(),
  description: z.string(),
  location: LonLat,
  /** The location's accuracy in metres when a phone reported it (GPS); absent otherwise. */
  locationAccuracy: z.number().nonnegative().optional(),
  address: z.string(),
  gridId: z.string(),
  districtId: z.string(),
  status: EventStatus,
  step: EventStep,
  reportedAt: IsoTime,
  /** Deadline of the current step; null when closed or merged. */
  stepDeadline: IsoTime.nullable(),
  /** Deadline of the whole loop (sum of the step limits from the report). */
  finalDeadline: IsoTime,
  assignee: z.object({ departmentId: z.string().nullable(), staffId: z.string().nullable() }).nullable(),
  coHandlers: z.array(z.string()),
  coHandlingRequests: z.array(CoHandlingRequest),
  /** 申请延期 requests (absent on events from before they existed: none). */
  extensionRequests: z.array(ExtensionRequest).optional(),
  supervised: z.boolean(),
  escalation: EscalationLevel,
  mergedInto: z.string().nullable(),
  /** Private: the reporting citizen (masked on demo screens). */
  reporter: z.object({ name: z.string(), phone: z.string() }).nullable(),
  evaluation: z.object({ satisfaction: Satisfaction, comment: z.string() }).nullable(),
  closedAt: IsoTime.nullable(),
  /** Times the step changed, for the dispatch-in-time and on-time KPIs. */
  acceptedAt: IsoTime.nullable(),
  dispatchedAt: IsoTime.nullable(),
  handledAt: IsoTime.nullable(),
  /** Entries of its history so far (the entries are records of the `timeline` collection). */
  timelineCount: z.number().int().nonnegative(),
  /** Who has acted on it (user ids, newest last, at most 50): "mine" without reading the whole history. */
  actors: z.array(z.string()).max(50),
  cameraId: z.string().nullable(),
  /** What the report attached (photos, video, voice notes); absent when none. */
  attachments: z.array(AttachmentRef).optional(),
  /**
   * 位置待核实: a source system's report whose address could not be placed (the ingest API): the event stands at the
   * city's centre and `address` is the text as sent; the dispatcher checks where it is. Absent: placed.
   */
  locationUnresolved: z.literal(true).optional(),
  /** Bumped on every change: the base for optimistic concurrency. */
  version: z.number().int().positive(),
});
export type GovEvent = z.infer<typeof GovEvent>;

/**
 * 地、物、组织: the city's places and organisations (schools, hospitals, markets, hazardous-goods sites, crowded
 * places, enterprises, social organisations, government offices) from its own register (`import places`).
 */
export const PlaceKind = z.enum(['school', 'hospital', 'market', 'hazardous', 'key-place', 'crowded', 'enterprise', 'organisation', 'government', 'other']);
export type PlaceKind = z.infer<typeof PlaceKind>;

export const Place = z.object({
  id: z.string(),
  /** The city's own code for the place (unique). */
  code: z.string().min(1).max(64),
  name: z.string(),
  kind: PlaceKind,
  address: z.string(),
  position: LonLat,
  gridId: z.string(),
  communityId: z.string(),
  streetId: z.string(),
  districtId: z.string(),
  /** Private: the contact person (masked on demo screens). */
  contact: z.object({ name: z.string(), phone: z.string() }).nullable(),
  note: z.string(),
});
export type Place = z.infer<typeof Place>;

/** Collections a client holds, each keyed by id. Order matters: a snapshot sends them in this order. */
export const COLLECTIONS = [
  'adminUnits',
  'grids',
  'departments',
  'rules',
  'staff',
  'cameras',
  'resources',
  'places',
  'events',
  'timeline',
  'alarms',
  'commandLevel',
  'levelProfiles',
  'handovers',
  'kpis',
  'plans',
] as const;
export type CollectionName = (typeof COLLECTIONS)[number];

export const collectionSchemas = {
  adminUnits: AdminUnit,
  grids: Grid,
  departments: Department,
  rules: ResponsibilityRule.extend({ id: z.string() }),
  staff: Staff,
  cameras: Camera,
  resources: Resource,
  places: Place,
  events: GovEvent,
  timeline: TimelineRecord,
  alarms: Alarm,
  commandLevel: CommandLevelState,
  levelProfiles: LevelProfile,
  handovers: DutyHandover,
  kpis: KpiSnapshot,
  plans: Plan,
} as const satisfies Record<CollectionName, z.ZodType>;

export interface CollectionTypes {
  adminUnits: AdminUnit;
  grids: Grid;
  departments: Department;
  rules: ResponsibilityRule & { id: string };
  staff: Staff;
  cameras: Camera;
  resources: Resource;
  places: Place;
  events: GovEvent;
  timeline: TimelineRecord;
  alarms: Alarm;
  commandLevel: CommandLevelState;
  levelProfiles: LevelProfile;
  handovers: DutyHandover;
  kpis: KpiSnapshot;
  plans: Plan;
}

/** Personal data per collection: demo mode masks these everywhere. */
export const PRIVATE_FIELDS: Partial<Record<CollectionName, readonly string[]>> = {
  staff: ['phone'],
  events: ['reporter'],
  places: ['contact'],
};
