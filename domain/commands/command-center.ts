/**
 * The command center's own actions: the command level (平急转换) with its emergency plan, and the duty
 * hand-over between officers. Same rules as the loop's handlers: check, return changes, never mutate.
 */
import type { Change, GovEvent, LevelProfile } from '../../protocol';
import { upsert } from '../state';
import { openPlan, planFor } from '../plans';
import { inAreaScope } from '../permissions';
import { isRinging } from '../alarms';
import { currentLevel, levelProfileOf } from '../level-profiles';
import { retimeOpenEvents } from '../level-timing';
import type { Refusal } from '../refusals';
import { CommandError, type Handlers } from './context';
import { OPEN, iso, eventFor, entry, evolve, eventChanges } from './helpers';

const STEPS = ['report', 'dispatch', 'handle', 'followup', 'close'] as const;

/**
 * What the payload's schema cannot say: a chain that climbs (each rung but the last has a time limit, the last none),
 * and 加强/应急 limits no looser than 1 nor than the 日常 profile's (`daily`: its factors) for any step.
 */
function profileProblem(p: Omit<LevelProfile, 'updatedAt' | 'updatedBy'>, daily: LevelProfile['stepFactors']): Refusal | null {
  const rungs = p.alarms.chain;
  for (const [i, rung] of rungs.entries()) {
    const last = i === rungs.length - 1;
    if (!last && rung.ackWithinMinutes === null) return { key: 'level.chainNeedsLimit', params: { rung: i + 1, name: rung.name } };
    if (last && rung.ackWithinMinutes !== null) return { key: 'level.chainLastHasLimit', params: { name: rung.name } };
  }
  for (const step of STEPS) {
    if (p.id === 'daily') continue;
    if (p.stepFactors[step] > 1) return { key: 'level.factorAboveOne', params: { step, factor: p.stepFactors[step] } };
    if (p.stepFactors[step] > daily[step]) return { key: 'level.factorAboveDaily', params: { step, factor: p.stepFactors[step], daily: daily[step] } };
  }
  return null;
}

