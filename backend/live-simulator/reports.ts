/**
 * The simulated reports: one from a source at a grid (a grid staff member's 一键上报 on the field app, a platform's
 * through the ingest API, the leader's 交办 on the console), and scripted bursts — "flood" (暴雨内涝: hotline calls,
 * water-level sensors, video alarms in one district) and "crowd" (大型活动人员聚集).
 */
import type { EventSource, Staff } from '../../protocol';
import type { Actor, CityState } from '../../domain';
import type { Rng } from '../city-generator/random';
import { eventContent, pickSeverity } from '../city-generator/catalog';
import { mobilePhone, personName } from '../city-generator/names';
import type { CityIndex } from './city-index';
import type { ApplyCommand, SimCity } from './engine';
import type { Outcome, SimPeople, SimSource } from './people';
import { chooseCategory, storedCategory } from './stored-city';

const LEADER: Actor = { id: 'sim:leader', name: '分管领导（模拟）', role: 'system', districtScope: null };

export interface SimReportsOptions {
  rng: Rng;
  city: SimCity;
  state: CityState;
  index: CityIndex;
  people: SimPeople;
  apply: ApplyCommand;
  /** Events the reporting staff handle at grid level themselves (即报即办): filled here, read by the dispatch. */
  selfHandled: Set<string>;
  /** What the engine does with an outcome (counts it, schedules the event's next step). */
  after(done: Outcome, at: number): void;
}

/** The scripted bursts: what reports come, from which sources, how serious, how many. */
export const SCENARIO_PLANS = {
  // 暴雨内涝: calls, water-level sensors and video alarms in one place.
  flood: [['hotline', 'flood', 3, 14], ['sensor', 'flood', 4, 5], ['video-ai', 'flood', 3, 3]],
  // 大型活动人员聚集: crowd alarms, traffic calls, grid staff on the spot.
  crowd: [['video-ai', 'public-security', 3, 8], ['hotline', 'traffic', 2, 6], ['grid-app', 'public-security', 4, 2]],
  // 火灾隐患: smoke on camera, calls, a sensor.
  fire: [['video-ai', 'fire-hazard', 4, 3], ['hotline', 'fire-hazard', 3, 4], ['sensor', 'fire-hazard', 3, 1]],
  // 交通事故: a crash seen by cameras and callers, a jam behind it.
  traffic: [['video-ai', 'traffic', 3, 3], ['hotline', 'traffic', 3, 5], ['grid-app', 'traffic', 2, 1]],
} as const satisfies Record<string, ReadonlyArray<readonly [EventSource, string, number, number]>>;
export type ScenarioKind = keyof typeof SCENARIO_PLANS;
export const SCENARIO_KINDS = Object.keys(SCENARIO_PLANS) as ScenarioKind[];
export const SCENARIO_NAMES: Readonly<Record<ScenarioKind, string>> = { flood: '暴雨内涝', crowd: '大型活动人员聚集', fire: '火灾隐患', traffic: '交通事故' };

export class SimReports {
  constructor(private readonly o: SimReportsOptions) {}

  /** Staff of the grid the simulator plays (not those with an account of their own). */
  staffOf(gridIndex: number): Staff[] {
    const { index, state, people } = this.o;
    return (index.staffByGrid.get(gridIndex) ?? []).map((id) => state.get('staff', id)).filter((s): s is Staff => !!s && people.plays(s.id));
  }

  /** On-duty staff of the grid the simulator plays. */
  onDutyStaffOf(gridIndex: number): Staff[] {
    return this.staffOf(gridIndex).filter((s) => s.status !== 'offline');
  }

  /** A staff member of the grid to report: one on duty when there is one. */
  private pickStaff(gridIndex: number): Staff | undefined {
    const all = this.staffOf(gridIndex);
    if (all.length === 0) return undefined;
    return this.o.rng.pick(this.onDutyStaffOf(gridIndex).concat(all));
  }

