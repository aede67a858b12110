/**
 * 复盘 (after-action review) of one incident, pure: from the event, its history records, the calls the backend
 * kept (GET /calls), the staff and departments and the step limits of its 权责清单 rule, the steps in order with who,
 * when, the time from the report and from the step before, each milestone against its deadline (on time, or late by
 * how long), the people and departments who acted and the calls with how long and how they ended.
 *
 * A milestone's deadline is counted as the backend times the step (domain/level-timing.ts STEP_STARTS): from the
 * latest entry that starts the step, plus its limit and the extensions approved during it. Limits are the rule's
 * as given (a 平急 level in force at the time is not re-applied). Bad entries (an unreadable time, another event's)
 * are left out and named in `problems`: a review never throws on data.
 */
import type { CallRecord, Department, GovEvent, Staff, StepLimits, TimelineCall, TimelineRecord } from '../protocol';

/** The milestones of the closed loop, in order: the report table says which were never reached. */
export const REVIEW_MILESTONES = ['report', 'accept', 'dispatch', 'sign', 'arrive', 'feedback', 'followup', 'close'] as const;
export type ReviewMilestone = (typeof REVIEW_MILESTONES)[number];

/** The history actions that reach a milestone (a direct assignment dispatches; an unreached follow-up still follows up). */
const MILESTONE_OF: Readonly<Record<string, ReviewMilestone>> = {
  report: 'report',
  accept: 'accept',
  dispatch: 'dispatch',
  assign: 'dispatch',
  sign: 'sign',
  arrive: 'arrive',
  feedback: 'feedback',
  followup: 'followup',
  'followup-unreached': 'followup',
  close: 'close',
};

/** Which limit times an action, and the actions that start its step (as the backend re-times it). */
const TIMED: Readonly<Record<string, { limit: keyof StepLimits; from: readonly string[] }>> = {
  accept: { limit: 'report', from: ['report', 'reopen'] },
  sign: { limit: 'dispatch', from: ['accept', 'return', 'reassign', 'assign'] },
  feedback: { limit: 'handle', from: ['sign', 'reopen'] },
  followup: { limit: 'followup', from: ['feedback'] },
  'followup-unreached': { limit: 'followup', from: ['feedback'] },
  close: { limit: 'close', from: ['followup', 'followup-unreached', 'feedback'] },
};

/** Actions that raise the event's attention: shown apart in the report. */
const ESCALATIONS = new Set(['escalate', 'supervise']);

export interface ReviewStep {
  /** The history entry's index (0 = the report). */
  index: number;
  action: string;
  milestone: ReviewMilestone | null;
  at: string;
  actor: string;
  actorName: string;
  note: string;
  /** Seconds from the report, and from the entry before (null for the first). */
  sinceReportS: number;
  sincePreviousS: number | null;
  /** The step's deadline when this entry closes a timed step and the limits are known; else null. */
  deadline: string | null;
  /** Seconds past the deadline (0: on time); null when not timed. */
  lateByS: number | null;
  escalation: boolean;
  call: TimelineCall | null;
}

export interface ReviewPerson {
  id: string;
  name: string;
  /** The grid staff member this is (null: a console's user, a unit), and their grid. */
  staffId: string | null;
  gridId: string | null;
  /** The department whose liaison (联络人) account this is, when one is. */
  departmentName: string | null;
  actions: string[];
  first: string;
  last: string;
}

export interface ReviewDepartment {
  id: string;
  name: string;
  role: 'assignee' | 'cohandler' | 'actor';
}

export interface ReviewCall {
  id: string;
  at: string;
  sinceReportS: number;
  direction: CallRecord['direction'];
  video: boolean;
  /** Who made or took it at the console, and the other side. */
  userName: string;
  peerName: string;
  durationS: number;
  result: CallRecord['result'];
  /** From the event's history only (the backend's call log did not answer or did not have it). */
  fromTimeline: boolean;
}

