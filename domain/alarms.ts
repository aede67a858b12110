/**
 * 告警 decided once, for the whole center: which open events alarm and why, which alarm climbs the escalation
 * chain, which is over. The backend's leading instance runs `alarmActions` on its state every second and submits
 * what it returns as commands of the system actor (backend/duty/alarm-service.ts); every console receives the
 * `alarms` records and rings for the unacknowledged ones, so a console started late rings too, and an
 * acknowledgement at one console silences all of them. Pure: the same state and time give the same actions, and
 * each action's command id is fixed by what it acts on — a repeat, by another instance after the lead moved, is
 * answered from the first and changes nothing — and new whenever that changed (the pipeline keeps every id, the
 * refused ones too): a clear names the event's version (closed, reopened, closed again: a new id), an escalation
 * the time its rung began (refused because someone acknowledged first, rung again later: a new id). The handlers
 * keep it to one 督办 per event per rung.
 */
import { STEP_OF_STATUS, type Alarm, type AlarmKind, type AlarmPolicy, type GovEvent } from '../protocol';
import type { StateReader } from './commands/context';
import { OPEN } from './commands/helpers';
import { levelProfileOf, rungOf } from './level-profiles';

export const STEP_NAMES: Readonly<Record<string, string>> = { report: '受理', dispatch: '派遣', handle: '处置', followup: '回访', close: '结案' };

export type AlarmAction =
  | { commandId: string; type: 'alarm.raise'; payload: { eventId: string; kind: AlarmKind; key: string; detail: string } }
  | { commandId: string; type: 'alarm.escalate'; payload: { alarmId: string; toRung: number } }
  | { commandId: string; type: 'alarm.clear'; payload: { alarmId: string } };

export const alarmIdOf = (eventId: string): string => `alarm-${eventId}`;
export const isRinging = (alarm: Alarm): boolean => alarm.ackedAt === null;

/** A command id of at most 64 characters: the readable one, or its hash when an imported event id is long. */
function commandIdOf(readable: string): string {
  if (readable.length <= 64) return readable;
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < readable.length; i++) {
    const c = readable.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `${readable.slice(0, 40)}-${h1.toString(36)}${h2.toString(36)}`;
}

/** The reasons an open event alarms now, under the level's policy. */
export function reasonsDue(event: GovEvent, policy: AlarmPolicy, nowMs: number): Array<{ kind: AlarmKind; key: string; detail: string }> {
  const due: Array<{ kind: AlarmKind; key: string; detail: string }> = [];
  if (event.severity >= policy.severeFrom) due.push({ kind: 'severe', key: 'severe', detail: `严重程度 ${event.severity} 级` });
  else if ((event.source === 'video-ai' || event.source === 'sensor') && event.severity >= policy.deviceFrom) {
    due.push({ kind: 'device', key: 'device', detail: `${event.source === 'video-ai' ? '视频智能分析' : '物联感知'}告警 ${event.severity} 级` });
  }
  if (policy.overdue && event.stepDeadline && Date.parse(event.stepDeadline) < nowMs) {
    const step = STEP_OF_STATUS[event.status];
    due.push({ kind: 'overdue', key: `overdue:${step}`, detail: `${STEP_NAMES[step] ?? step}超时（时限 ${event.stepDeadline}）` });
  }
  if (policy.supervised && event.supervised) due.push({ kind: 'supervised', key: 'supervised', detail: '事件已被督办' });
  return due;
}

/** What the alarm system does now, at most `limit` actions (the rest follow at the next run). */
export function alarmActions(state: StateReader, nowMs: number, limit = 200): AlarmAction[] {
  const actions: AlarmAction[] = [];
  const profile = levelProfileOf(state);
  for (const alarm of state.all('alarms')) {
    if (actions.length >= limit) return actions;
    const event = state.get('events', alarm.eventId);
    if (!event || !OPEN.has(event.status)) {
      const gone = event ? `${event.status}-v${event.version}` : 'gone';
      actions.push({ commandId: commandIdOf(`alarm-clear-${alarm.id}-${Date.parse(alarm.createdAt).toString(36)}-${gone}`), type: 'alarm.clear', payload: { alarmId: alarm.id } });
      continue;
    }
    if (!isRinging(alarm) || alarm.rung >= profile.alarms.chain.length) continue;
    const limitMinutes = rungOf(profile, alarm.rung).ackWithinMinutes;
    if (limitMinutes === null || Date.parse(alarm.rungAt) + limitMinutes * 60_000 > nowMs) continue;
    const toRung = alarm.rung + 1;
    actions.push({ commandId: commandIdOf(`alarm-esc-${alarm.eventId}-${toRung}-${Date.parse(alarm.rungAt).toString(36)}`), type: 'alarm.escalate', payload: { alarmId: alarm.id, toRung } });
  }
  for (const event of state.all('events')) {
    if (actions.length >= limit) break;
    if (!OPEN.has(event.status)) continue;
    const alarm = state.get('alarms', alarmIdOf(event.id));
    const epoch = alarm ? Date.parse(alarm.createdAt).toString(36) : `v${event.version}`;
    for (const reason of reasonsDue(event, profile.alarms, nowMs)) {
      if (alarm?.reasons.some((r) => r.key === reason.key)) continue;
      actions.push({ commandId: commandIdOf(`alarm-raise-${event.id}-${reason.key.replace(':', '-')}-${epoch}`), type: 'alarm.raise', payload: { eventId: event.id, ...reason } });
    }
  }
  return actions.slice(0, limit);
}