  async report(source: EventSource, gridIndex: number, at: number): Promise<void> {
    const { rng, city, state, index, people } = this.o;
    const grid = city.grids[gridIndex];
    if (!grid) return; // the grids changed since it was planned
    let chosenSource = source;
    const cameraId = source === 'video-ai' ? index.cameraByGrid.get(grid.id) : undefined;
    if (source === 'video-ai' && !cameraId) chosenSource = 'grid-app';
    const category = chooseCategory(rng, state, chosenSource);
    if (!category) return;
    const content = eventContent(rng, category, city.placeOfGrid(gridIndex));
    const location = index.pointInGrid(rng, grid);
    const severity = pickSeverity(rng, category);
    if (chosenSource === 'leader') {
      const done = await this.o.apply(LEADER, 'event.assign', { title: content.title, instructions: content.description, category: category.id, severity, location }, at);
      this.o.after(done, at);
      return;
    }
    const staff = chosenSource === 'grid-app' ? this.pickStaff(gridIndex) : undefined;
    let done: Outcome;
    if (staff) {
      // The staff member's 一键上报 from the field app (the route names them the reporter).
      done = await people.fieldReport(staff, { category: category.id, severity, title: content.title, description: content.description, location, accuracy: rng.int(5, 30), address: content.address }, at);
      if (done.ok && category.handlingLevel === 'grid' && rng.chance(0.6)) this.o.selfHandled.add(String(done.result.eventId));
    } else {
      // A platform's report through the ingest API (a grid nobody plays: the citizens' 随手拍).
      const system: SimSource = chosenSource === 'grid-app' ? 'citizen-app' : chosenSource;
      const reporter = system === 'hotline' || system === 'citizen-app' ? { name: personName(rng), phone: mobilePhone(rng) } : undefined;
      done = await people.sourceReport(system, { category: category.id, severity, title: content.title, description: content.description, location: { lon: location[0], lat: location[1] }, address: content.address, ...(reporter ? { reporter } : {}), ...(cameraId ? { cameraId } : {}) }, at);
    }
    this.o.after(done, at);
  }

  /** A scripted burst around a random grid (of the district when given); the ids of the events it reported. */
  async scenario(kind: ScenarioKind, nowMs: number, districtId?: string): Promise<string[]> {
    const { rng, city, state, index, people } = this.o;
    const grids = city.grids.map((g, i) => [g, i] as const).filter(([g]) => !districtId || g.districtId === districtId);
    if (grids.length === 0) throw new Error(`no grids in district ${districtId}`);
    const [centre] = rng.pick(grids);
    const nearby = grids
      .map(([g, i]) => [i, Math.hypot(g.center[0] - centre.center[0], g.center[1] - centre.center[1])] as const)
      .sort((a, b) => a[1] - b[1])
      .slice(0, 6)
      .map(([i]) => i);
    const plan = SCENARIO_PLANS[kind].flatMap(([source, category, severity, count]) => Array<[EventSource, string, number]>(count).fill([source, category, severity]));
    const ids: string[] = [];
    for (const [source, categoryId, severity] of plan) {
      const gridIndex = rng.pick(nearby);
      const grid = city.grids[gridIndex]!;
      const category = storedCategory(rng, state, categoryId, source);
      if (!category) continue;
      const content = eventContent(rng, category, city.placeOfGrid(gridIndex));
      const at = nowMs + ids.length * 20_000;
      const location = index.pointInGrid(rng, grid);
      const staff = source === 'grid-app' ? this.pickStaff(gridIndex) : undefined;
      const system: SimSource = source === 'grid-app' ? 'citizen-app' : source === 'video-ai' && !index.cameraByGrid.get(grid.id) ? 'hotline' : (source as SimSource);
      const done = staff
        ? await people.fieldReport(staff, { category: category.id, severity, title: content.title, description: content.description, location, accuracy: 10, address: content.address }, at)
        : await people.sourceReport(
            system,
            { category: category.id, severity, title: content.title, description: content.description, location: { lon: location[0], lat: location[1] }, address: content.address, ...(system === 'hotline' ? { reporter: { name: personName(rng), phone: mobilePhone(rng) } } : {}), ...(system === 'video-ai' ? { cameraId: index.cameraByGrid.get(grid.id)! } : {}) },
            at,
          );
      if (done.ok) ids.push(String(done.result.eventId));
      this.o.after(done, nowMs);
    }
    return ids;
  }
}
