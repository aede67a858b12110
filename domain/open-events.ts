/**
 * The open events (not closed, not merged) of each staff member (assignee.staffId) and each department (the
 * assignee, or a co-handler: 协办), kept by the CityState that owns the events: what a phone's /field/api/me and a
 * department page's /department/api/me read at every poll, without scanning every event of the city.
 *
 * Built on first use (the hub's copy of the state never asks, and pays nothing), then kept in step by every
 * CityState.apply(). Anything that changes the events map without apply() (a full reload) moves the events'
 * version on: the index sees it is behind and builds again on the next read.
 */
import type { GovEvent } from '../protocol';

const isOpen = (e: GovEvent): boolean => e.status !== 'closed' && e.status !== 'merged';

export class OpenEventsIndex {
  private readonly byStaff = new Map<string, Set<string>>();
  private readonly byDepartment = new Map<string, Set<string>>();
  /** The keys each indexed event is under (to take it out when it changes). */
  private readonly keysOf = new Map<string, { staff: string | null; departments: string[] }>();
  /** The events' version the index reflects; -1: not built. */
  private reflects = -1;

  constructor(
    private readonly events: ReadonlyMap<string, GovEvent>,
    private readonly version: () => number,
  ) {}

  /** An event changed through apply() (`event` undefined: deleted); `before` is the events' version before it. */
  changed(id: string, event: GovEvent | undefined, before: number): void {
    if (this.reflects !== before) return; // not built, or behind: built again when read
    this.remove(id);
    if (event) this.add(event);
    this.reflects = before + 1;
  }

  /** The open events assigned to a staff member (any order). */
  ofStaff(staffId: string): GovEvent[] {
    this.fresh();
    return this.read(this.byStaff.get(staffId));
  }

  /** The open events a department leads or co-handles (any order). */
  ofDepartment(departmentId: string): GovEvent[] {
    this.fresh();
    return this.read(this.byDepartment.get(departmentId));
  }

  /** Built again when behind the events (or never built). */
  private fresh(): void {
    if (this.reflects === this.version()) return;
    this.byStaff.clear();
    this.byDepartment.clear();
    this.keysOf.clear();
    for (const event of this.events.values()) this.add(event);
    this.reflects = this.version();
  }

  private read(ids: Set<string> | undefined): GovEvent[] {
    const events: GovEvent[] = [];
    for (const id of ids ?? []) {
      const event = this.events.get(id);
      if (event) events.push(event);
    }
    return events;
  }

  private add(event: GovEvent): void {
    if (!isOpen(event)) return;
    const staff = event.assignee?.staffId ?? null;
    const departments = [...new Set([...(event.assignee?.departmentId ? [event.assignee.departmentId] : []), ...event.coHandlers])];
    if (staff === null && departments.length === 0) return;
    this.keysOf.set(event.id, { staff, departments });
    if (staff !== null) put(this.byStaff, staff, event.id);
    for (const d of departments) put(this.byDepartment, d, event.id);
  }

  private remove(id: string): void {
    const keys = this.keysOf.get(id);
    if (!keys) return;
    this.keysOf.delete(id);
    if (keys.staff !== null) take(this.byStaff, keys.staff, id);
    for (const d of keys.departments) take(this.byDepartment, d, id);
  }
}

function put(map: Map<string, Set<string>>, key: string, id: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(id);
}

function take(map: Map<string, Set<string>>, key: string, id: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) map.delete(key);
}
