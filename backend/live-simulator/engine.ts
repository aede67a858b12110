/**
 * The living city: a discrete-event simulation of reports from all five sources, the departments and staff
 * who act on dispatched events, grid staff on duty moving along the roads, and scripted scenarios.
 * Every state change goes through the real command handlers: live through the server's pipeline (sequenced,
 * audited), and for the history backfill directly on an in-memory state with a virtual clock.
 */
import type { CommandInput, CommandType, EventSource, GovEvent, Grid, LonLat, ResponsibilityRule, Staff, StaffStatus } from '../../protocol';
import type { Actor } from '../../domain';
import { upsert, type CityState } from '../../domain';
import { Rng } from '../city-generator/random';
import { eventContent, pickSeverity, type EventPlace } from '../city-generator/catalog';
import { mobilePhone, personName } from '../city-generator/names';
import { MinHeap } from './heap';
import { chooseCategory, randomPointIn, storedCategory } from './stored-city';
import { newWalker, nextLeg, type Walker } from './patrol';
import { EVENTS_PER_GRID_PER_DAY, SOURCE_MIX, drawSatisfaction, hourlyFactor, nextActionDelay, onDutyShare, poisson } from './timing';
import type { Change } from '../../protocol';
import type { Outcome, SimPeople, SimSource } from './people';
import { AssigneeSteps } from './assignee';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

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
const LEADER: Actor = { id: 'sim:leader', name: '分管领导（模拟）', role: 'system', districtScope: null };

export class SimulationEngine {
  private readonly rng: Rng;
  private readonly agenda = new MinHeap<Agenda>();
  /** Events the simulation handles at grid level by the reporting staff (即报即办). */
  private readonly selfHandled = new Set<string>();
  /** What the assignees of dispatched events do next (assignee.ts). */
  private readonly steps: AssigneeSteps;
  private readonly scheduled = new Map<string, number>();
  private gridIndexById = new Map<string, number>();
  private readonly staffByGrid = new Map<number, string[]>();
  private readonly walkers = new Map<string, Walker>();
  private readonly cameraByGrid = new Map<string, string>();
  private nodeXY: Array<[number, number]> = [];
  private mPerDegLon = 111_320;
  /** What the indexes above were built from: the grids array and the staff and camera versions. */
  private indexed: { grids: readonly Grid[] | null; staff: number; cameras: number } = { grids: null, staff: -1, cameras: -1 };
  private generatedUntil = 0;
  actionsApplied = 0;
  actionsRefused = 0;

  constructor(private readonly options: EngineOptions) {
    this.rng = new Rng(`engine:${options.seed}`);
    this.steps = new AssigneeSteps(this.rng, options.people, options.apply, DUTY);
    this.reindex();
  }

