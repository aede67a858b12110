/**
 * The five-step loop's handlers (发现报告 → 调度派遣 → 协调处置 → 跟踪回访 → 评价结案): each checks the event's
 * transition against the current state and returns the changes to commit; it never mutates the state.
 */
import type { CommandType, GovEvent } from '../../protocol';
import { MAX_COHANDLING_REQUESTS, MAX_TIMELINE_ENTRIES } from '../bounds';
import { CommandError, type Handlers } from './context';
import { attachmentsOf, OPEN, ESCALATION_ORDER, iso, stepDue, ruleFor, eventFor, requireStatus, entry, evolve, born, eventChanges, departmentExists, loadChange, resolveAssignee, newEvent, requireAssigned } from './helpers';

type EventCommand = Exclude<Extract<CommandType, `event.${string}`>, 'event.arrive' | 'event.return' | 'event.extension.request' | 'event.extension.decide' | 'event.locate'>;

export const eventLoopHandlers: Pick<Handlers, EventCommand> = {
  'event.report'(ctx, p) {
    const { attachments: ids, locationUnresolved, ...input } = p;
    const attachments = attachmentsOf(ctx, ids);
    const made = born(ctx, { ...newEvent(ctx, input), ...(attachments ? { attachments } : {}), ...(locationUnresolved ? { locationUnresolved } : {}) }, entry(ctx, 'report'));
    return { changes: eventChanges(made), result: { eventId: made.event.id } };
  },

  'event.accept'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['new'], 'accept');
    const rule = ruleFor(ctx, event.category);
    const next = evolve(ctx, event, { status: 'accepted', acceptedAt: iso(ctx.now) }, [entry(ctx, 'accept')], stepDue(ctx, rule, 'dispatch'));
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
      event.status === 'new' ? stepDue(ctx, rule, 'dispatch') : event.stepDeadline,
    );
    return { changes: [...eventChanges(next), ...loadChange(ctx, assignee.staffId, +1)], result: { eventId: event.id, version: next.event.version } };
  },

  'event.reassign'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['dispatched', 'handling'], 'reassign');
    const rule = ruleFor(ctx, event.category);
    const assignee = resolveAssignee(ctx, event, p);
    const next = evolve(ctx, event, { status: 'dispatched', assignee, dispatchedAt: iso(ctx.now) }, [entry(ctx, 'reassign', p.reason)], stepDue(ctx, rule, 'dispatch'));
    return {
      changes: [...eventChanges(next), ...loadChange(ctx, event.assignee?.staffId, -1), ...loadChange(ctx, assignee.staffId, +1)],
      result: { eventId: event.id, version: next.event.version },
    };
  },

  'event.sign'(ctx, p) {
    const event = eventFor(ctx, p);
    requireAssigned(ctx, event);
    requireStatus(event, ['dispatched'], 'sign');
    const rule = ruleFor(ctx, event.category);
    const next = evolve(ctx, event, { status: 'handling' }, [entry(ctx, 'sign')], stepDue(ctx, rule, 'handle'));
    return { changes: eventChanges(next), result: { eventId: event.id, version: next.event.version } };
  },

  'event.cohandle.request'(ctx, p) {
    const event = eventFor(ctx, p);
    requireAssigned(ctx, event);
    requireStatus(event, ['dispatched', 'handling'], 'cohandleRequest');
    const departmentName = departmentExists(ctx, p.departmentId);
    if (event.coHandlers.includes(p.departmentId) || event.assignee?.departmentId === p.departmentId) {
      throw new CommandError('conflict', { key: 'cohandle.alreadyHandles', params: { id: event.id, department: p.departmentId } });
    }
    if (event.coHandlingRequests.some((r) => r.departmentId === p.departmentId && r.state === 'pending')) {
      throw new CommandError('conflict', { key: 'cohandle.alreadyPending', params: { department: p.departmentId } });
    }
    if (event.coHandlingRequests.length >= MAX_COHANDLING_REQUESTS) {
      throw new CommandError('conflict', { key: 'cohandle.tooMany', params: { id: event.id, max: MAX_COHANDLING_REQUESTS } });
    }
    const request = { id: ctx.newId('cohandle'), departmentId: p.departmentId, reason: p.reason, state: 'pending' as const, requestedAt: iso(ctx.now) };
    const next = evolve(ctx, event, { coHandlingRequests: [...event.coHandlingRequests, request] }, [entry(ctx, 'cohandle-request', `${departmentName}：${p.reason}`)]);
    return { changes: eventChanges(next), result: { eventId: event.id, requestId: request.id, version: next.event.version } };
  },

  'event.cohandle.decide'(ctx, p) {
    const event = eventFor(ctx, p);
    const request = event.coHandlingRequests.find((r) => r.id === p.requestId);
    if (!request) throw new CommandError('invalid', { key: 'cohandle.notFound', params: { id: event.id, request: p.requestId } });
    if (request.state !== 'pending') throw new CommandError('conflict', { key: 'cohandle.alreadyDecided', params: { request: p.requestId, state: request.state } });
    requireStatus(event, ['dispatched', 'handling'], 'cohandleDecide');
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
    if (!up) throw new CommandError('conflict', { key: 'event.atCityLevel', params: { id: event.id } });
    const next = evolve(ctx, event, { escalation: up }, [entry(ctx, 'escalate', `${event.escalation} → ${up}: ${p.reason}`)]);
    return { changes: eventChanges(next), result: { eventId: event.id, escalation: up, version: next.event.version } };
  },

  'event.feedback'(ctx, p) {
    const event = eventFor(ctx, p);
    requireAssigned(ctx, event);
    requireStatus(event, ['handling'], 'feedback');
    const rule = ruleFor(ctx, event.category);
    const attachments = attachmentsOf(ctx, p.attachments);
    const feedback = { ...entry(ctx, 'feedback', p.note), ...(attachments ? { attachments } : {}) };
    const next = evolve(ctx, event, { status: 'handled', handledAt: iso(ctx.now) }, [feedback], stepDue(ctx, rule, 'followup'));
    return { changes: [...eventChanges(next), ...loadChange(ctx, event.assignee?.staffId, -1)], result: { eventId: event.id, version: next.event.version } };
  },

  'event.followup'(ctx, p) {
    const event = eventFor(ctx, p);
    requireStatus(event, ['handled'], 'followUp');
    const rule = ruleFor(ctx, event.category);
    const next = evolve(ctx, event, { status: 'followed-up' }, [entry(ctx, p.reached ? 'followup' : 'followup-unreached', p.note)], stepDue(ctx, rule, 'close'));
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
    const next = evolve(ctx, event, { status: 'handling', closedAt: null, evaluation: null, handledAt: null }, [entry(ctx, 'reopen', p.reason)], stepDue(ctx, rule, 'handle'));
    return { changes: [...eventChanges(next), ...loadChange(ctx, event.assignee?.staffId, +1)], result: { eventId: event.id, version: next.event.version } };
  },

  'event.merge'(ctx, p) {
    const event = eventFor(ctx, p);
    if (p.intoEventId === event.id) throw new CommandError('invalid', { key: 'event.mergeIntoItself', params: {} });
    requireStatus(event, [...OPEN], 'merge');
    const target = eventFor(ctx, { eventId: p.intoEventId });
    requireStatus(target, [...OPEN], 'mergeInto');
    const merged = evolve(ctx, event, { status: 'merged', mergedInto: target.id }, [entry(ctx, 'merge', `→ ${target.id}`)], null);
    const grown = evolve(ctx, target, {}, [entry(ctx, 'merged-in', event.id)]);
    const releases = event.status === 'dispatched' || event.status === 'handling' ? loadChange(ctx, event.assignee?.staffId, -1) : [];
    return { changes: [...eventChanges(merged, grown), ...releases], result: { eventId: event.id, intoEventId: target.id, version: merged.event.version } };
  },

  'event.comment'(ctx, p) {
    const event = eventFor(ctx, p);
    if (event.timelineCount >= MAX_TIMELINE_ENTRIES) {
      throw new CommandError('conflict', { key: 'event.commentLimit', params: { id: event.id, max: MAX_TIMELINE_ENTRIES } });
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
      stepDeadline: stepDue(ctx, rule, 'dispatch'),
    };
    return { changes: eventChanges(born(ctx, event, entry(ctx, 'assign', p.instructions))), result: { eventId: event.id } };
  },
};
