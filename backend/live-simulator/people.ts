/**
 * The people and systems the simulator plays, and the way each of them acts: grid staff through the field app's
 * routes (backend/field/api.ts), department liaisons through the department page's (backend/department-api.ts),
 * the 12345 hotline, video-AI, sensor and 随手拍 platforms through the ingest API (backend/ingest/). The seats,
 * the duty chief and the leader are console users: the engine runs their commands itself (ApplyCommand).
 *
 * Two ways to be these people: live, over HTTP with accounts and API keys of their own (live-people.ts); and for the
 * history a fresh city is seeded with (no server yet, a virtual clock), `commandPeople` below: the same commands as
 * the same actors the routes would make, straight onto the in-memory state.
 */
import type { z } from 'zod';
import { EVENT_SOURCE_OF_KEY, type DEPARTMENT_ACTION_BODIES, type DepartmentAction, type FIELD_TASK_BODIES, type FieldAction, type FieldReport, type IngestReport, type Staff } from '../../protocol';
import type { Actor, CityState } from '../../domain';
import type { ApplyCommand } from './engine';

export type Outcome = { ok: true; result: Record<string, unknown> } | { ok: false; reason: string };

/** The source systems the simulator plays (each with an API key of its own when live). */
export const SIM_SOURCES = ['hotline', 'video-ai', 'sensor', 'citizen-app'] as const;
export type SimSource = (typeof SIM_SOURCES)[number];

/** Their names (the key's name: the timeline's actor of their reports). */
export const SIM_SOURCE_NAMES: Readonly<Record<SimSource, string>> = {
  hotline: '12345热线平台（模拟）',
  'video-ai': '视频AI平台（模拟）',
  sensor: '物联感知平台（模拟）',
  'citizen-app': '随手拍平台（模拟）',
};

/** Every account the simulator makes starts with this (and no password: nobody signs in as one). */
export const SIM_ACCOUNT_PREFIX = 'sim-';
/** The field account a simulated grid staff member acts as. */
export const simStaffUserId = (staffId: string): string => `${SIM_ACCOUNT_PREFIX}staff-${staffId}`;
/** The liaison account a simulated department acts as. */
export const simLiaisonUserId = (departmentId: string): string => `${SIM_ACCOUNT_PREFIX}dept-${departmentId}`;
/** The simulated liaisons' name (the department page's actor: `${name}（${department}）`). */
export const SIM_LIAISON_NAME = '模拟联络员';

export type FieldReportBody = Omit<z.input<typeof FieldReport>, 'clientId' | 'attachments'>;
export type FieldActionBody<A extends FieldAction> = Omit<z.input<(typeof FIELD_TASK_BODIES)[A]>, 'clientId'>;
export type DepartmentActionBody<A extends DepartmentAction> = Omit<z.input<(typeof DEPARTMENT_ACTION_BODIES)[A]>, 'clientId'>;
export type SourceReportBody = Omit<IngestReport, 'sourceId' | 'attachments' | 'occurredAt'>;

export interface SimPeople {
  /** Whether the simulator may act as this staff member (false: a real account of theirs holds the staff member). */
  plays(staffId: string): boolean;
  /** 一键上报 from the staff member's phone. */
  fieldReport(staff: Staff, report: FieldReportBody, at: number): Promise<Outcome>;
  /** 签收 / 到场 / 处置反馈 / 申请协同 on a task of theirs. */
  fieldAction<A extends FieldAction>(staff: Staff, eventId: string, action: A, body: FieldActionBody<A>, at: number): Promise<Outcome>;
  /** 签收 / 处置反馈 / 退回 / 申请延期 by the department's liaison. */
  departmentAction<A extends DepartmentAction>(departmentId: string, eventId: string, action: A, body: DepartmentActionBody<A>, at: number): Promise<Outcome>;
  /** A source system's report through the ingest API. */
  sourceReport(source: SimSource, report: SourceReportBody, at: number): Promise<Outcome>;
}

/** The commands of the field app's and the department page's actions (as their routes map them). */
export const FIELD_COMMAND: Readonly<Record<FieldAction, 'event.sign' | 'event.arrive' | 'event.feedback' | 'event.cohandle.request'>> = { sign: 'event.sign', arrive: 'event.arrive', feedback: 'event.feedback', cohandle: 'event.cohandle.request' };
export const DEPARTMENT_COMMAND: Readonly<Record<DepartmentAction, 'event.sign' | 'event.feedback' | 'event.return' | 'event.extension.request'>> = { sign: 'event.sign', feedback: 'event.feedback', return: 'event.return', extension: 'event.extension.request' };

/**
 * The people as commands on a state (the history backfill): the actors the routes would run them as — the staff
 * member's field account (role field, their staff id, their district), the department's liaison (role liaison), the
 * source's key (`api:…`, role system) — and the payloads the routes would build.
 */
export function commandPeople(state: CityState, apply: ApplyCommand): SimPeople {
  const staffActor = (staff: Staff): Actor => ({ id: simStaffUserId(staff.id), name: staff.name, role: 'field', districtScope: [staff.districtId], staffId: staff.id });
  const liaison = (departmentId: string): Actor => {
    const name = state.get('departments', departmentId)?.name ?? departmentId;
    return { id: simLiaisonUserId(departmentId), name: `${SIM_LIAISON_NAME}（${name}）`, role: 'liaison', districtScope: null, departmentId };
  };
  return {
    plays: () => true,
    fieldReport: (staff, r, at) =>
      apply(staffActor(staff), 'event.report', { source: 'grid-app', category: r.category, severity: r.severity ?? 2, title: r.title ?? r.category, description: r.description, location: r.location, accuracy: r.accuracy, ...(r.address ? { address: r.address } : {}), reporter: { name: staff.name, phone: '' } }, at),
    // The action picks the command and its body together (the routes' own tables): TypeScript cannot follow the pair.
    fieldAction: (staff, eventId, action, body, at) => apply(staffActor(staff), FIELD_COMMAND[action], { eventId, ...body } as never, at),
    departmentAction: (departmentId, eventId, action, body, at) => apply(liaison(departmentId), DEPARTMENT_COMMAND[action], { eventId, ...body } as never, at),
    sourceReport: (source, r, at) =>
      apply(
        { id: `api:${SIM_ACCOUNT_PREFIX}${source}`, name: SIM_SOURCE_NAMES[source], role: 'system', districtScope: null },
        'event.report',
        {
          source: EVENT_SOURCE_OF_KEY[source],
          category: r.category,
          severity: r.severity ?? 2,
          title: r.title,
          description: r.description,
          location: r.location ? [r.location.lon, r.location.lat] : [0, 0],
          ...(r.address !== undefined ? { address: r.address } : {}),
          ...(r.reporter ? { reporter: r.reporter } : {}),
        },
        at,
      ),
  };
}
