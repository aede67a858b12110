/**
 * The field client's (外勤端, 网格员) API at the backend, with the session token of a field account as bearer
 * (POST /auth/login {app: 'field'}). Every body and answer crosses the network: the backend validates the bodies
 * with these schemas (400 naming the field path), the page validates the answers.
 *
 *   GET  /field/api/me                              → FieldMe
 *   POST /field/api/reports                         FieldReport → 201 FieldReportAnswer (200 duplicate:true for a replayed clientId)
 *   POST /field/api/tasks/<eventId>/<action>        FIELD_TASK_BODIES[action] → 200 FieldActionAnswer
 *   POST /field/api/position                        FieldPosition → 200 {status} (429 Retry-After when under 2 s apart)
 *
 * Refusals are `{code, message}` (Chinese first, then English). A clientId is the phone's own uuid for one report or
 * one action: a retry from its offline queue with the same id runs nothing twice (the command id is derived from it).
 */
import { z } from 'zod';
import { SipAccount } from './wire-messages';
import { AttachmentIds } from './attachments';
import { EventStatus, IsoTime, LonLat, Severity } from './model';

/** What a grid staff member may do on a task now (the phone shows these buttons). */
export const FieldAction = z.enum(['sign', 'arrive', 'feedback', 'cohandle']);
export type FieldAction = z.infer<typeof FieldAction>;

/** The phone's own id for a report or an action (a UUID): retries with it are applied once. */
export const FieldClientId = z.uuid();

export const FieldTask = z.object({
  id: z.string(),
  title: z.string(),
  address: z.string(),
  status: z.string(),
  severity: z.number(),
  stepDeadline: z.string().nullable(),
  location: z.tuple([z.number(), z.number()]),
  /** Absent from older backends. */
  category: z.string().optional(),
  finalDeadline: z.string().optional(),
  supervised: z.boolean().optional(),
  actions: z.array(FieldAction).optional(),
});
export type FieldTask = z.infer<typeof FieldTask>;

export const FieldMe = z.object({
  staff: z.object({ id: z.string(), name: z.string(), gridId: z.string(), districtId: z.string(), sipUser: z.string(), simulated: z.boolean() }),
  /** Null: the backend has no SIP server (calls are off; reports and tasks work as usual). */
  sip: SipAccount.nullable(),
  /** Signed-in console users the staff member can call (指挥中心), dispatchers first. */
  center: z.array(z.object({ user: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), name: z.string() })),
  /** Open events assigned to this staff member, newest first. */
  tasks: z.array(FieldTask),
  /** The event categories the backend knows (the rules'): 一键上报 picks one. Absent from older backends. */
  categories: z.array(z.object({ id: z.string(), name: z.string() })).optional(),
  /** The departments a task's 申请协同 may name. Absent from older backends. */
  departments: z.array(z.object({ id: z.string(), name: z.string() })).optional(),
});
export type FieldMe = z.infer<typeof FieldMe>;

/** 一键上报 from the phone: where (WGS84, with the fix's accuracy in metres), what, and the photos uploaded before. */
export const FieldReport = z.object({
  clientId: FieldClientId,
  category: z.string().trim().min(1).max(64),
  severity: Severity.optional(),
  title: z.string().trim().min(1).max(200).optional(),
  description: z.string().trim().min(1).max(4000),
  location: LonLat,
  accuracy: z.number().nonnegative().max(100_000),
  address: z.string().trim().max(200).optional(),
  attachments: AttachmentIds.default([]),
});
export type FieldReport = z.infer<typeof FieldReport>;

export const FieldReportAnswer = z.object({ eventId: z.string(), duplicate: z.boolean() });
export type FieldReportAnswer = z.infer<typeof FieldReportAnswer>;

const TaskBase = { clientId: FieldClientId, baseVersion: z.number().int().positive().optional() };
/** The body of each task action. */
export const FIELD_TASK_BODIES = {
  sign: z.object({ ...TaskBase }),
  arrive: z.object({ ...TaskBase, position: LonLat, accuracy: z.number().nonnegative().max(100_000) }),
  feedback: z.object({ ...TaskBase, note: z.string().trim().min(1).max(4000), attachments: AttachmentIds.default([]) }),
  cohandle: z.object({ ...TaskBase, departmentId: z.string().trim().min(1).max(64), reason: z.string().trim().min(1).max(2000) }),
} as const;

/** The answer to an action (also the departments' page's): the event's status after it, and whether it was a replay. */
export const FieldActionAnswer = z.object({ eventId: z.string(), status: EventStatus, version: z.number().int(), duplicate: z.boolean() });
export type FieldActionAnswer = z.infer<typeof FieldActionAnswer>;

/** A position while on duty; onDuty false ends the duty (the staff member goes offline and off the map). */
export const FieldPosition = z.object({
  lon: z.number().min(-180).max(180),
  lat: z.number().min(-90).max(90),
  accuracy: z.number().nonnegative().max(100_000),
  /** When the phone took the fix. */
  at: IsoTime,
  onDuty: z.boolean(),
});
export type FieldPosition = z.infer<typeof FieldPosition>;

/** Positions from one phone are taken at most this often; closer ones get 429 with Retry-After. */
export const FIELD_POSITION_MIN_INTERVAL_MS = 2000;
