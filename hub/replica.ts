/**
 * The hub's copy of the backend's state, with one owner: the SQLite cache (hub/cache/) and the confirmed state
 * in memory change together, here and nowhere else. The link hands it what the backend sent (snapshot chunks,
 * whole deltas, positions), already checked and in order; the replica writes the cache, applies the same
 * change in memory, and tells its listeners (the connection, the subscriptions) what changed.
 */
import type { Change, CollectionName, CityLayerName, ConnectionState, PositionsPayload, WelcomePayload } from '../protocol';
import type { CityState } from '../domain';
import type { HubCache } from './cache/cache';
import type { LinkReplica } from './link-ports';

/** What changed in the confirmed state: the changes of one delta, or everything (a snapshot was swapped in). */
export type ConfirmedChange = { seq: number; changes: readonly Change[] } | { seq: number; reset: true };

export interface ReplicaListeners {
  confirmed(change: ConfirmedChange): void;
  /** Live positions arrived (the staff rows in memory already hold them). */
  positions(payload: PositionsPayload): void;
}

/** Who the hub was last signed in as (from the last welcome), for a cold start before the link is up. */
export type KnownUser = NonNullable<ConnectionState['user']> & { districtScope: string[] | null; areaScope?: ConnectionState['areaScope'] };

export class Replica implements LinkReplica {
  readonly confirmed: CityState;
  /** When each staff position was last reported (server time, ms): volatile like the positions. */
  private readonly positionTimes = new Map<string, number>();
  private positionsTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly cache: HubCache,
    private readonly listeners: ReplicaListeners,
  ) {
    this.confirmed = cache.loadState();
    // Live positions are volatile: kept in memory, written to the cache now and then for cold starts.
    this.positionsTimer = setInterval(() => this.cache.savePositions(this.confirmed), 30_000);
    this.positionsTimer.unref();
  }

  get lastSeq(): number {
    return this.cache.lastSeq;
  }

  // ── what the link hands over ─────────────────────────────────────────────────────────────────────────

  resumePoint(tokenHash: string): { lastSeq: number | null; staged: { snapshotId: string; nextIndex: number } | null; syncStamp: string | null } {
    // A cache filled under another token (another user, another scope) must not be continued from.
    const sameUser = this.cache.getMeta('tokenHash') === tokenHash;
    return { lastSeq: sameUser && this.cache.lastSeq > 0 ? this.cache.lastSeq : null, staged: sameUser ? this.cache.stagedSnapshot() : null, syncStamp: sameUser ? this.cache.getMeta('syncStamp') : null };
  }

  /** The stamp of the snapshot being received, written with it when it is whole (until then the old one stays). */
  private incomingStamp: string | null = null;

  welcomed(tokenHash: string, welcome: WelcomePayload): void {
    if (this.cache.getMeta('tokenHash') !== tokenHash) {
      this.cache.discardStagedSnapshot();
      this.cache.setMeta('tokenHash', tokenHash);
    }
    this.cache.setMeta('user', JSON.stringify({ ...welcome.user, districtScope: welcome.districtScope, areaScope: welcome.areaScope ?? null }));
    // Deltas: the records held are the area's the backend filters by now. A snapshot: they will be once it is whole.
    this.incomingStamp = welcome.syncStamp ?? null;
    if (welcome.sync === 'deltas') this.cache.setMeta('syncStamp', this.incomingStamp ?? '');
  }

  beginSnapshot(snapshotId: string, fromIndex: number): void {
    this.cache.beginSnapshot(snapshotId, fromIndex);
  }

  stageChunk(snapshotId: string, index: number, collection: CollectionName, items: unknown[]): void {
    this.cache.stageChunk(snapshotId, index, collection, items);
  }

  /** Swaps the staged snapshot in: in the cache (one transaction), then in memory from what the cache now holds. */
  finishSnapshot(snapshotId: string, seq: number): void {
    this.cache.finishSnapshot(snapshotId, seq);
    this.cache.setMeta('syncStamp', this.incomingStamp ?? '');
    const fresh = this.cache.loadState();
    for (const [name, map] of Object.entries(fresh.collections)) {
      const target = this.confirmed.collections[name as CollectionName] as Map<string, unknown>;
      target.clear();
      for (const [id, value] of map) target.set(id, value);
    }
    this.confirmed.seq = seq;
    this.listeners.confirmed({ seq, reset: true });
  }

  /** One whole delta, in order: the cache and lastSeq atomically, then the same changes in memory. */
  applyDelta(seq: number, changes: readonly Change[]): void {
    this.cache.applyDelta(seq, changes);
    this.confirmed.apply(changes);
    this.confirmed.seq = seq;
    this.listeners.confirmed({ seq, changes });
  }

  applyPositions(payload: PositionsPayload): void {
    const t = Date.parse(payload.at);
    for (const [id, lon, lat] of payload.items) {
      const staff = this.confirmed.collections.staff.get(id);
      if (staff) {
        staff.position = [lon, lat];
        this.positionTimes.set(id, t);
      }
    }
    this.listeners.positions(payload);
  }

  // ── what the rest of the hub reads ───────────────────────────────────────────────────────────────────

  /** When a staff member's position was last reported (ms), else when the row last changed. */
  positionTime(staffId: string, updatedAt: string): number {
    return this.positionTimes.get(staffId) ?? Date.parse(updatedAt);
  }

  knownUser(): KnownUser | null {
    const user = this.cache.getMeta('user');
    return user ? (JSON.parse(user) as KnownUser) : null;
  }

  /** When the cache was last in step with the backend (null: never). */
  get lastSyncedAt(): string | null {
    return this.cache.getMeta('lastSyncedAt');
  }

  recordSynced(at: string): void {
    this.cache.setMeta('lastSyncedAt', at);
  }

  /** A static city layer as cached, with the backend it came from. */
  cachedLayer(layer: CityLayerName): { url: string; data: unknown } | null {
    const cached = this.cache.getMeta(`layer:${layer}`);
    return cached ? (JSON.parse(cached) as { url: string; data: unknown }) : null;
  }

  cacheLayer(layer: CityLayerName, url: string, data: unknown): void {
    this.cache.setMeta(`layer:${layer}`, JSON.stringify({ url, data }));
  }

  close(): void {
    if (this.positionsTimer) clearInterval(this.positionsTimer);
    this.cache.savePositions(this.confirmed);
  }
}