export interface IncidentReview {
  eventId: string;
  reportedAt: string;
  closedAt: string | null;
  /** Report to close (or to `now` while open), seconds. */
  durationS: number;
  steps: ReviewStep[];
  /** When each milestone was first reached (absent: never). */
  reached: Partial<Record<ReviewMilestone, { at: string; sinceReportS: number }>>;
  /** Milestones before the furthest one reached that were never reached (e.g. closed without an arrival). */
  missing: ReviewMilestone[];
  /** Timed steps late, and the whole loop against the final deadline. */
  lateSteps: number;
  finalLateByS: number | null;
  people: ReviewPerson[];
  departments: ReviewDepartment[];
  calls: ReviewCall[];
  callsAnswered: number;
  talkS: number;
  /** Entries left out, in words for the reader (never empty data silently). */
  problems: string[];
}

export interface ReviewInput {
  event: GovEvent;
  timeline: readonly TimelineRecord[];
  calls: readonly CallRecord[];
  staff: readonly Pick<Staff, 'id' | 'name' | 'gridId'>[];
  departments: readonly Pick<Department, 'id' | 'name' | 'liaison'>[];
  /** The step limits of the event's category (权责清单), null when unknown: no deadlines then. */
  limits: StepLimits | null;
  /** "Now" for an open event (city time, ms). */
  nowMs: number;
}

const seconds = (ms: number): number => Math.round(ms / 1000);
const readable = (iso: unknown): number => (typeof iso === 'string' ? Date.parse(iso) : Number.NaN);

