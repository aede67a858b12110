/**
 * The living city: a discrete-event simulation of reports from all five sources, the departments and staff
 * who act on dispatched events, grid staff on duty moving along the roads, and scripted scenarios.
 * Every state change goes through the real command handlers: live through the server's pipeline (sequenced,
 * audited), and for the history backfill directly on an in-memory state with a virtual clock.
 *
 * This file is the agenda and the dispatch desk's side (dispatch, 回访, 结案, 督办); the reports are reports.ts,
 * the assignees' steps assignee.ts, the staff on the move staff-moves.ts, the city's indexes city-index.ts.
 */
import type { Change, CommandInput, CommandType, EventSource, GovEvent, Grid, ResponsibilityRule } from '../../protocol';
import type { Actor, CityState } from '../../domain';
import { Rng } from '../city-generator/random';
import type { EventPlace } from '../city-generator/catalog';
import { MinHeap } from './heap';
import { EVENTS_PER_GRID_PER_DAY, SOURCE_MIX, drawSatisfaction, hourlyFactor, nextActionDelay, poisson } from './timing';
import type { Outcome, SimPeople } from './people';
import { AssigneeSteps } from './assignee';
import { CityIndex } from './city-index';
import { StaffMoves, type MovedPosition } from './staff-moves';
import { SimReports, type ScenarioKind } from './reports';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A refused step is tried again this long after (simulated time, times the tries so far), at most MAX_RETRIES times. */
const RETRY_AFTER_MS = 5 * MINUTE;
export const MAX_RETRIES = 3;

/**
 * What the engine needs to know of the city: the generated one (staff walk its roads), or an imported one
 * (`roads` null: staff patrol inside their grid's polygon). `grids` may become a new array when the stored grids
 * change (stored-city.ts): the engine then re-indexes.
 */
export interface SimCity {
  readonly grids: readonly Grid[];
  readonly roads: {
    readonly nodes: ReadonlyArray<readonly [number, number]>;
    neighbours(node: number): readonly number[];
    nodesOfGrid(gridIndex: number): readonly number[];
  } | null;
  placeOfGrid(gridIndex: number): EventPlace;
}

/**
 * How the engine changes the world: one command as some actor at a (simulated) time, typed from the one table
 * of command payloads like every other sender's (a payload of another command is a type error).
 */
export type ApplyCommand = <T extends CommandType>(actor: Actor, type: T, payload: CommandInput<T>, atMs: number) => Promise<{ ok: true; result: Record<string, unknown> } | { ok: false; reason: string }>;

type Agenda = { at: number; kind: 'report'; source: EventSource; gridIndex: number } | { at: number; kind: 'progress'; eventId: string; version: number };

export interface EngineOptions {
  city: SimCity;
  state: CityState;
  seed: number | string;
  /** The console users' commands (seats, duty chief, leader). */
  apply: ApplyCommand;
  /** Grid staff, department liaisons and source systems, through their own paths (people.ts). */
  people: SimPeople;
  /**
   * Staff the simulator leaves where they are now (their phone reports positions): not moved, status untouched.
   * Absent: everyone is moved.
   */
  ownPhone?: (staffId: string) => boolean;
}

export const SEAT: Actor = { id: 'sim:seat', name: '其他坐席（模拟）', role: 'system', districtScope: null };
const DUTY: Actor = { id: 'sim:duty', name: '值班长（模拟）', role: 'system', districtScope: null };

export class SimulationEngine {
  private readonly rng: Rng;
  private readonly agenda = new MinHeap<Agenda>();
  /** Events the simulation handles at grid level by the reporting staff (即报即办). */
  private readonly selfHandled = new Set<string>();
  /** What the assignees of dispatched events do next (assignee.ts). */
  private readonly steps: AssigneeSteps;
  private readonly scheduled = new Map<string, number>();
  /** The refused tries of an event's next step at a version (a new version starts again from none). */
  private readonly refusals = new Map<string, { version: number; tries: number }>();
  private readonly index: CityIndex;
  private readonly moves: StaffMoves;
  private readonly reports: SimReports;
  private generatedUntil = 0;
  actionsApplied = 0;
  actionsRefused = 0;