  /** Rebuilds the indexes when the city's grids, staff or cameras changed (an import while running). */
  private reindex(): void {
    const { city, state } = this.options;
    const grids = city.grids;
    const gridsChanged = grids !== this.indexed.grids;
    if (gridsChanged) {
      this.gridIndexById = new Map(grids.map((g, i) => [g.id, i]));
      const lat0 = grids[0]?.center[1] ?? 36;
      this.mPerDegLon = 111_320 * Math.cos((lat0 * Math.PI) / 180);
      this.nodeXY = (city.roads?.nodes ?? []).map(([lon, lat]) => [lon * this.mPerDegLon, lat * 110_574]);
      this.walkers.clear();
    }
    if (gridsChanged || state.versions.staff !== this.indexed.staff) {
      this.staffByGrid.clear();
      for (const staff of state.all('staff')) {
        const gi = this.gridIndexById.get(staff.gridId);
        if (gi === undefined) continue;
        const list = this.staffByGrid.get(gi) ?? [];
        list.push(staff.id);
        this.staffByGrid.set(gi, list);
      }
    }
    if (gridsChanged || state.versions.cameras !== this.indexed.cameras) {
      this.cameraByGrid.clear();
      for (const camera of state.all('cameras')) if (camera.online && !this.cameraByGrid.has(camera.gridId)) this.cameraByGrid.set(camera.gridId, camera.id);
    }
    this.indexed = { grids, staff: state.versions.staff, cameras: state.versions.cameras };
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
      if (item.kind === 'report') await this.report(item.source, item.gridIndex, item.at);
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

  private pointInGrid(grid: Grid): LonLat {
    if (!this.options.city.roads) return randomPointIn(this.rng, grid.polygon, grid.center);
    const [a, b, c, d] = grid.polygon;
    if (!a || !b || !c || !d || grid.polygon.length !== 4) return grid.center;
    // Bilinear point inside the (convex) quad, away from its edges (the roads).
    const u = this.rng.float(0.15, 0.85);
    const v = this.rng.float(0.15, 0.85);
    const lerp = (p: LonLat, q: LonLat, t: number): [number, number] => [p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t];
    const top = lerp(a, b, u);
    const bottom = lerp(d, c, u);
    const p = lerp(top, bottom, v);
    return [Math.round(p[0] * 1e6) / 1e6, Math.round(p[1] * 1e6) / 1e6];
  }

  /** On-duty staff of the grid the simulator plays (not those with an account of their own). */
  private onDutyStaffOf(gridIndex: number): Staff[] {
    return this.staffOf(gridIndex).filter((s) => s.status !== 'offline');
  }

  /** A staff member of the grid to report: one on duty when there is one. */
  private pickStaff(gridIndex: number): Staff | undefined {
    const all = this.staffOf(gridIndex);
    if (all.length === 0) return undefined;
    return this.rng.pick(this.onDutyStaffOf(gridIndex).concat(all));
  }

  private async report(source: EventSource, gridIndex: number, at: number): Promise<void> {
    const grid = this.options.city.grids[gridIndex];
    if (!grid) return; // the grids changed since it was planned
    let chosenSource = source;
    const cameraId = source === 'video-ai' ? this.cameraByGrid.get(grid.id) : undefined;
    if (source === 'video-ai' && !cameraId) chosenSource = 'grid-app';
    const category = chooseCategory(this.rng, this.options.state, chosenSource);
    if (!category) return;
    const content = eventContent(this.rng, category, this.options.city.placeOfGrid(gridIndex));
    const location = this.pointInGrid(grid);
    const severity = pickSeverity(this.rng, category);
    if (chosenSource === 'leader') {
      const done = await this.options.apply(LEADER, 'event.assign', { title: content.title, instructions: content.description, category: category.id, severity, location }, at);
      this.after(done, at);
      return;
    }
    const staff = chosenSource === 'grid-app' ? this.pickStaff(gridIndex) : undefined;
    let done: Outcome;
    if (staff) {
      // The staff member's 一键上报 from the field app (the route names them the reporter).
      done = await this.options.people.fieldReport(staff, { category: category.id, severity, title: content.title, description: content.description, location, accuracy: this.rng.int(5, 30), address: content.address }, at);
      if (done.ok && category.handlingLevel === 'grid' && this.rng.chance(0.6)) this.selfHandled.add(String(done.result.eventId));
    } else {
      // A platform's report through the ingest API (a grid nobody plays: the citizens' 随手拍).
      const system: SimSource = chosenSource === 'grid-app' ? 'citizen-app' : chosenSource;
      const reporter = system === 'hotline' || system === 'citizen-app' ? { name: personName(this.rng), phone: mobilePhone(this.rng) } : undefined;
      done = await this.options.people.sourceReport(system, { category: category.id, severity, title: content.title, description: content.description, location: { lon: location[0], lat: location[1] }, address: content.address, ...(reporter ? { reporter } : {}), ...(cameraId ? { cameraId } : {}) }, at);
    }
    this.after(done, at);
  }

  /** Staff of the grid the simulator plays. */
  private staffOf(gridIndex: number): Staff[] {
    return (this.staffByGrid.get(gridIndex) ?? []).map((id) => this.options.state.get('staff', id)).filter((s): s is Staff => !!s && this.options.people.plays(s.id));
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
    const gi = this.gridIndexById.get(event.gridId);
    const onDuty = gi === undefined ? [] : this.onDutyStaffOf(gi);
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
    this.after(done, at);
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

  // ── staff on duty ───────────────────────────────────────────────────────────────────────────────────

  private walker(staff: Staff): Walker {
    let w = this.walkers.get(staff.id);
    if (!w || w.gridId !== staff.gridId) {
      const gridIndex = this.gridIndexById.get(staff.gridId) ?? 0;
      w = newWalker(this.rng, staff, gridIndex, this.options.city);
      this.walkers.set(staff.id, w);
    }
    return w;
  }

  private chooseNext = (w: Walker): void => nextLeg(this.rng, w, this.options.city, this.nodeXY, this.mPerDegLon);

  /**
   * Moves staff on duty by `dtMs` of simulated time and brings statuses in line with the duty roster.
   * Returns the status changes to commit and every on-duty position.
   */
  moveStaff(nowMs: number, dtMs: number): { changes: Change[]; positions: Array<{ id: string; lon: number; lat: number; status: StaffStatus; districtId: string }> } {
    this.reindex();
    const share = onDutyShare(nowMs);
    const nodes = this.options.city.roads?.nodes ?? [];
    const changes: Change[] = [];
    const positions: Array<{ id: string; lon: number; lat: number; status: StaffStatus; districtId: string }> = [];
    const at = new Date(nowMs).toISOString();
    // Cap movement per tick so a fast clock does not teleport people across the city.
    const seconds = Math.min(dtMs, 120_000) / 1000;
    const ownPhone = this.options.ownPhone;
    for (const staff of this.options.state.all('staff')) {
      if (!this.gridIndexById.has(staff.gridId) && !this.options.city.roads) continue; // in no grid of this city
      if (ownPhone?.(staff.id)) continue; // their phone says where they are (POST /field/api/position)
      const w = this.walker(staff);
      const onDuty = w.roster < share || staff.openTasks > 0;
      const status: StaffStatus = !onDuty ? 'offline' : staff.openTasks > 0 ? 'handling' : w.roster > share * 0.9 ? 'idle' : 'patrolling';
      let position = staff.position;
      if (status === 'patrolling' || status === 'handling') {
        let metres = w.speed * seconds * (status === 'handling' ? 0.4 : 1);
        if (w.length === 0) this.chooseNext(w);
        while (metres > 0) {
          const left = w.length - w.done;
          if (metres < left) {
            w.done += metres;
            metres = 0;
          } else {
            metres -= left;
            w.done = w.length;
            this.chooseNext(w);
          }
        }
        const [alon, alat] = w.leg?.from ?? nodes[w.from]!;
        const [blon, blat] = w.leg?.to ?? nodes[w.to]!;
        const t = w.length === 0 ? 0 : w.done / w.length;
        position = [Math.round((alon + (blon - alon) * t) * 1e6) / 1e6, Math.round((alat + (blat - alat) * t) * 1e6) / 1e6];
      }
      if (status !== staff.status) changes.push(upsert('staff', { ...staff, status, position, updatedAt: at }));
      else if (position !== staff.position) staff.position = position; // volatile: broadcast, persisted now and then
      if (status !== 'offline' && position) positions.push({ id: staff.id, lon: position[0], lat: position[1], status, districtId: staff.districtId });
    }
    return { changes, positions };
  }

  // ── scenarios ───────────────────────────────────────────────────────────────────────────────────────

  /**
   * A scripted burst: "flood" (暴雨内涝: hotline calls, water-level sensors, video alarms in one district) or
   * "crowd" (大型活动人员聚集). Returns the ids of the events it reported.
   */
  async injectScenario(kind: 'flood' | 'crowd', nowMs: number, districtId?: string): Promise<string[]> {
    this.reindex();
    const grids = this.options.city.grids.map((g, i) => [g, i] as const).filter(([g]) => !districtId || g.districtId === districtId);
    if (grids.length === 0) throw new Error(`no grids in district ${districtId}`);
    const [centre] = this.rng.pick(grids);
    const nearby = grids
      .map(([g, i]) => [i, Math.hypot(g.center[0] - centre.center[0], g.center[1] - centre.center[1])] as const)
      .sort((a, b) => a[1] - b[1])
      .slice(0, 6)
      .map(([i]) => i);
    const plan: Array<[EventSource, string, number]> =
      kind === 'flood'
        ? [...Array<[EventSource, string, number]>(14).fill(['hotline', 'flood', 3]), ...Array<[EventSource, string, number]>(5).fill(['sensor', 'flood', 4]), ...Array<[EventSource, string, number]>(3).fill(['video-ai', 'flood', 3])]
        : [...Array<[EventSource, string, number]>(8).fill(['video-ai', 'public-security', 3]), ...Array<[EventSource, string, number]>(6).fill(['hotline', 'traffic', 2]), ...Array<[EventSource, string, number]>(2).fill(['grid-app', 'public-security', 4])];
    const ids: string[] = [];
    for (const [source, categoryId, severity] of plan) {
      const gridIndex = this.rng.pick(nearby);
      const grid = this.options.city.grids[gridIndex]!;
      const category = storedCategory(this.rng, this.options.state, categoryId, source);
      if (!category) continue;
      const content = eventContent(this.rng, category, this.options.city.placeOfGrid(gridIndex));
      const at = nowMs + ids.length * 20_000;
      const location = this.pointInGrid(grid);
      const staff = source === 'grid-app' ? this.pickStaff(gridIndex) : undefined;
      const system: SimSource = source === 'grid-app' ? 'citizen-app' : source === 'video-ai' && !this.cameraByGrid.get(grid.id) ? 'hotline' : (source as SimSource);
      const done = staff
        ? await this.options.people.fieldReport(staff, { category: category.id, severity, title: content.title, description: content.description, location, accuracy: 10, address: content.address }, at)
        : await this.options.people.sourceReport(
            system,
            { category: category.id, severity, title: content.title, description: content.description, location: { lon: location[0], lat: location[1] }, address: content.address, ...(system === 'hotline' ? { reporter: { name: personName(this.rng), phone: mobilePhone(this.rng) } } : {}), ...(system === 'video-ai' ? { cameraId: this.cameraByGrid.get(grid.id)! } : {}) },
            at,
          );
      if (done.ok) ids.push(String(done.result.eventId));
      this.after(done, nowMs);
    }
    return ids;
  }
}
