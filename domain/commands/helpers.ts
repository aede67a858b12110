/**
 * What the handlers share: loading an event the actor may act on, evolving it (status, step, deadline,
 * history records, version), assignees and staff load. Kept apart from the handlers so each family reads short.
 */
import { STEP_OF_STATUS, type AttachmentRef, type Change, type EscalationLevel, type EventStatus, type EventStep, type GovEvent, type LonLat, type ResponsibilityRule, type Staff, type TimelineEntry, type TimelineRecord } from '../../protocol';
import { upsert } from '../state';
import { inAreaScope } from '../permissions';
import { MAX_ACTORS } from '../bounds';
import { levelProfileOf, stepLimitMinutes } from '../level-profiles';
import type { RefusalAction } from '../refusals';
import { CommandError, type CommandContext } from './context';

export const OPEN: ReadonlySet<EventStatus> = new Set(['new', 'accepted', 'dispatched', 'handling', 'handled', 'followed-up']);
export const ESCALATION_ORDER: EscalationLevel[] = ['grid', 'street', 'district', 'city'];
export const MINUTE = 60_000;

export const iso = (d: Date): string => d.toISOString();
export const plusMinutes = (d: Date, minutes: number): string => new Date(d.getTime() + minutes * MINUTE).toISOString();

export function ruleFor(ctx: CommandContext, category: string): ResponsibilityRule {
  const rule = ctx.state.get('rules', category);
  if (!rule) throw new CommandError('invalid', { key: 'category.unknown', params: { category: JSON.stringify(category) ?? String(category) } });
  return rule;
}

/** A new step's deadline: from now, the rule's limit for the step × the factor of the level in force (平急转换). */
export function stepDue(ctx: CommandContext, rule: ResponsibilityRule, step: EventStep): string {
  return plusMinutes(ctx.now, stepLimitMinutes(levelProfileOf(ctx.state), rule, step));
}

/** Loads an event the actor may act on, checking its optimistic version when given. */
export function eventFor(ctx: CommandContext, payload: { eventId: string; baseVersion?: number }): GovEvent {
  const event = ctx.state.get('events', payload.eventId);
  if (!event) throw new CommandError('invalid', { key: 'event.notFound', params: { id: payload.eventId } });
  if (!inAreaScope(ctx.actor.districtScope, event, ctx.state)) {
    throw new CommandError('forbidden', { key: 'event.outsideArea', params: { id: event.id, district: event.districtId, grid: event.gridId } });
  }
  if (payload.baseVersion !== undefined && payload.baseVersion !== event.version) {
    throw new CommandError('conflict', { key: 'event.changed', params: { id: event.id, from: payload.baseVersion, to: event.version } });
  }
  return event;
}

/**
 * The one check that a grid staff member (field) or a department liaison acts only on what is theirs: an event
 * assigned to their staff record, or to their department. Every handler they may run calls it, so the wire and the
 * HTTP routes cannot differ. Other roles (the console's, the simulator's 'system') pass.
 */
export function requireAssigned(ctx: CommandContext, event: GovEvent): void {
  const { actor } = ctx;
  if (actor.role === 'field') {
    if (!actor.staffId || event.assignee?.staffId !== actor.staffId) {
      throw new CommandError('forbidden', { key: 'event.notAssignedToYou', params: { id: event.id, staff: actor.staffId ?? '—' } });
    }
  } else if (actor.role === 'liaison') {
    if (!actor.departmentId || event.assignee?.departmentId !== actor.departmentId) {
      throw new CommandError('forbidden', { key: 'event.notAssignedToDepartment', params: { id: event.id, department: actor.departmentId ?? '—' } });
    }
  }
}

export function requireStatus(event: GovEvent, allowed: readonly EventStatus[], action: RefusalAction): void {
  if (!allowed.includes(event.status)) {
    throw new CommandError('conflict', { key: 'event.wrongStatus', params: { id: event.id, action, status: event.status, needs: allowed.join(',') } });
  }
}

export function entry(ctx: CommandContext, action: string, note?: string): TimelineEntry {
  return note === undefined ? { at: iso(ctx.now), actor: ctx.actor.id, actorName: ctx.actor.name, action } : { at: iso(ctx.now), actor: ctx.actor.id, actorName: ctx.actor.name, action, note };
}

/** An event's next version and the history entries it appends, each a `timeline` record of its own. */
export interface Evolved {
  event: GovEvent;
  entries: TimelineRecord[];
}

/** The id of an event's history entry: `${eventId}.${index}`, the index in four digits (ids sort in order). */
export function timelineId(eventId: string, index: number): string {
  return `${eventId}.${String(index).padStart(4, '0')}`;
}

export function timelineRecord(event: GovEvent, index: number, e: TimelineEntry): TimelineRecord {
  return { ...e, id: timelineId(event.id, index), eventId: event.id, districtId: event.districtId, index };
}

export const withActor = (actors: readonly string[], id: string): string[] => [...actors.filter((a) => a !== id), id].slice(-MAX_ACTORS);

