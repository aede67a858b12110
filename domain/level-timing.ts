/**
 * 平急转换 re-times the current step of every open event: its deadline moves by the step's listed limit × the
 * change of the level's factor (so an approved extension is kept), never to before now + 5 minutes unless it was
 * already earlier (nothing turns overdue by the switch itself; what was overdue stays so when limits tighten).
 * One pass over the events, a change only where the deadline actually moves, no timeline entry per event.
 */
import type { Change, GovEvent, StepFactors } from '../protocol';
import { upsert } from './state';
import type { StateReader } from './commands/context';

const MINUTE = 60_000;
/** A switch never leaves a step less than this to run (unless it had less already). */
export const RETIME_GRACE_MINUTES = 5;
const OPEN = new Set<GovEvent['status']>(['new', 'accepted', 'dispatched', 'handling', 'handled', 'followed-up']);

/** The step deadline an event gets when the factors change from `from` to `to`; null when it does not move. */
export function retimedDeadline(event: GovEvent, limitMinutes: number, from: StepFactors, to: StepFactors, nowMs: number): string | null {
  if (!OPEN.has(event.status) || event.stepDeadline === null) return null;
  const delta = limitMinutes * (to[event.step] - from[event.step]) * MINUTE;
  if (delta === 0) return null;
  const old = Date.parse(event.stepDeadline);
  const floor = Math.min(old, nowMs + RETIME_GRACE_MINUTES * MINUTE);
  const next = Math.round(Math.max(old + delta, floor));
  return next === old ? null : new Date(next).toISOString();
}

/** The changes re-timing every open event's current step (each re-timed event gets a new version, no entry). */
export function retimeOpenEvents(state: StateReader, from: StepFactors, to: StepFactors, now: Date): Change[] {
  const changes: Change[] = [];
  const steps = ['report', 'dispatch', 'handle', 'followup', 'close'] as const;
  if (steps.every((s) => from[s] === to[s])) return changes;
  const nowMs = now.getTime();
  for (const event of state.all('events')) {
    const rule = state.get('rules', event.category);
    if (!rule) continue;
    const deadline = retimedDeadline(event, rule.limits[event.step], from, to, nowMs);
    if (deadline !== null) changes.push(upsert('events', { ...event, stepDeadline: deadline, version: event.version + 1 }));
  }
  return changes;
}
