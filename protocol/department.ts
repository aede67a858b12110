/**
 * The department page's (部门页, issue 20) routes at the backend, with the session token of a 部门联络员 (liaison)
 * account as bearer:
 *
 *   GET  /department/api/me                          → DepartmentMe: who signed in, their department, and its queue
 *        (the open events whose current assignee is that department, newest first, at most DEPARTMENT_QUEUE_MAX)
 *   GET  /department/api/events/<eventId>            → DepartmentEvent (an event of the department's: its detail)
 *   POST /department/api/events/<eventId>/<action>   DEPARTMENT_ACTION_BODIES[action] → FieldActionAnswer
 *
 * The queue holds the events it co-handles (协办) too, marked; only the lead department acts on an event.
 * Refusals are `{code, message}` (Chinese first); 400 names the field path of a bad body; 403 an event that is not
 * the department's. A clientId (a UUID of the page's) makes a retry of the same action run once.
 */
import { z } from 'zod';
import { AttachmentIds, AttachmentRef } from './attachments';
import { EventStatus, ExtensionRequest, IsoTime, LonLat, TimelineEntry } from './model';

export const DEPARTMENT_ME_PATH = '/department/api/me';
export const DEPARTMENT_QUEUE_MAX = 50;

export const DepartmentMe = z.object({
  user: z.object({ id: z.string(), name: z.string() }),
  department: z.object({ id: z.string(), name: z.string() }),
  queue: z
    .array(
      z.object({
        id: z.string(),
        title: z.string(),
        address: z.string(),
        status: EventStatus,
        severity: z.number(),
        reportedAt: IsoTime,
        stepDeadline: IsoTime.nullable(),
        districtId: z.string(),
        /** 督办: supervised by a leader. */
        supervised: z.boolean(),
        /** 协办: the department helps on an event another department leads (it reads it, the lead acts). */
        coHandling: z.boolean(),
        /** A 申请延期 of the event waits for the dispatcher. */
        extensionPending: z.boolean(),
      }),
    )
    .max(DEPARTMENT_QUEUE_MAX),
});
export type DepartmentMe = z.infer<typeof DepartmentMe>;

/** What a liaison may do on an event of their department now. */
export const DepartmentAction = z.enum(['sign', 'feedback', 'return', 'extension']);
export type DepartmentAction = z.infer<typeof DepartmentAction>;

const ActionBase = { clientId: z.uuid(), baseVersion: z.number().int().positive().optional() };
export const DEPARTMENT_ACTION_BODIES = {
  sign: z.object({ ...ActionBase }),
  feedback: z.object({ ...ActionBase, note: z.string().trim().min(1).max(4000), attachments: AttachmentIds.default([]) }),
  /** 退回 (wrong department): the reason is required. */
  return: z.object({ ...ActionBase, reason: z.string().trim().min(1).max(2000) }),
  /** 申请延期: more minutes for the current step (at most 30 days). */
  extension: z.object({ ...ActionBase, minutes: z.number().int().positive().max(30 * 24 * 60), reason: z.string().trim().min(1).max(2000) }),
} as const;

/** One event of the department's queue in detail: deadlines, 督办, attachments and its history. */
export const DepartmentEvent = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  category: z.string(),
  categoryName: z.string(),
  severity: z.number(),
  address: z.string(),
  location: LonLat,
  status: EventStatus,
  reportedAt: IsoTime,
  stepDeadline: IsoTime.nullable(),
  finalDeadline: IsoTime,
  /** 督办: the event is supervised by a leader. */
  supervised: z.boolean(),
  version: z.number().int(),
  attachments: z.array(AttachmentRef),
  extensionRequests: z.array(ExtensionRequest),
  /** 协办: the departments asked to help (pending, refused) or helping (approved), by name. */
  coHandling: z.array(z.object({ department: z.string(), state: z.enum(['pending', 'approved', 'refused']), reason: z.string() })),
  /** Whether the department leads the event (false: it co-handles, 协办). */
  lead: z.boolean(),
  actions: z.array(DepartmentAction),
  /** Its history, oldest first (at most the last 200 entries). */
  timeline: z.array(TimelineEntry),
});
export type DepartmentEvent = z.infer<typeof DepartmentEvent>;
