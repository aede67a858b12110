/**
 * Command handlers for the whole five-step loop and the command-center actions. Each handler checks the
 * transition against the current state and returns the changes to commit; it never mutates the state.
 * Illegal transitions are refused with a reason a dispatcher can read.
 */
import {
  STEP_OF_STATUS,
  commandPayloads,
  describeIssues,
  validate,
  type Change,
  type CollectionName,
  type CollectionTypes,
  type CommandPayload,
  type CommandType,
  type EscalationLevel,
  type EventStatus,
  type GovEvent,
  type LonLat,
  type ResponsibilityRule,
  type Staff,
  type TimelineEntry,
  type TimelineRecord,
  type UserRole,
  type WireErrorCode,
} from '../protocol';
import { upsert } from './state';
import { inScope, mayRun } from './permissions';
import { openPlan, planTemplateFor } from './plans';
import { MAX_COHANDLING_REQUESTS, MAX_TIMELINE_ENTRIES, MAX_ACTORS } from './bounds';

export interface Actor {
  id: string;
  name: string;
  role: UserRole | 'system';
  districtScope: string[] | null;
}

export class CommandError extends Error {
  constructor(
    readonly code: Extract<WireErrorCode, 'invalid' | 'forbidden' | 'conflict' | 'expired'>,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** What the handlers read: the server's state, or the hub's overlay of pending guesses on its cache. */
export interface StateReader {
  get<C extends CollectionName>(collection: C, id: string): CollectionTypes[C] | undefined;
}

export interface CommandContext {
  state: StateReader;
  actor: Actor;
  /** Simulated time (the backend's clock). */
  now: Date;
  /** New unique ids (event ids are human-readable). */
  newId(kind: 'event' | 'cohandle' | 'handover'): string;
  /** Grid and district of a location, or null outside the city. */
  locate(location: LonLat): { gridId: string; districtId: string; address: string } | null;
}

export interface CommandOutcome {
  changes: Change[];
  result: Record<string, unknown>;
}

const OPEN: ReadonlySet<EventStatus> = new Set(['new', 'accepted', 'dispatched', 'handling', 'handled', 'followed-up']);
const ESCALATION_ORDER: EscalationLevel[] = ['grid', 'street', 'district', 'city'];
const MINUTE = 60_000;

const iso = (d: Date): string => d.toISOString();
const plusMinutes = (d: Date, minutes: number): string => new Date(d.getTime() + minutes * MINUTE).toISOString();

/**
 * Validates, authorises and runs one command. Throws CommandError with the reason when refused. Returns the
 * validated payload too (unknown keys stripped, every field within its limits): what the audit keeps.
 */
export function executeCommand(ctx: CommandContext, type: string, rawPayload: unknown): CommandOutcome & { payload: Record<string, unknown> } {
  if (!Object.prototype.hasOwnProperty.call(commandPayloads, type)) throw new CommandError('invalid', `unknown command type ${JSON.stringify(type)}`);
  const commandType = type as CommandType;
  if (!mayRun(ctx.actor.role, commandType)) throw new CommandError('forbidden', `role ${ctx.actor.role} may not run ${commandType}`);
  const checked = validate(commandPayloads[commandType], rawPayload);
  if (!checked.ok) throw new CommandError('invalid', `invalid ${commandType} payload: ${describeIssues(checked.issues)}`);
  const handler = handlers[commandType] as (ctx: CommandContext, payload: unknown) => CommandOutcome;
  return { ...handler(ctx, checked.value), payload: checked.value as Record<string, unknown> };
}

type Handlers = { [T in CommandType]: (ctx: CommandContext, payload: CommandPayload<T>) => CommandOutcome };

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────────────

function ruleFor(ctx: CommandContext, category: string): ResponsibilityRule {
  const rule = ctx.state.get('rules', category);
  if (!rule) throw new CommandError('invalid', `unknown event category ${JSON.stringify(category)}`);
  return rule;
}

/** Loads an event the actor may act on, checking its optimistic version when given. */
function eventFor(ctx: CommandContext, payload: { eventId: string; baseVersion?: number }): GovEvent {
  const event = ctx.state.get('events', payload.eventId);
  if (!event) throw new CommandError('invalid', `event ${payload.eventId} does not exist`);
  if (!inScope(ctx.actor.districtScope, event.districtId)) {
    throw new CommandError('forbidden', `event ${event.id} is in district ${event.districtId}, outside your area`);
  }
  if (payload.baseVersion !== undefined && payload.baseVersion !== event.version) {
    throw new CommandError('conflict', `event ${event.id} changed since you saw it (version ${payload.baseVersion} → ${event.version}); review it and try again`);
  }
  return event;
}

function requireStatus(event: GovEvent, allowed: readonly EventStatus[], action: string): void {
  if (!allowed.includes(event.status)) {
    throw new CommandError('conflict', `cannot ${action} event ${event.id}: it is ${event.status} (needs ${allowed.join(' or ')})`);
  }
}

function entry(ctx: CommandContext, action: string, note?: string): TimelineEntry {
  return note === undefined ? { at: iso(ctx.now), actor: ctx.actor.id, actorName: ctx.actor.name, action } : { at: iso(ctx.now), actor: ctx.actor.id, actorName: ctx.actor.name, action, note };
}

/** An event's next version and the history entries it appends, each a `timeline` record of its own. */
interface Evolved {
  event: GovEvent;
  entries: TimelineRecord[];
}

/** The id of an event's history entry: `${eventId}.${index}`, the index in four digits (ids sort in order). */
export function timelineId(eventId: string, index: number): string {
  return `${eventId}.${String(index).padStart(4, '0')}`;
}

function timelineRecord(event: GovEvent, index: number, e: TimelineEntry): TimelineRecord {
  return { ...e, id: timelineId(event.id, index), eventId: event.id, districtId: event.districtId, index };
}

const withActor = (actors: readonly string[], id: string): string[] => [...actors.filter((a) => a !== id), id].slice(-MAX_ACTORS);

/** The next version of an event: new status (with its step and deadline), appended history, bumped version. */
function evolve(ctx: CommandContext, event: GovEvent, patch: Partial<GovEvent>, timeline: TimelineEntry[], stepDeadline?: string | null): Evolved {
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
function born(ctx: CommandContext, event: GovEvent, first: TimelineEntry): Evolved {
  const made: GovEvent = { ...event, timelineCount: 1, actors: [ctx.actor.id] };
  return { event: made, entries: [timelineRecord(made, 0, first)] };
}

/** What evolving events commits: each event and its new history records. */
function eventChanges(...evolved: Evolved[]): Change[] {
  return evolved.flatMap(({ event, entries }) => [upsert('events', event), ...entries.map((r) => upsert('timeline', r))]);
}

function staffFor(ctx: CommandContext, staffId: string): Staff {
  const staff = ctx.state.get('staff', staffId);
  if (!staff) throw new CommandError('invalid', `staff member ${staffId} does not exist`);
  return staff;
}

function departmentExists(ctx: CommandContext, departmentId: string): string {
  const department = ctx.state.get('departments', departmentId);
  if (!department) throw new CommandError('invalid', `department ${departmentId} does not exist`);
  return department.name;
}

/** Staff load changes when assignments start or end. */
function loadChange(ctx: CommandContext, staffId: string | null | undefined, delta: number): Change[] {
  if (!staffId) return [];
  const staff = ctx.state.get('staff', staffId);
  if (!staff) return [];
  return [upsert('staff', { ...staff, openTasks: Math.max(0, staff.openTasks + delta), updatedAt: iso(ctx.now) })];
}

function resolveAssignee(ctx: CommandContext, event: GovEvent, p: { departmentId?: string; staffId?: string }): { departmentId: string | null; staffId: string | null } {
  if (p.departmentId) departmentExists(ctx, p.departmentId);
  if (p.staffId) {
    const staff = staffFor(ctx, p.staffId);
    if (staff.status === 'offline') throw new CommandError('conflict', `${staff.name} (${staff.id}) is offline and cannot take the event; choose someone on duty`);
    if (!inScope(ctx.actor.districtScope, staff.districtId)) throw new CommandError('forbidden', `${staff.id} works outside your area`);
  }
  return { departmentId: p.departmentId ?? (p.staffId ? null : ruleFor(ctx, event.category).departmentId), staffId: p.staffId ?? null };
}

function newEvent(ctx: CommandContext, input: {
  source: GovEvent['source'];
  category: string;
  severity: number;
  title: string;
  description: string;
  location: LonLat;
  address?: string;
  reporter?: { name: string; phone: string };
  cameraId?: string;
}): GovEvent {
  const rule = ruleFor(ctx, input.category);
  const place = ctx.locate(input.location);
  if (!place) throw new CommandError('invalid', `location ${input.location.join(',')} is outside the city's grids`);
  if (!inScope(ctx.actor.districtScope, place.districtId)) throw new CommandError('forbidden', `location is in district ${place.districtId}, outside your area`);
  if (input.cameraId && !ctx.state.get('cameras', input.cameraId)) throw new CommandError('invalid', `camera ${input.cameraId} does not exist`);
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
    address: input.address ?? place.address,
    gridId: place.gridId,
    districtId: place.districtId,
    status: 'new',
    step: 'report',
    reportedAt: iso(ctx.now),
    stepDeadline: plusMinutes(ctx.now, limits.report),
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

// ── handlers ─────────────────────────────────────────────────────────────────────────────────────────────

const handlers: Handlers = {
  'event.report'(ctx, p) {
    const made = born(ctx, newEvent(ctx, p), entry(ctx, 'report'));
    return { changes: eventChanges(made), result: { eventId: made.event.id } };
  },

  'event.accept'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['new'], 'accept');
    const rule = ruleFor(ctx, event.category);
    const next = evolve(ctx, event, { status: 'accepted', acceptedAt: iso(ctx.now) }, [entry(ctx, 'accept')], plusMinutes(ctx.now, rule.limits.dispatch));
    return { changes: eventChanges(next), result: { eventId: event.id, version: next.event.version } };
  },

  'event.dispatch'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['new', 'accepted'], 'dispatch');
    const rule = ruleFor(ctx, event.category);
    const assignee = resolveAssignee(ctx, event, p);
    const timeline = event.status === 'new' ? [entry(ctx, 'accept'), entry(ctx, 'dispatch', p.note)] : [entry(ctx, 'dispatch', p.note)];
    const next = evolve(
      ctx,
      event,
      { status: 'dispatched', assignee, acceptedAt: event.acceptedAt ?? iso(ctx.now), dispatchedAt: iso(ctx.now) },
      timeline,
      // The sign-for must happen within the dispatch limit counted from acceptance.
      event.status === 'new' ? plusMinutes(ctx.now, rule.limits.dispatch) : event.stepDeadline,
    );
    return { changes: [...eventChanges(next), ...loadChange(ctx, assignee.staffId, +1)], result: { eventId: event.id, version: next.event.version } };
  },