export function reviewIncident(input: ReviewInput): IncidentReview {
  const { event } = input;
  const problems: string[] = [];
  const reportedMs = readable(event.reportedAt);
  const startMs = Number.isFinite(reportedMs) ? reportedMs : Number.NaN;
  if (!Number.isFinite(startMs)) problems.push(`事件上报时间无效 / the event's report time is unreadable: ${String(event.reportedAt)}`);

  // The event's own entries, each once, in their order.
  const byIndex = new Map<number, TimelineRecord>();
  for (const r of input.timeline) {
    if (r.eventId !== event.id) continue;
    if (!Number.isFinite(readable(r.at))) {
      problems.push(`处置记录 ${r.id} 的时间无效，已略过 / history entry ${r.id} has no readable time, left out`);
      continue;
    }
    byIndex.set(r.index, r);
  }
  const records = [...byIndex.values()].sort((a, b) => readable(a.at) - readable(b.at) || a.index - b.index);
  const base = Number.isFinite(startMs) ? startMs : records.length > 0 ? readable(records[0]!.at) : 0;
  if (event.timelineCount > records.length) problems.push(`处置记录缺 ${event.timelineCount - records.length} 条 / ${event.timelineCount - records.length} history entries are missing`);

  const approvedMinutes = (event.extensionRequests ?? []).filter((r) => r.state === 'approved').sort((a, b) => a.requestedAt.localeCompare(b.requestedAt)).map((r) => r.minutes);
  let approvalsSeen = 0;
  const lastAt = new Map<string, number>();
  /** Extension minutes approved since each start action (by the time of the approval). */
  const approvals: Array<{ ms: number; minutes: number }> = [];
  const staffById = new Map(input.staff.map((s) => [s.id, s]));
  const deptName = new Map(input.departments.map((d) => [d.id, d.name]));
  const liaisonOf = new Map(input.departments.filter((d) => d.liaison).map((d) => [d.liaison!, d]));

  const steps: ReviewStep[] = [];
  const reached: IncidentReview['reached'] = {};
  let prevMs: number | null = null;
  for (const r of records) {
    const ms = readable(r.at);
    const milestone = MILESTONE_OF[r.action] ?? null;
    if (r.action === 'extension-approve') approvals.push({ ms, minutes: approvedMinutes[approvalsSeen++] ?? 0 });
    let deadline: string | null = null;
    let lateByS: number | null = null;
    const timed = TIMED[r.action];
    if (timed && input.limits) {
      const starts = timed.from.map((a) => lastAt.get(a)).filter((v): v is number => v !== undefined);
      const from = starts.length > 0 ? Math.max(...starts) : null;
      if (from !== null) {
        const extra = approvals.filter((a) => a.ms >= from && a.ms <= ms).reduce((sum, a) => sum + a.minutes, 0);
        const dueMs = from + (input.limits[timed.limit] + extra) * 60_000;
        deadline = new Date(dueMs).toISOString();
        lateByS = Math.max(0, seconds(ms - dueMs));
      }
    }
    lastAt.set(r.action, ms);
    steps.push({
      index: r.index,
      action: r.action,
      milestone,
      at: r.at,
      actor: r.actor,
      actorName: r.actorName,
      note: r.note ?? '',
      sinceReportS: seconds(ms - base),
      sincePreviousS: prevMs === null ? null : seconds(ms - prevMs),
      deadline,
      lateByS,
      escalation: ESCALATIONS.has(r.action),
      call: r.call ?? null,
    });
    if (milestone && !reached[milestone]) reached[milestone] = { at: r.at, sinceReportS: seconds(ms - base) };
    prevMs = ms;
  }

  const furthest = REVIEW_MILESTONES.reduce((n, m, i) => (reached[m] ? i : n), -1);
  const missing = REVIEW_MILESTONES.slice(0, furthest + 1).filter((m) => !reached[m]);
  const closedMs = readable(event.closedAt);
  const endMs = Number.isFinite(closedMs) ? closedMs : input.nowMs;
  const finalMs = readable(event.finalDeadline);
  const finalLateByS = Number.isFinite(finalMs) && Number.isFinite(closedMs) ? Math.max(0, seconds(closedMs - finalMs)) : null;

  // People: who acted, in the order they first did, with their department when they are grid staff.
  const people = new Map<string, ReviewPerson>();
  for (const s of steps) {
    const member = staffById.get(s.actor);
    const person = people.get(s.actor) ?? {
      id: s.actor,
      name: s.actorName || member?.name || s.actor,
      staffId: member ? member.id : null,
      gridId: member ? member.gridId : null,
      departmentName: liaisonOf.get(s.actor)?.name ?? null,
      actions: [],
      first: s.at,
      last: s.at,
    };
    if (!person.actions.includes(s.action)) person.actions.push(s.action);
    person.last = s.at;
    people.set(s.actor, person);
  }

  const departments: ReviewDepartment[] = [];
  const addDept = (id: string | null | undefined, role: ReviewDepartment['role']): void => {
    if (id && !departments.some((d) => d.id === id)) departments.push({ id, name: deptName.get(id) ?? id, role });
  };
  addDept(event.assignee?.departmentId, 'assignee');
  for (const id of event.coHandlers) addDept(id, 'cohandler');
  for (const s of steps) addDept(liaisonOf.get(s.actor)?.id, 'actor');

  // Calls: the backend's log, then the history's call entries it did not have.
  const calls: ReviewCall[] = [];
  const seen = new Set<string>();
  for (const c of input.calls) {
    if (c.eventId !== event.id || seen.has(c.id)) continue;
    const ms = readable(c.at);
    if (!Number.isFinite(ms)) {
      problems.push(`通话 ${c.id} 的时间无效，已略过 / call ${c.id} has no readable time, left out`);
      continue;
    }
    seen.add(c.id);
    calls.push({ id: c.id, at: c.at, sinceReportS: seconds(ms - base), direction: c.direction, video: c.video, userName: c.userName, peerName: c.peerName, durationS: c.durationS, result: c.result, fromTimeline: false });
  }
  for (const s of steps) {
    if (!s.call || seen.has(s.call.id)) continue;
    seen.add(s.call.id);
    calls.push({ id: s.call.id, at: s.at, sinceReportS: s.sinceReportS, direction: s.call.direction, video: s.call.video, userName: s.actorName, peerName: s.call.peerName, durationS: s.call.durationS, result: s.call.result, fromTimeline: true });
  }
  calls.sort((a, b) => a.at.localeCompare(b.at));

  return {
    eventId: event.id,
    reportedAt: event.reportedAt,
    closedAt: event.closedAt,
    durationS: Math.max(0, seconds(endMs - base)),
    steps,
    reached,
    missing,
    lateSteps: steps.filter((s) => (s.lateByS ?? 0) > 0).length,
    finalLateByS,
    people: [...people.values()],
    departments,
    calls,
    callsAnswered: calls.filter((c) => c.result === 'answered').length,
    talkS: calls.reduce((sum, c) => sum + c.durationS, 0),
    problems,
  };
}

/** "1:05:09" / "5:09" / "0:42": a span of seconds as the report prints it. */
export function formatSpan(totalS: number): string {
  const s = Math.max(0, Math.round(totalS));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
