/**
 * The department page's (部门页, issue 20) sign-in route at the backend: GET /department/api/me with the session
 * token of a 部门联络员 (liaison) account as bearer → who signed in, their department, and its queue: the open
 * events whose current assignee is that department, newest first, at most DEPARTMENT_QUEUE_MAX.
 */
import { z } from 'zod';
import { EventStatus, IsoTime } from './model';

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
      }),
    )
    .max(DEPARTMENT_QUEUE_MAX),
});
export type DepartmentMe = z.infer<typeof DepartmentMe>;