  'event.reassign'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['dispatched', 'handling'], 'reassign');
    const rule = ruleFor(ctx, event.category);
    const assignee = resolveAssignee(ctx, event, p);
    const next = evolve(ctx, event, { status: 'dispatched', assignee, dispatchedAt: iso(ctx.now) }, [entry(ctx, 'reassign', p.reason)], plusMinutes(ctx.now, rule.limits.dispatch));
    return {
      changes: [...eventChanges(next), ...loadChange(ctx, event.assignee?.staffId, -1), ...loadChange(ctx, assignee.staffId, +1)],
      result: { eventId: event.id, version: next.event.version },
    };
  },

  'event.sign'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['dispatched'], 'sign for');
    const rule = ruleFor(ctx, event.category);
    const next = evolve(ctx, event, { status: 'handling' }, [entry(ctx, 'sign')], plusMinutes(ctx.now, rule.limits.handle));
    return { changes: eventChanges(next), result: { eventId: event.id, version: next.event.version } };
  },

  'event.cohandle.request'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['dispatched', 'handling'], 'request co-handling for');
    const departmentName = departmentExists(ctx, p.departmentId);
    if (event.coHandlers.includes(p.departmentId) || event.assignee?.departmentId === p.departmentId) {
      throw new CommandError('conflict', `${p.departmentId} already handles event ${event.id}`);
    }
    if (event.coHandlingRequests.some((r) => r.departmentId === p.departmentId && r.state === 'pending')) {
      throw new CommandError('conflict', `a co-handling request for ${p.departmentId} is already pending`);
    }
    if (event.coHandlingRequests.length >= MAX_COHANDLING_REQUESTS) {
      throw new CommandError('conflict', `event ${event.id} already has ${MAX_COHANDLING_REQUESTS} co-handling requests`);
    }
    const request = { id: ctx.newId('cohandle'), departmentId: p.departmentId, reason: p.reason, state: 'pending' as const, requestedAt: iso(ctx.now) };
    const next = evolve(ctx, event, { coHandlingRequests: [...event.coHandlingRequests, request] }, [entry(ctx, 'cohandle-request', `${departmentName}：${p.reason}`)]);
    return { changes: eventChanges(next), result: { eventId: event.id, requestId: request.id, version: next.event.version } };
  },

  'event.cohandle.decide'(ctx, p) {
    const event = eventFor(ctx, p);
    const request = event.coHandlingRequests.find((r) => r.id === p.requestId);
    if (!request) throw new CommandError('invalid', `no co-handling request ${p.requestId} on event ${event.id}`);
    if (request.state !== 'pending') throw new CommandError('conflict', `co-handling request ${p.requestId} was already ${request.state}`);
    requireStatus(event, ['dispatched', 'handling'], 'decide co-handling for');
    const requests = event.coHandlingRequests.map((r) => (r.id === p.requestId ? { ...r, state: p.approve ? ('approved' as const) : ('refused' as const) } : r));
    const coHandlers = p.approve ? [...event.coHandlers, request.departmentId] : event.coHandlers;
    const next = evolve(ctx, event, { coHandlingRequests: requests, coHandlers }, [entry(ctx, p.approve ? 'cohandle-approve' : 'cohandle-refuse', p.note ?? ctx.state.get('departments', request.departmentId)?.name ?? request.departmentId)]);
    return { changes: eventChanges(next), result: { eventId: event.id, version: next.event.version } };
  },

  'event.supervise'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, [...OPEN], 'supervise');
    const next = evolve(ctx, event, { supervised: true }, [entry(ctx, 'supervise', p.note)]);
    return { changes: eventChanges(next), result: { eventId: event.id, version: next.event.version } };
  },

  'event.escalate'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, [...OPEN], 'escalate');
    const level = ESCALATION_ORDER.indexOf(event.escalation);
    const up = ESCALATION_ORDER[level + 1];
    if (!up) throw new CommandError('conflict', `event ${event.id} is already handled at city level`);
    const next = evolve(ctx, event, { escalation: up }, [entry(ctx, 'escalate', `${event.escalation} → ${up}: ${p.reason}`)]);
    return { changes: eventChanges(next), result: { eventId: event.id, escalation: up, version: next.event.version } };
  },

  'event.feedback'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['handling'], 'record handling feedback for');
    const rule = ruleFor(ctx, event.category);
    const next = evolve(ctx, event, { status: 'handled', handledAt: iso(ctx.now) }, [entry(ctx, 'feedback', p.note)], plusMinutes(ctx.now, rule.limits.followup));
    return { changes: [...eventChanges(next), ...loadChange(ctx, event.assignee?.staffId, -1)], result: { eventId: event.id, version: next.event.version } };
  },

  'event.followup'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['handled'], 'follow up');
    const rule = ruleFor(ctx, event.category);
    const next = evolve(ctx, event, { status: 'followed-up' }, [entry(ctx, p.reached ? 'followup' : 'followup-unreached', p.note)], plusMinutes(ctx.now, rule.limits.close));
    return { changes: eventChanges(next), result: { eventId: event.id, version: next.event.version } };
  },

  'event.close'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['followed-up'], 'close');
    const next = evolve(ctx, event, { status: 'closed', closedAt: iso(ctx.now), evaluation: { satisfaction: p.satisfaction, comment: p.comment } }, [entry(ctx, 'close', `${p.satisfaction}${p.comment ? `: ${p.comment}` : ''}`)], null);
    return { changes: eventChanges(next), result: { eventId: event.id, version: next.event.version } };
  },

  'event.reopen'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['closed'], 'reopen');
    const rule = ruleFor(ctx, event.category);
    const next = evolve(ctx, event, { status: 'handling', closedAt: null, evaluation: null, handledAt: null }, [entry(ctx, 'reopen', p.reason)], plusMinutes(ctx.now, rule.limits.handle));
    return { changes: [...eventChanges(next), ...loadChange(ctx, event.assignee?.staffId, +1)], result: { eventId: event.id, version: next.event.version } };
  },

  'event.merge'(ctx, p) {
    const event = eventFor(ctx, p);
    if (p.intoEventId === event.id) throw new CommandError('invalid', 'an event cannot be merged into itself');
    requireStatus(event, [...OPEN], 'merge');
    const target = eventFor(ctx, { eventId: p.intoEventId });
    requireStatus(target, [...OPEN], 'merge into');
    const merged = evolve(ctx, event, { status: 'merged', mergedInto: target.id }, [entry(ctx, 'merge', `→ ${target.id}`)], null);
    const grown = evolve(ctx, target, {}, [entry(ctx, 'merged-in', event.id)]);
    const releases = event.status === 'dispatched' || event.status === 'handling' ? loadChange(ctx, event.assignee?.staffId, -1) : [];
    return { changes: [...eventChanges(merged, grown), ...releases], result: { eventId: event.id, intoEventId: target.id, version: merged.event.version } };
  },

  'event.comment'(ctx, p) {
    const event = eventFor(ctx, p);
    if (event.timelineCount >= MAX_TIMELINE_ENTRIES) {
      throw new CommandError('conflict', `event ${event.id} has reached its limit of ${MAX_TIMELINE_ENTRIES} history entries for comments; its steps can still be taken`);
    }
    const next = evolve(ctx, event, {}, [entry(ctx, 'comment', p.text)]);
    return { changes: eventChanges(next), result: { eventId: event.id, version: next.event.version } };
  },

  'event.assign'(ctx, p) {
    const base = newEvent(ctx, { source: 'leader', category: p.category, severity: p.severity, title: p.title, description: p.instructions, location: p.location });
    const rule = ruleFor(ctx, base.category);
    if (p.departmentId) departmentExists(ctx, p.departmentId);
    const event: GovEvent = {
      ...base,
      status: p.departmentId ? 'dispatched' : 'accepted',
      step: 'dispatch',
      acceptedAt: base.reportedAt,
      dispatchedAt: p.departmentId ? base.reportedAt : null,
      assignee: p.departmentId ? { departmentId: p.departmentId, staffId: null } : null,
      supervised: true, // 交办 items are supervised from the start
      stepDeadline: plusMinutes(ctx.now, rule.limits.dispatch),
    };
    return { changes: eventChanges(born(ctx, event, entry(ctx, 'assign', p.instructions))), result: { eventId: event.id } };
  },

  'level.set'(ctx, p) {
    const current = ctx.state.get('commandLevel', 'current');
    if (current?.level === p.level) throw new CommandError('conflict', `the command level is already ${p.level}`);
    const incident = p.incidentId ? eventFor(ctx, { eventId: p.incidentId }) : null;
    if (incident && !OPEN.has(incident.status)) throw new CommandError('invalid', `event ${incident.id} is ${incident.status}; an emergency is raised for an open event`);
    const template = planTemplateFor(incident?.category ?? null);
    const emergency = p.level === 'emergency';
    const next = {
      id: 'current' as const,
      level: p.level,
      since: iso(ctx.now),
      by: ctx.actor.name,
      reason: p.reason,
      incidentId: incident?.id ?? null,
      planTitle: emergency ? template.title : '',
      plan: emergency ? openPlan(template) : [],
    };
    const changes: Change[] = [upsert('commandLevel', next)];
    // The incident's own timeline records that the level was raised for it.
    if (incident) changes.push(...eventChanges(evolve(ctx, incident, {}, [entry(ctx, `level-${p.level}`, p.reason)])));
    return { changes, result: { level: p.level, previous: current?.level ?? null } };
  },

  'plan.tick'(ctx, p) {
    const current = ctx.state.get('commandLevel', 'current');
    if (!current || current.level !== 'emergency') throw new CommandError('conflict', 'no emergency plan is open (the command level is not emergency)');
    const item = current.plan.find((x) => x.id === p.itemId);
    if (!item) throw new CommandError('invalid', `plan step ${p.itemId} does not exist`);
    if ((item.doneAt !== null) === p.done) throw new CommandError('conflict', `plan step ${p.itemId} is already ${p.done ? 'done' : 'open'}`);
    const ticked = { ...item, doneAt: p.done ? iso(ctx.now) : null, doneBy: p.done ? ctx.actor.name : null };
    const next = { ...current, plan: current.plan.map((x) => (x.id === item.id ? ticked : x)) };
    return { changes: [upsert('commandLevel', next)], result: { itemId: item.id, done: p.done } };
  },

  'duty.handover'(ctx, p) {
    for (const item of p.openItems) {
      if (item.eventId && !ctx.state.get('events', item.eventId)) throw new CommandError('invalid', `open item names event ${item.eventId}, which does not exist`);
    }
    const handover = {
      id: ctx.newId('handover'),
      at: iso(ctx.now),
      fromUserId: ctx.actor.id,
      fromName: ctx.actor.name,
      toUserId: p.toUserId,
      notes: p.notes,
      openItems: p.openItems,
      acknowledgedAt: null,
      acknowledgedBy: null,
    };
    return { changes: [upsert('handovers', handover)], result: { handoverId: handover.id } };
  },

  'duty.acknowledge'(ctx, p) {
    const handover = ctx.state.get('handovers', p.handoverId);
    if (!handover) throw new CommandError('invalid', `hand-over ${p.handoverId} does not exist`);
    if (handover.acknowledgedAt) throw new CommandError('conflict', `hand-over ${p.handoverId} was already acknowledged by ${handover.acknowledgedBy}`);
    if (handover.fromUserId === ctx.actor.id) throw new CommandError('conflict', 'the incoming officer acknowledges a hand-over, not the one who wrote it');
    if (handover.toUserId && handover.toUserId !== ctx.actor.id) throw new CommandError('forbidden', `hand-over ${p.handoverId} is addressed to ${handover.toUserId}`);
    const next = { ...handover, acknowledgedAt: iso(ctx.now), acknowledgedBy: ctx.actor.name };
    return { changes: [upsert('handovers', next)], result: { handoverId: handover.id } };
  },
};
