/**
 * 告警 as commands: the system actor raises, escalates and clears (domain/alarms.ts decides when); a person on
 * duty acknowledges — who, when, at which console, audited like every command and seen by every console of the
 * area. Raising and acknowledging leave the event alone (no new version under a dispatcher's open form); climbing
 * a rung is a 督办 on the event's timeline, once per rung.
 */
import type { Alarm, GovEvent } from '../../protocol';
import { upsert } from '../state';
import { inAreaScope } from '../permissions';
import { alarmIdOf, isRinging } from '../alarms';
import { levelProfileOf, rungOf } from '../level-profiles';
import { CommandError, type CommandContext, type Handlers } from './context';
import { OPEN, entry, evolve, eventChanges, iso } from './helpers';

const MAX_REASONS = 20;

function alarmFor(ctx: CommandContext, alarmId: string): Alarm {
  const alarm = ctx.state.get('alarms', alarmId);
  if (!alarm) throw new CommandError('invalid', { key: 'alarm.notFound', params: { id: alarmId } });
  const event = ctx.state.get('events', alarm.eventId);
  if (!inAreaScope(ctx.actor.districtScope, event ?? alarm, ctx.state)) throw new CommandError('forbidden', { key: 'alarm.outsideArea', params: { id: alarmId } });
  return alarm;
}

function openEvent(ctx: CommandContext, eventId: string): GovEvent {
  const event = ctx.state.get('events', eventId);
  if (!event) throw new CommandError('invalid', { key: 'event.notFound', params: { id: eventId } });
  if (!OPEN.has(event.status)) throw new CommandError('conflict', { key: 'alarm.eventEnded', params: { id: eventId, status: event.status } });
  return event;
}

/** An acknowledged alarm's refusal: who acknowledged it, when, and at which console when known. */
function alreadyAcked(alarm: Alarm): CommandError {
  const base = { id: alarm.id, by: alarm.ackedBy ?? '—', at: alarm.ackedAt ?? '—' };
  return new CommandError('conflict', alarm.ackedConsole ? { key: 'alarm.alreadyAckedOnConsole', params: { ...base, console: alarm.ackedConsole } } : { key: 'alarm.alreadyAcked', params: base });
}

/** The event's own fields an alarm shows, as they are now. */
const eventFields = (event: GovEvent): Pick<Alarm, 'eventId' | 'districtId' | 'gridId' | 'title' | 'severity' | 'source' | 'cameraId' | 'reportedAt'> => ({
  eventId: event.id,
  districtId: event.districtId,
  gridId: event.gridId,
  title: event.title,
  severity: event.severity,
  source: event.source,
  cameraId: event.cameraId ?? null,
  reportedAt: event.reportedAt,
});

export const alarmHandlers: Pick<Handlers, 'alarm.raise' | 'alarm.escalate' | 'alarm.clear' | 'alarm.acknowledge'> = {
  'alarm.raise'(ctx, p) {
    const event = openEvent(ctx, p.eventId);
    const now = iso(ctx.now);
    const reason = { kind: p.kind, key: p.key, at: now, detail: p.detail };
    const current = ctx.state.get('alarms', alarmIdOf(event.id));
    if (current?.reasons.some((r) => r.key === p.key)) throw new CommandError('conflict', { key: 'alarm.alreadyRaised', params: { id: event.id, reason: p.key } });
    const next: Alarm = current
      ? {
          ...current,
          ...eventFields(event),
          reasons: [...current.reasons, reason].slice(-MAX_REASONS),
          // A new reason after an acknowledgement rings again, on the rung reached (its time limit starts over).
          ...(isRinging(current) ? {} : { raisedAt: now, rungAt: now, ackedAt: null, ackedBy: null, ackedById: null, ackedConsole: null, ackNote: null }),
          version: current.version + 1,
        }
      : { id: alarmIdOf(event.id), ...eventFields(event), reasons: [reason], createdAt: now, raisedAt: now, rung: 1, rungAt: now, ackedAt: null, ackedBy: null, ackedById: null, ackedConsole: null, ackNote: null, version: 1 };
    return { changes: [upsert('alarms', next)], result: { alarmId: next.id, rung: next.rung } };
  },

  'alarm.escalate'(ctx, p) {
    const alarm = alarmFor(ctx, p.alarmId);
    if (!isRinging(alarm)) throw alreadyAcked(alarm);
    if (alarm.rung !== p.toRung - 1) throw new CommandError('conflict', { key: 'alarm.atRung', params: { id: alarm.id, rung: alarm.rung } });
    const event = openEvent(ctx, alarm.eventId);
    const profile = levelProfileOf(ctx.state);
    const from = rungOf(profile, alarm.rung);
    const to = rungOf(profile, p.toRung);
    const now = iso(ctx.now);
    const note = `告警 ${from.ackWithinMinutes ?? '—'} 分钟未确认，升级至${to.name}督办（第 ${p.toRung} 级）`;
    const reasons = alarm.reasons.some((r) => r.key === 'supervised') ? alarm.reasons : [...alarm.reasons, { kind: 'supervised' as const, key: 'supervised', at: now, detail: note }].slice(-MAX_REASONS);
    const next: Alarm = { ...alarm, ...eventFields(event), reasons, rung: p.toRung, rungAt: now, version: alarm.version + 1 };
    return {
      changes: [upsert('alarms', next), ...eventChanges(evolve(ctx, event, { supervised: true }, [entry(ctx, 'supervise', note)]))],
      result: { alarmId: alarm.id, rung: p.toRung, calls: to.name },
    };
  },

  'alarm.clear'(ctx, p) {
    const alarm = alarmFor(ctx, p.alarmId);
    const event = ctx.state.get('events', alarm.eventId);
    if (event && OPEN.has(event.status)) throw new CommandError('conflict', { key: 'alarm.eventStillOpen', params: { id: event.id } });
    return { changes: [{ op: 'remove', collection: 'alarms', id: alarm.id }], result: { alarmId: alarm.id } };
  },

  'alarm.acknowledge'(ctx, p) {
    const alarm = alarmFor(ctx, p.alarmId);
    if (!isRinging(alarm)) throw alreadyAcked(alarm);
    const next: Alarm = { ...alarm, ackedAt: iso(ctx.now), ackedBy: ctx.actor.name, ackedById: ctx.actor.id, ackedConsole: ctx.actor.console ?? null, ackNote: p.note?.trim() || null, version: alarm.version + 1 };
    return { changes: [upsert('alarms', next)], result: { alarmId: alarm.id, rung: alarm.rung } };
  },
};
