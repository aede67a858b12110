/**
 * 平急转换 re-times the current step of every open event. Each new deadline is computed from an unclamped base: the
 * step's start (from the event and its history) + the rule's limit × the new level's factor + the approved
 * extensions of the step, so 日常→加强→日常 gives back the daily deadlines exactly. Only the value stored is held
 * back: a switch never leaves a step that was not yet overdue less than 5 minutes to run (never earlier than it
 * was), and an event overdue before the switch takes its base as it is (overdue under the new limits stays so,
 * restored looser limits may end it). An event whose step start cannot be found (history missing or not of the
 * loop's own commands) moves by the step's listed limit × the change of the factor, as before. One pass over the
 * events, a change only where the deadline actually moves, no timeline entry per event.
 */
import { timelineId } from './commands/helpers';
import type { Change, EventStatus, GovEvent, StepFactors } from '../protocol';
import { upsert } from './state';
import type { StateReader } from './commands/context';

const MINUTE = 60_000;
/** A switch never leaves a step less than this to run (unless it had less already). */
export const RETIME_GRACE_MINUTES = 5;
const OPEN = new Set<GovEvent['status']>(['new', 'accepted', 'dispatched', 'handling', 'handled', 'followed-up']);
/** How far back an event's history is read for the start of its current step (comments, arrivals in between). */
const HISTORY_LOOKBACK = 200;

/** The history entries that start (and set the deadline of) the step of each status; `new` starts at reportedAt. */
const STEP_STARTS: Partial<Record<EventStatus, ReadonlySet<string>>> = {
  accepted: new Set(['accept', 'return', 'assign']),
  dispatched: new Set(['accept', 'return', 'reassign', 'assign']),
  handling: new Set(['sign', 'reopen']),
  handled: new Set(['feedback']),
  'followed-up': new Set(['followup', 'followup-unreached']),
};

/**
 * When the event's current step began and the minutes of the extensions approved during it; null when its history
 * does not say (then the caller keeps the old, relative re-timing).
 */
export function stepStart(state: StateReader, event: GovEvent): { startMs: number; extensionMinutes: number } | null {
  if (event.status === 'new') return { startMs: Date.parse(event.reportedAt), extensionMinutes: 0 };
  const starts = STEP_STARTS[event.status];
  if (!starts) return null;
  let approvals = 0;
  const last = event.timelineCount - 1;
  for (let i = last; i >= 0 && i > last - HISTORY_LOOKBACK; i--) {
    const entry = state.get('timeline', timelineId(event.id, i));
    if (!entry) return null;
    if (entry.action === 'extension-approve') approvals++;
    else if (starts.has(entry.action)) {
      // One request is pending at a time, so requests are decided in order: the step's approvals are the last ones.
      const approved = (event.extensionRequests ?? []).filter((r) => r.state === 'approved');
      if (approvals > approved.length) return null;
      const extensionMinutes = approved.slice(approved.length - approvals).reduce((sum, r) => sum + r.minutes, 0);
      return { startMs: Date.parse(entry.at), extensionMinutes };
    }
  }
  return null;
}

/**
 * The step deadline an event gets when the factors change from `from` to `to`; null when it does not move. `start`
 * is what stepStart found (null: move relatively, as before).
 */
export function retimedDeadline(
  event: GovEvent,
  limitMinutes: number,
  from: StepFactors,
  to: StepFactors,
  nowMs: number,
  start: { startMs: number; extensionMinutes: number } | null = null,
): string | null {
  if (!OPEN.has(event.status) || event.stepDeadline === null) return null;
  if (to[event.step] === from[event.step]) return null;
  const old = Date.parse(event.stepDeadline);
  const grace = Math.min(old, nowMs + RETIME_GRACE_MINUTES * MINUTE);
  if (!start) return moved(old, Math.max(old + limitMinutes * (to[event.step] - from[event.step]) * MINUTE, grace));
  const base = start.startMs + (limitMinutes * to[event.step] + start.extensionMinutes) * MINUTE;
  // Overdue before the switch: the base as it is. Not yet: never less than the grace left (nor later than it was).
  return moved(old, old < nowMs ? base : Math.max(base, grace));
}

function moved(old: number, next: number): string | null {
  const rounded = Math.round(next);
  return rounded === old ? null : new Date(rounded).toISOString();
}

/** The changes re-timing every open event's current step (each re-timed event gets a new version, no entry). */
export function retimeOpenEvents(state: StateReader, from: StepFactors, to: StepFactors, now: Date): Change[] {
  const changes: Change[] = [];
  const steps = ['report', 'dispatch', 'handle', 'followup', 'close'] as const;
  if (steps.every((s) => from[s] === to[s])) return changes;
  const nowMs = now.getTime();
  for (const event of state.all('events')) {
    if (!OPEN.has(event.status) || event.stepDeadline === null || from[event.step] === to[event.step]) continue;
    const rule = state.get('rules', event.category);
    if (!rule) continue;
    const deadline = retimedDeadline(event, rule.limits[event.step], from, to, nowMs, stepStart(state, event));
    if (deadline !== null) changes.push(upsert('events', { ...event, stepDeadline: deadline, version: event.version + 1 }));
  }
  return changes;
}