  constructor(private readonly options: EngineOptions) {
    this.rng = new Rng(`engine:${options.seed}`);
    this.steps = new AssigneeSteps(this.rng, options.people, options.apply, DUTY);
    this.index = new CityIndex(options.city, options.state);
    this.moves = new StaffMoves(this.rng, options.city, options.state, this.index, options.ownPhone);
    this.reports = new SimReports({ rng: this.rng, city: options.city, state: options.state, index: this.index, people: options.people, apply: options.apply, selfHandled: this.selfHandled, after: (done, at) => this.after(done, at) });
    this.reindex();
  }

  /** Rebuilds the indexes when the city's grids, staff or cameras changed (an import while running). */
  private reindex(): void {
    if (this.index.refresh()) this.moves.reset();
  }

  private get totalPerDay(): number {
    return this.options.city.grids.length * EVENTS_PER_GRID_PER_DAY;
  }

  /** Plans the reports of every hour from the last planned one up to `untilMs`. */
  private planReports(untilMs: number): void {
    if (this.generatedUntil === 0) this.generatedUntil = untilMs - HOUR;
    if (this.options.city.grids.length === 0) return void (this.generatedUntil = untilMs);
    while (this.generatedUntil < untilMs) {
      const slot = this.generatedUntil;
      const count = poisson(this.rng, (this.totalPerDay / 24) * hourlyFactor(slot));
      for (let i = 0; i < count; i++) {
        this.agenda.push({ at: slot + this.rng.next() * HOUR, kind: 'report', source: this.rng.weighted(SOURCE_MIX), gridIndex: this.rng.int(0, this.options.city.grids.length - 1) });
      }
      this.generatedUntil = slot + HOUR;
    }
  }

  /** Runs every agenda item due up to `nowMs`, in time order. */
  async advance(nowMs: number): Promise<void> {
    this.reindex();
    this.planReports(nowMs);
    for (let item = this.agenda.peek(); item && item.at <= nowMs; item = this.agenda.peek()) {
      this.agenda.pop();
      if (item.kind === 'report') await this.reports.report(item.source, item.gridIndex, item.at);
      else await this.progress(item.eventId, item.version, item.at);
    }
  }

  /** Puts open events the engine does not know yet (reported by people) on its agenda. */
  adoptOpenEvents(nowMs: number): void {
    for (const event of this.options.state.all('events')) {
      if (event.status === 'closed' || event.status === 'merged') continue;
      if (this.scheduled.get(event.id) === event.version) continue;
      this.schedule(event, nowMs);
    }
  }

  private schedule(event: GovEvent, fromMs: number): void {
    const rule = this.options.state.get('rules', event.category);
    if (!rule) return;
    let delay = nextActionDelay(this.rng, event, rule, this.selfHandled.has(event.id));
    if (delay === null) return;
    // A staff member's 到场 comes a while into the handling, the feedback after it.
    if (event.status === 'handling' && event.assignee?.staffId && !this.steps.arrived.has(event.id)) delay *= 0.25;
    else if (event.status === 'handling' && (event.extensionRequests ?? []).some((r) => r.state === 'pending')) delay = Math.min(delay, 30 * MINUTE);
    this.scheduled.set(event.id, event.version);
    this.agenda.push({ at: fromMs + delay, kind: 'progress', eventId: event.id, version: event.version });
  }

  private after(done: Outcome, at: number): void {
    if (!done.ok) {
      this.actionsRefused++;
      return;
    }
    this.actionsApplied++;
    const eventId = done.result.eventId;
    if (typeof eventId !== 'string') return;
    const event = this.options.state.get('events', eventId);
    if (event) this.schedule(event, at);
  }

  private dispatchTarget(event: GovEvent, rule: ResponsibilityRule): Record<string, unknown> {
    const gi = this.index.gridIndexById.get(event.gridId);
    const onDuty = gi === undefined ? [] : this.reports.onDutyStaffOf(gi);
    if ((this.selfHandled.has(event.id) || rule.handlingLevel === 'grid') && onDuty.length > 0) {
      // The least-loaded staff member of the grid takes it.
      const staff = onDuty.reduce((best, s) => (s.openTasks < best.openTasks ? s : best));
      return { staffId: staff.id };
    }
    return { departmentId: rule.departmentId };
  }

