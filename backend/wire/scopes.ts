/**
 * Area scopes on the wire (分级授权 at every level): what a session whose user is scoped to some districts,
 * streets or communities (admin unit ids, see domain/permissions.ts inAreaScope) is sent — in its snapshot, its
 * catch-up deltas and the live fan-out alike.
 *
 * - The records of SCOPED collections (staff, cameras, resources, places, events, timeline, alarms) only where they
 *   lie in the scope: by their grid (a grid carries its district, street and community), the history and the alarm
 *   of an event by the event's grid. A record known only by its district is seen by a district scope only.
 * - The map's context — admin units, grids, rules, departments, the command level — whole: a street user still
 *   sees the city's outline and its neighbours' boundaries on the map (geography, no one's data).
 * - KPIs computed for the scope: the stored `kpis` rows are the city's (one per period, refreshed by the leading
 *   instance); a scoped session is sent, under the same ids, the same periods computed at the same `computedAt`
 *   over its scope's events, staff, cameras and grids. Computed once per scope and refresh (cached), whether
 *   they go out in a snapshot or in place of a refresh's rows in a delta: a district leader's KPI wall counts the
 *   district, a street user's the street, and the sync needs no rows of its own.
 */
import { createHash } from 'node:crypto';
import type { AreaScope, Change, CollectionName, DeltaPayload, KpiSnapshot } from '../../protocol';
import { inAreaScope, type CityState, type ScopePlace } from '../../domain';
import { computeKpis } from '../kpi';

/** Collections filtered by the user's area scope. */
export const SCOPED: ReadonlySet<CollectionName> = new Set(['staff', 'cameras', 'resources', 'places', 'events', 'timeline', 'alarms']);

/** One key per distinct scope: what is encoded once and sent to every client of that scope. */
export const scopeKeyOf = (scope: readonly string[] | null): string => (scope === null ? '*' : [...scope].sort().join(','));

/**
 * The stamp of what a session's records are filtered by — the user's area scope (the role filters no records) —
 * told in the welcome and given back at the next hello: deltas continue a cursor only under the same stamp.
 */
export function syncStampOf(scopeKey: string): string {
  return createHash('sha256').update(`area:${scopeKey}`).digest('base64url').slice(0, 22);
}

export class AreaScopes {
  private readonly kpiCache = new Map<string, KpiSnapshot>();

  constructor(private readonly state: CityState) {}

  /**
   * The scope as the welcome tells it: each unit's level, code and name — its full name from the district down
   * (东城区第1街道), so a street or community is clear on its own (null: the whole city).
   */
  describe(scope: readonly string[] | null): AreaScope | null {
    if (scope === null) return null;
    return {
      units: scope.slice(0, 256).map((id) => {
        const unit = this.state.get('adminUnits', id);
        if (!unit) return { id: id.slice(0, 64), level: null, code: null, name: id.slice(0, 128) };
        const names = [unit.name];
        for (let up = unit.parentId ? this.state.get('adminUnits', unit.parentId) : undefined; up && up.level !== 'city' && names.length < 4; up = up.parentId ? this.state.get('adminUnits', up.parentId) : undefined) names.unshift(up.name);
        return { id, level: unit.level, code: unit.code.slice(0, 16), name: names.join('').slice(0, 128) };
      }),
    };
  }

  /** Where a record of a scoped collection lies: its district and grid; a history entry's or an alarm's, its event's. */
  placeOf(collection: CollectionName, data: unknown): ScopePlace {
    const record = data as { districtId: string; gridId?: string; eventId?: string };
    if ((collection === 'timeline' || collection === 'alarms') && record.eventId !== undefined) {
      const event = this.state.get('events', record.eventId);
      return event ? { districtId: event.districtId, gridId: event.gridId } : { districtId: record.districtId };
    }
    return { districtId: record.districtId, gridId: record.gridId };
  }

  visible(scope: readonly string[] | null, collection: CollectionName, data: unknown): boolean {
    if (scope === null || !SCOPED.has(collection)) return true;
    return inAreaScope(scope, this.placeOf(collection, data), this.state);
  }

  /**
   * A record as this scope is sent it: the same, except the KPI rows (computed for the scope). Camera records go
   * out unchanged: their streams open with the viewer's ticket (video/viewer-tickets.ts), checked per request.
   */
  outgoing(scope: readonly string[] | null, collection: CollectionName, data: unknown): unknown {
    return scope !== null && collection === 'kpis' ? this.kpisFor(scope, data as KpiSnapshot) : data;
  }

  /**
   * Where the records a batch removes or rewrites lay before it, read before the batch is applied (then they are
   * gone or moved): a record that left a scope (an import reassigning staff or cameras to another grid) is sent
   * to that scope as a removal.
   */
  placesOfRemovals(changes: readonly Change[]): Map<string, ScopePlace> {
    const places = new Map<string, ScopePlace>();
    for (const change of changes) {
      if (!SCOPED.has(change.collection)) continue;
      const record = this.state.get(change.collection, change.id);
      if (record) places.set(`${change.collection}:${change.id}`, this.placeOf(change.collection, record));
    }
    return places;
  }

  /**
   * The delta as a scoped user may see it. An upsert is judged on the state after the batch (one that moved out of
   * the scope, by where it lay before, becomes a removal); a removal by where the record lay (`removed`, read
   * before the batch was applied). A removal whose place is not known (catch-up
   * from the log) is passed on: removing an id the client does not hold is harmless.
   */
  delta(delta: DeltaPayload, scope: readonly string[] | null, removed?: ReadonlyMap<string, ScopePlace>): DeltaPayload {
    if (scope === null) return delta;
    const changes: Change[] = [];
    for (const change of delta.changes) {
      if (change.op === 'upsert') {
        if (this.visible(scope, change.collection, change.data)) changes.push(change.collection === 'kpis' ? { ...change, data: this.outgoing(scope, 'kpis', change.data) as KpiSnapshot } : change);
        else {
          // Moved out of the scope by this batch: the console drops it (it held it; nothing new is told).
          const before = SCOPED.has(change.collection) ? removed?.get(`${change.collection}:${change.id}`) : undefined;
          if (before !== undefined && inAreaScope(scope, before, this.state)) changes.push({ op: 'remove', collection: change.collection, id: change.id });
        }
      } else {
        const place = SCOPED.has(change.collection) ? removed?.get(`${change.collection}:${change.id}`) : undefined;
        if (place === undefined || inAreaScope(scope, place, this.state)) changes.push(change);
      }
    }
    return { ...delta, changes };
  }

  /** The city's KPI row of a period, computed for a scope at the same moment (cached per scope and refresh). */
  kpisFor(scope: readonly string[], row: KpiSnapshot): KpiSnapshot {
    const key = `${scopeKeyOf(scope)}|${row.id}|${row.computedAt}`;
    let scoped = this.kpiCache.get(key);
    if (!scoped) {
      scoped = computeKpis(this.state, row.id, new Date(row.computedAt), scope);
      if (this.kpiCache.size >= 64) this.kpiCache.delete(this.kpiCache.keys().next().value!);
      this.kpiCache.set(key, scoped);
    }
    return scoped;
  }
}