/** The next version of an event: new status (with its step and deadline), appended history, bumped version. */
export function evolve(ctx: CommandContext, event: GovEvent, patch: Partial<GovEvent>, timeline: TimelineEntry[], stepDeadline?: string | null): Evolved {
  const status = patch.status ?? event.status;
  const next: GovEvent = {
    ...event,
    ...patch,
    status,
    step: STEP_OF_STATUS[status],
    stepDeadline: stepDeadline === undefined ? event.stepDeadline : stepDeadline,
    timelineCount: event.timelineCount + timeline.length,
    actors: withActor(event.actors, ctx.actor.id),
    version: event.version + 1,
  };
  return { event: next, entries: timeline.map((e, i) => timelineRecord(next, event.timelineCount + i, e)) };
}

/** A new event with the first entry of its history. */
export function born(ctx: CommandContext, event: GovEvent, first: TimelineEntry): Evolved {
  const made: GovEvent = { ...event, timelineCount: 1, actors: [ctx.actor.id] };
  return { event: made, entries: [timelineRecord(made, 0, first)] };
}

/** What evolving events commits: each event and its new history records. */
export function eventChanges(...evolved: Evolved[]): Change[] {
  return evolved.flatMap(({ event, entries }) => [upsert('events', event), ...entries.map((r) => upsert('timeline', r))]);
}

export function staffFor(ctx: CommandContext, staffId: string): Staff {
  const staff = ctx.state.get('staff', staffId);
  if (!staff) throw new CommandError('invalid', { key: 'staff.notFound', params: { id: staffId } });
  return staff;
}

export function departmentExists(ctx: CommandContext, departmentId: string): string {
  const department = ctx.state.get('departments', departmentId);
  if (!department) throw new CommandError('invalid', { key: 'department.notFound', params: { id: departmentId } });
  return department.name;
}

/** Staff load changes when assignments start or end. */
export function loadChange(ctx: CommandContext, staffId: string | null | undefined, delta: number): Change[] {
  if (!staffId) return [];
  const staff = ctx.state.get('staff', staffId);
  if (!staff) return [];
  return [upsert('staff', { ...staff, openTasks: Math.max(0, staff.openTasks + delta), updatedAt: iso(ctx.now) })];
}

export function resolveAssignee(ctx: CommandContext, event: GovEvent, p: { departmentId?: string; staffId?: string }): { departmentId: string | null; staffId: string | null } {
  if (p.departmentId) departmentExists(ctx, p.departmentId);
  if (p.staffId) {
    const staff = staffFor(ctx, p.staffId);
    if (staff.status === 'offline') throw new CommandError('conflict', { key: 'staff.offline', params: { id: staff.id, name: staff.name } });
    if (!inAreaScope(ctx.actor.districtScope, staff, ctx.state)) throw new CommandError('forbidden', { key: 'staff.outsideArea', params: { id: staff.id } });
  }
  return { departmentId: p.departmentId ?? (p.staffId ? null : ruleFor(ctx, event.category).departmentId), staffId: p.staffId ?? null };
}

export function newEvent(ctx: CommandContext, input: {
  source: GovEvent['source'];
  category: string;
  severity: number;
  title: string;
  description: string;
  location: LonLat;
  accuracy?: number;
  address?: string;
  reporter?: { name: string; phone: string };
  cameraId?: string;
}): GovEvent {
  const rule = ruleFor(ctx, input.category);
  const place = ctx.locate(input.location);
  if (!place) throw new CommandError('invalid', { key: 'location.outsideCity', params: { point: input.location.join(',') } });
  if (!inAreaScope(ctx.actor.districtScope, place, ctx.state)) throw new CommandError('forbidden', { key: 'location.outsideArea', params: { district: place.districtId, grid: place.gridId } });
  if (input.cameraId && !ctx.state.get('cameras', input.cameraId)) throw new CommandError('invalid', { key: 'camera.notFound', params: { id: input.cameraId } });
  const limits = rule.limits;
  const total = limits.report + limits.dispatch + limits.handle + limits.followup + limits.close;
  return {
    id: ctx.newId('event'),
    source: input.source,
    category: input.category,
    severity: input.severity,
    title: input.title,
    description: input.description,
    location: input.location,
    ...(input.accuracy !== undefined ? { locationAccuracy: Math.round(input.accuracy) } : {}),
    address: input.address ?? place.address,
    gridId: place.gridId,
    districtId: place.districtId,
    status: 'new',
    step: 'report',
    reportedAt: iso(ctx.now),
    stepDeadline: stepDue(ctx, rule, 'report'),
    finalDeadline: plusMinutes(ctx.now, total),
    assignee: null,
    coHandlers: [],
    coHandlingRequests: [],
    supervised: false,
    escalation: 'grid',
    mergedInto: null,
    reporter: input.reporter ?? null,
    evaluation: null,
    closedAt: null,
    acceptedAt: null,
    dispatchedAt: null,
    handledAt: null,
    timelineCount: 0,
    actors: [],
    cameraId: input.cameraId ?? null,
    version: 1,
  };
}

/**
 * The attachments a command names, as its record carries them (undefined: none named, or a guess without the
 * store); an id the store does not hold refuses the command.
 */
export function attachmentsOf(ctx: CommandContext, ids: readonly string[] | undefined): AttachmentRef[] | undefined {
  if (!ids || ids.length === 0 || !ctx.attachment) return undefined;
  return ids.map((id) => {
    const ref = ctx.attachment!(id);
    if (!ref) throw new CommandError('invalid', { key: 'attachment.notFound', params: { id: id.slice(0, 64) } });
    return ref;
  });
}
