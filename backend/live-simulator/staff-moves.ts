/**
 * Grid staff on duty, moved by the simulator: each along their walker's legs (patrol.ts) at their own speed, slower
 * while handling a task, and their status brought in line with the hour's duty roster. Staff whose phone says where
 * they are (POST /field/api/position) are left alone. 下沉干部 (role cadre) ignore the roster: they come on duty at
 * their pre-assigned grid a while (10–40 simulated minutes, their own) after they were first called (a level that
 * calls them set, or a switch between two such levels: the time is kept, cadresCalledSince), and
 * stand down when the level no longer calls them (unless still holding a task).
 */
import type { Change, Staff, StaffStatus } from '../../protocol';
import { levelProfileOf, upsert, type CityState } from '../../domain';
import type { Rng } from '../city-generator/random';
import type { CityIndex } from './city-index';
import type { SimCity } from './engine';
import { newWalker, nextLeg, type Walker } from './patrol';
import { onDutyShare } from './timing';

export type MovedPosition = { id: string; lon: number; lat: number; status: StaffStatus; districtId: string };

const MINUTE = 60_000;

/** A cadre's own time to reach their grid once called: 10–40 minutes, the same for them every time. */
export function cadreArrivalMs(staffId: string): number {
  let h = 0;
  for (const c of staffId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return (10 + (h % 31)) * MINUTE;
}

export class StaffMoves {
  private readonly walkers = new Map<string, Walker>();

  constructor(
    private readonly rng: Rng,
    private readonly city: SimCity,
    private readonly state: CityState,
    private readonly index: CityIndex,
    /** Staff the simulator leaves where they are now (their phone reports positions). */
    private readonly ownPhone?: (staffId: string) => boolean,
  ) {}

  /** The grids changed: every walker starts afresh. */
  reset(): void {
    this.walkers.clear();
  }

  private walker(staff: Staff): Walker {
    let w = this.walkers.get(staff.id);
    if (!w || w.gridId !== staff.gridId) {
      const gridIndex = this.index.gridIndexById.get(staff.gridId) ?? 0;
      w = newWalker(this.rng, staff, gridIndex, this.city);
      this.walkers.set(staff.id, w);
    }
    return w;
  }

  private chooseNext = (w: Walker): void => nextLeg(this.rng, w, this.city, this.index.nodeXY, this.index.mPerDegLon);

  /**
   * Moves staff on duty by `dtMs` of simulated time and brings statuses in line with the duty roster.
   * Returns the status changes to commit and every on-duty position.
   */
  move(nowMs: number, dtMs: number): { changes: Change[]; positions: MovedPosition[] } {
    const share = onDutyShare(nowMs);
    const nodes = this.city.roads?.nodes ?? [];
    const changes: Change[] = [];
    const positions: MovedPosition[] = [];
    const at = new Date(nowMs).toISOString();
    // Cap movement per tick so a fast clock does not teleport people across the city.
    const seconds = Math.min(dtMs, 120_000) / 1000;
    const level = this.state.get('commandLevel', 'current');
    // Since they were first called: a switch between two levels that both call them sends nobody home.
    const calledSince = level && levelProfileOf(this.state).callsCadres ? Date.parse(level.cadresCalledSince ?? level.since) : null;
    for (const staff of this.state.all('staff')) {
      if (!this.index.gridIndexById.has(staff.gridId) && !this.city.roads) continue; // in no grid of this city
      if (this.ownPhone?.(staff.id)) continue; // their phone says where they are (POST /field/api/position)
      const w = this.walker(staff);
      const cadre = staff.role === 'cadre';
      const onDuty = cadre ? (calledSince !== null && nowMs >= calledSince + cadreArrivalMs(staff.id)) || staff.openTasks > 0 : w.roster < share || staff.openTasks > 0;
      const status: StaffStatus = !onDuty ? 'offline' : staff.openTasks > 0 ? 'handling' : !cadre && w.roster > share * 0.9 ? 'idle' : 'patrolling';
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
}
