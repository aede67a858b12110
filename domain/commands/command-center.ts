/**
 * The command center's own actions: the command level (平急转换) with its emergency plan, and the duty
 * hand-over between officers. Same rules as the loop's handlers: check, return changes, never mutate.
 */
import type { Change } from '../../protocol';
import { upsert } from '../state';
import { openPlan, planFor } from '../plans';
import { inAreaScope } from '../permissions';
import { isRinging } from '../alarms';
import { CommandError, type Handlers } from './context';
import { OPEN, iso, eventFor, entry, evolve, eventChanges } from './helpers';

export const commandCenterHandlers: Pick<Handlers, 'level.set' | 'plan.tick' | 'duty.handover' | 'duty.acknowledge'> = {
  'level.set'(ctx, p) {
    const current = ctx.state.get('commandLevel', 'current');
    if (current?.level === p.level) throw new CommandError('conflict', `the command level is already ${p.level}`);
    const incident = p.incidentId ? eventFor(ctx, { eventId: p.incidentId }) : null;
    if (incident && !OPEN.has(incident.status)) throw new CommandError('invalid', `event ${incident.id} is ${incident.status}; an emergency is raised for an open event`);
    const plan = planFor(ctx.state, incident?.category ?? null);
    const emergency = p.level === 'emergency';
    const next = {
      id: 'current' as const,
      level: p.level,
      since: iso(ctx.now),
      by: ctx.actor.name,
      reason: p.reason,
      incidentId: incident?.id ?? null,
      planTitle: emergency ? plan.title : '',
      planId: emergency ? plan.planId : null,
      plan: emergency ? openPlan(plan.steps) : [],
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
    // 交接班 never completes silently over alarms still ringing in the officer's area: each is handed over by name.
    const ringing = [...ctx.state.all('alarms')].filter((a) => isRinging(a) && inAreaScope(ctx.actor.districtScope, ctx.state.get('events', a.eventId) ?? a, ctx.state));
    const listed = new Set(p.alarmIds);
    const left = ringing.filter((a) => !listed.has(a.id));
    if (left.length > 0) {
      throw new CommandError('conflict', `还有 ${left.length} 条未确认告警没有列入交接：${left.slice(0, 5).map((a) => `${a.eventId} ${a.title}`).join('；')}${left.length > 5 ? ' 等' : ''} / ${left.length} unacknowledged alarm(s) not handed over`);
    }
    const handover = {
      id: ctx.newId('handover'),
      at: iso(ctx.now),
      fromUserId: ctx.actor.id,
      fromName: ctx.actor.name,
      toUserId: p.toUserId,
      notes: p.notes,
      openItems: p.openItems,
      alarms: ringing.map((a) => ({ alarmId: a.id, eventId: a.eventId, title: a.title, rung: a.rung })),
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