  private async progress(eventId: string, version: number, at: number): Promise<void> {
    const event = this.options.state.get('events', eventId);
    if (!event) return;
    if (event.version !== version) {
      // Someone (a console user) changed it meanwhile: plan afresh from its new state.
      this.schedule(event, at);
      return;
    }
    const rule = this.options.state.get('rules', event.category);
    if (!rule) return;
    const staff = event.assignee?.staffId ? this.options.state.get('staff', event.assignee.staffId) : undefined;
    const departmentId = event.assignee?.departmentId ?? null;
    const base = { eventId, baseVersion: event.version };
    let done: Outcome;
    switch (event.status) {
      case 'new':
      case 'accepted':
        done = await this.options.apply(SEAT, 'event.dispatch', { ...base, ...this.dispatchTarget(event, rule), note: '按权责清单派遣' }, at);
        break;
      case 'dispatched':
      case 'handling': {
        const step = this.steps.next(event, staff, departmentId, at);
        if (!step) return; // someone the simulator does not play (their own account) has it
        done = await step;
        break;
      }
      case 'handled': {
        const reached = event.reporter !== null && this.rng.chance(0.9);
        done = await this.options.apply(SEAT, 'event.followup', { ...base, reached, note: reached ? '电话回访，群众反映问题已解决' : '无报事群众或未能联系上，现场核实已处置' }, at);
        break;
      }
      case 'followed-up': {
        const satisfaction = drawSatisfaction(this.rng);
        done = await this.options.apply(SEAT, 'event.close', { ...base, satisfaction, comment: satisfaction === 'unsatisfied' ? '群众对处置时效不满意' : '' }, at);
        break;
      }
      default:
        return;
    }
    if (!done.ok) this.retry(event, at);
    else this.refusals.delete(eventId);
    this.after(done, at);
  }

  /**
   * A refused step (a route said no: a token being replaced, the database away, a conflict) is not lost: it is tried
   * again later at the same version, at most MAX_RETRIES times; then the event waits for someone else to change it.
   */
  private retry(event: GovEvent, at: number): void {
    const last = this.refusals.get(event.id);
    const tries = last?.version === event.version ? last.tries + 1 : 1;
    this.refusals.set(event.id, { version: event.version, tries });
    if (tries > MAX_RETRIES) return;
    this.agenda.push({ at: at + RETRY_AFTER_MS * tries, kind: 'progress', eventId: event.id, version: event.version });
  }

  /** 督办: overdue events get supervised by the duty chief after a while. */
  async superviseOverdue(nowMs: number, maxPerCall = 20): Promise<number> {
    let count = 0;
    for (const event of this.options.state.all('events')) {
      if (count >= maxPerCall) break;
      if (event.supervised || !event.stepDeadline || event.status === 'closed' || event.status === 'merged') continue;
      if (Date.parse(event.stepDeadline) + 2 * HOUR > nowMs) continue;
      const done = await this.options.apply(DUTY, 'event.supervise', { eventId: event.id, baseVersion: event.version, note: '超期督办：请加快处置并反馈' }, nowMs);
      if (done.ok) count++;
    }
    return count;
  }

  /**
   * Moves staff on duty by `dtMs` of simulated time and brings statuses in line with the duty roster (staff-moves.ts).
   * Returns the status changes to commit and every on-duty position.
   */
  moveStaff(nowMs: number, dtMs: number): { changes: Change[]; positions: MovedPosition[] } {
    this.reindex();
    return this.moves.move(nowMs, dtMs);
  }

  /** A scripted burst (reports.ts): "flood" or "crowd". Returns the ids of the events it reported. */
  injectScenario(kind: ScenarioKind, nowMs: number, districtId?: string): Promise<string[]> {
    this.reindex();
    return this.reports.scenario(kind, nowMs, districtId);
  }
}