export const commandCenterHandlers: Pick<Handlers, 'level.set' | 'level.profile.save' | 'plan.tick' | 'duty.handover' | 'duty.acknowledge'> = {
  'level.set'(ctx, p) {
    const current = ctx.state.get('commandLevel', 'current');
    if (current?.level === p.level) throw new CommandError('conflict', { key: 'level.alreadySet', params: { level: p.level } });
    const incident = p.incidentId ? eventFor(ctx, { eventId: p.incidentId }) : null;
    if (incident && !OPEN.has(incident.status)) throw new CommandError('invalid', { key: 'level.incidentEnded', params: { id: incident.id, status: incident.status } });
    const plan = planFor(ctx.state, incident?.category ?? null);
    const emergency = p.level === 'emergency';
    // The 下沉干部 stay called across a switch between two levels that both call them (when they were first called).
    const calls = levelProfileOf(ctx.state, p.level).callsCadres;
    const calledBefore = current && levelProfileOf(ctx.state, current.level).callsCadres ? (current.cadresCalledSince ?? current.since) : null;
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
      cadresCalledSince: calls ? (calledBefore ?? iso(ctx.now)) : null,
    };
    // Every open event's current step takes the new level's limits (back to daily: the listed ones again).
    const retimed = retimeOpenEvents(ctx.state, levelProfileOf(ctx.state, currentLevel(ctx.state)).stepFactors, levelProfileOf(ctx.state, p.level).stepFactors, ctx.now);
    const count = retimed.length;
    const changes: Change[] = [upsert('commandLevel', { ...next, retimed: count })];
    // The incident's own timeline records that the level was raised for it, with its re-timed deadline if any.
    const own = incident ? retimed.findIndex((c) => c.id === incident.id) : -1;
    const ownDeadline = own >= 0 ? (retimed.splice(own, 1)[0] as { data: GovEvent }).data.stepDeadline : undefined;
    changes.push(...retimed);
    if (incident) changes.push(...eventChanges(evolve(ctx, incident, {}, [entry(ctx, `level-${p.level}`, `${p.reason}（${count} 件在办事件按新时限重算）`)], ownDeadline)));
    return { changes, result: { level: p.level, previous: current?.level ?? null, retimed: count } };
  },

  'level.profile.save'(ctx, p) {
    if (ctx.actor.districtScope !== null) throw new CommandError('forbidden', { key: 'level.cityWide', params: { scope: ctx.actor.districtScope.join('、') } });
    const problem = profileProblem(p, levelProfileOf(ctx.state, 'daily').stepFactors);
    if (problem) throw new CommandError('invalid', problem);
    const before = levelProfileOf(ctx.state, p.id);
    const profile: LevelProfile = { ...p, updatedAt: iso(ctx.now), updatedBy: ctx.actor.name };
    // The level in force: its open events take the new limits at once, as a switch would.
    const retimed = currentLevel(ctx.state) === p.id ? retimeOpenEvents(ctx.state, before.stepFactors, p.stepFactors, ctx.now) : [];
    const level = ctx.state.get('commandLevel', 'current');
    // The level in force starts (or stops) calling the 下沉干部: they are called from now (or sent home).
    const inForce = level?.level === p.id;
    const calledSince = inForce && before.callsCadres !== p.callsCadres ? { cadresCalledSince: p.callsCadres ? iso(ctx.now) : null } : {};
    const noted = level && (retimed.length > 0 || 'cadresCalledSince' in calledSince) ? [upsert('commandLevel', { ...level, ...(retimed.length > 0 ? { retimed: retimed.length } : {}), ...calledSince })] : [];
    return { changes: [upsert('levelProfiles', profile), ...retimed, ...noted], result: { level: p.id, retimed: retimed.length } };
  },

  'plan.tick'(ctx, p) {
    const current = ctx.state.get('commandLevel', 'current');
    if (!current || current.level !== 'emergency') throw new CommandError('conflict', { key: 'emergency.notOpen', params: {} });
    const item = current.plan.find((x) => x.id === p.itemId);
    if (!item) throw new CommandError('invalid', { key: 'emergency.stepNotFound', params: { step: p.itemId } });
    if ((item.doneAt !== null) === p.done) throw new CommandError('conflict', { key: p.done ? 'emergency.stepAlreadyDone' : 'emergency.stepAlreadyOpen', params: { step: p.itemId } });
    const ticked = { ...item, doneAt: p.done ? iso(ctx.now) : null, doneBy: p.done ? ctx.actor.name : null };
    const next = { ...current, plan: current.plan.map((x) => (x.id === item.id ? ticked : x)) };
    return { changes: [upsert('commandLevel', next)], result: { itemId: item.id, done: p.done } };
  },

  'duty.handover'(ctx, p) {
    for (const item of p.openItems) {
      if (item.eventId && !ctx.state.get('events', item.eventId)) throw new CommandError('invalid', { key: 'handover.eventNotFound', params: { id: item.eventId } });
    }
    // 交接班 never completes silently over alarms still ringing in the officer's area: each is handed over by name.
    const ringing = [...ctx.state.all('alarms')].filter((a) => isRinging(a) && inAreaScope(ctx.actor.districtScope, ctx.state.get('events', a.eventId) ?? a, ctx.state));
    const listed = new Set(p.alarmIds);
    const left = ringing.filter((a) => !listed.has(a.id));
    if (left.length > 0) {
      throw new CommandError('conflict', { key: 'handover.alarmsLeft', params: { count: left.length, list: `${left.slice(0, 5).map((a) => `${a.eventId} ${a.title}`).join('；')}${left.length > 5 ? ' …' : ''}` } });
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
    if (!handover) throw new CommandError('invalid', { key: 'handover.notFound', params: { id: p.handoverId } });
    if (handover.acknowledgedAt) throw new CommandError('conflict', { key: 'handover.alreadyAcked', params: { id: p.handoverId, by: handover.acknowledgedBy ?? '—' } });
    if (handover.fromUserId === ctx.actor.id) throw new CommandError('conflict', { key: 'handover.ownHandover', params: {} });
    if (handover.toUserId && handover.toUserId !== ctx.actor.id) throw new CommandError('forbidden', { key: 'handover.notAddressed', params: { id: p.handoverId, to: handover.toUserId } });
    const next = { ...handover, acknowledgedAt: iso(ctx.now), acknowledgedBy: ctx.actor.name };
    return { changes: [upsert('handovers', next)], result: { handoverId: handover.id } };
  },
};
