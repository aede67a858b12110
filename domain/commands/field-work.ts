/**
 * What grid staff (网格员, the field app) and department liaisons (部门联络员, the department page) add to the loop:
 * 到场 (arrive, with the phone's position), 退回 (return: not ours, back to the dispatcher to re-dispatch), 申请延期
 * (an extension request on the current step) and the dispatcher's decision on it. Each acting on an assigned event
 * goes through requireAssigned, like 签收, 处置反馈 and 申请协同 in event-loop.ts.
 */
import type { CommandType } from '../../protocol';
import { MAX_EXTENSION_REQUESTS } from '../bounds';
import { CommandError, type Handlers } from './context';
import { entry, eventChanges, eventFor, evolve, iso, loadChange, MINUTE, stepDue, requireAssigned, requireStatus, ruleFor } from './helpers';

type FieldWorkCommand = Extract<CommandType, 'event.arrive' | 'event.return' | 'event.extension.request' | 'event.extension.decide'>;

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

export const fieldWorkHandlers: Pick<Handlers, FieldWorkCommand> = {
  'event.arrive'(ctx, p) {
    const event = eventFor(ctx, p);
    requireAssigned(ctx, event);
    if (event.status !== 'handling') {
      throw new CommandError('conflict', { key: 'field.arriveNotHandling', params: { id: event.id, status: event.status } });
    }
    const position: [number, number] = [round6(p.position[0]), round6(p.position[1])];
    const accuracy = Math.round(p.accuracy);
    const arrived = { ...entry(ctx, 'arrive', `${position[0]},${position[1]}（±${accuracy} 米）`), position, accuracy };
    const next = evolve(ctx, event, {}, [arrived]);
    return { changes: eventChanges(next), result: { eventId: event.id, version: next.event.version } };
  },

  'event.return'(ctx, p) {
    const event = eventFor(ctx, p);
    requireAssigned(ctx, event);
    if (event.status !== 'dispatched' && event.status !== 'handling') {
      throw new CommandError('conflict', { key: 'field.returnTooLate', params: { id: event.id, status: event.status } });
    }
    const rule = ruleFor(ctx, event.category);
    const departmentId = event.assignee?.departmentId ?? null;
    const who = departmentId ? (ctx.state.get('departments', departmentId)?.name ?? departmentId) : (event.assignee?.staffId ?? '');
    // Pending extension requests end with the assignment they were asked for.
    const extensionRequests = (event.extensionRequests ?? []).map((r) => (r.state === 'pending' ? { ...r, state: 'cancelled' as const } : r));
    const next = evolve(
      ctx,
      event,
      { status: 'accepted', assignee: null, dispatchedAt: null, ...(event.extensionRequests ? { extensionRequests } : {}) },
      [entry(ctx, 'return', `${who} 退回：${p.reason}`)],
      // Back to the dispatcher: the dispatch limit runs again from now.
      stepDue(ctx, rule, 'dispatch'),
    );
    return { changes: [...eventChanges(next), ...loadChange(ctx, event.assignee?.staffId, -1)], result: { eventId: event.id, version: next.event.version } };
  },

  'event.extension.request'(ctx, p) {
    const event = eventFor(ctx, p);
    requireAssigned(ctx, event);
    if (event.status !== 'dispatched' && event.status !== 'handling') {
      throw new CommandError('conflict', { key: 'extension.wrongStatus', params: { id: event.id, status: event.status } });
    }
    const requests = event.extensionRequests ?? [];
    if (requests.some((r) => r.state === 'pending')) throw new CommandError('conflict', { key: 'extension.alreadyPending', params: { id: event.id } });
    if (requests.length >= MAX_EXTENSION_REQUESTS) throw new CommandError('conflict', { key: 'extension.tooMany', params: { id: event.id, max: MAX_EXTENSION_REQUESTS } });
    const request = {
      id: ctx.newId('extension'),
      minutes: p.minutes,
      reason: p.reason,
      requestedBy: ctx.actor.id,
      departmentId: ctx.actor.role === 'liaison' ? (ctx.actor.departmentId ?? null) : (event.assignee?.departmentId ?? null),
      state: 'pending' as const,
      requestedAt: iso(ctx.now),
    };
    const next = evolve(ctx, event, { extensionRequests: [...requests, request] }, [entry(ctx, 'extension-request', `${p.minutes} 分钟：${p.reason}`)]);
    return { changes: eventChanges(next), result: { eventId: event.id, requestId: request.id, version: next.event.version } };
  },

  'event.extension.decide'(ctx, p) {
    const event = eventFor(ctx, p);
    const requests = event.extensionRequests ?? [];
    const request = requests.find((r) => r.id === p.requestId);
    if (!request) throw new CommandError('invalid', { key: 'extension.notFound', params: { id: event.id, request: p.requestId } });
    if (request.state !== 'pending') throw new CommandError('conflict', { key: 'extension.alreadyDecided', params: { request: p.requestId, state: request.state } });
    requireStatus(event, ['dispatched', 'handling'], 'extensionDecide');
    const decided = requests.map((r) => (r.id === p.requestId ? { ...r, state: p.approve ? ('approved' as const) : ('refused' as const) } : r));
    // Approved: the current step's deadline moves by the minutes asked for.
    const deadline = p.approve && event.stepDeadline ? new Date(Date.parse(event.stepDeadline) + request.minutes * MINUTE).toISOString() : event.stepDeadline;
    const note = p.note ?? `${request.minutes} 分钟`;
    const next = evolve(ctx, event, { extensionRequests: decided }, [entry(ctx, p.approve ? 'extension-approve' : 'extension-refuse', note)], deadline);
    return { changes: eventChanges(next), result: { eventId: event.id, stepDeadline: next.event.stepDeadline, version: next.event.version } };
  },
};
