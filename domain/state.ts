/** A city's state in memory: every collection by id, and the seq it reflects (backend and hub alike). */
export type LoadedState = { [C in CollectionName]: Map<string, CollectionTypes[C]> };
import { COLLECTIONS, type Change, type CollectionName, type CollectionTypes, type GovEvent } from '../protocol';
import { OpenEventsIndex } from './open-events';

export class CityState {
  readonly collections: LoadedState;
  seq: number;
  /** How many times each collection was changed through apply(): what derived indexes (a grid locator) check. */
  readonly versions: Record<CollectionName, number> = Object.fromEntries(COLLECTIONS.map((c) => [c, 0])) as Record<CollectionName, number>;

  /** The open events of each staff member and department, kept in step by apply() (built on first read). */
  readonly openEvents: OpenEventsIndex;

  constructor(collections?: LoadedState, seq = 0) {
    this.collections = collections ?? (Object.fromEntries(COLLECTIONS.map((c) => [c, new Map()])) as LoadedState);
    this.seq = seq;
    this.openEvents = new OpenEventsIndex(this.collections.events, () => this.versions.events);
  }

  get<C extends CollectionName>(collection: C, id: string): CollectionTypes[C] | undefined {
    return this.collections[collection].get(id);
  }

  all<C extends CollectionName>(collection: C): IterableIterator<CollectionTypes[C]> {
    return this.collections[collection].values();
  }

  apply(changes: readonly Change[]): void {
    for (const change of changes) {
      this.versions[change.collection]++;
      const map = this.collections[change.collection] as Map<string, unknown>;
      if (change.op === 'upsert') map.set(change.id, change.data);
      else map.delete(change.id);
      if (change.collection === 'events') this.openEvents.changed(change.id, change.op === 'upsert' ? (change.data as GovEvent) : undefined, this.versions.events - 1);
    }
  }
}

export function upsert<C extends CollectionName>(collection: C, item: CollectionTypes[C] & { id: string }): Change {
  return { op: 'upsert', collection, id: item.id, data: item };
}
