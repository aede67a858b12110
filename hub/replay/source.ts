/**
 * The city as it stood at the replay's time T, as the replay's Subscriptions read it (a RowSource, like the
 * replica live): a copy of the replica's state when the replay starts (its staff records copied too: the replica
 * moves them in place), then brought to T by the answers of GET /history/changes (a seek, either way) and the
 * batches of GET /history/batches (playing forward), in order. Staff positions are the tracks' at T
 * (GET /history/positions), never the positions a batch's staff record carries (those of its last status change).
 */
import { COLLECTIONS, type Change, type HistoryBatches, type HistoryChanges, type HistoryPositions, type PositionsPayload, type Staff } from '../../protocol';
import { CityState, type LoadedState } from '../../domain';
import type { ConfirmedChange } from '../replica';
import type { RowSource } from '../subscriptions';

export class ReplaySource implements RowSource {
  readonly confirmed: CityState;
  /** Where each staff member was at the last positions read (those on duty with a recent point), and when. */
  private readonly positions = new Map<string, [number, number, number]>();
  private positionsAtMs = 0;

  constructor(live: CityState) {
    const collections = Object.fromEntries(COLLECTIONS.map((c) => [c, new Map(live.collections[c] as Map<string, unknown>)])) as unknown as LoadedState;
    for (const [id, staff] of collections.staff) collections.staff.set(id, { ...staff, position: null });
    this.confirmed = new CityState(collections, live.seq);
  }

  get seq(): number {
    return this.confirmed.seq;
  }

  positionTime(staffId: string, updatedAt: string): number {
    return this.positions.has(staffId) ? this.positionsAtMs : Date.parse(updatedAt);
  }

  positionCode(staffId: string): number | undefined {
    return this.positions.get(staffId)?.[2];
  }

  /** The answer of /history/changes: applied, or swapped in whole (reset). */
  applyChanges(answer: HistoryChanges): ConfirmedChange {
    const changes = answer.changes as Change[];
    if (answer.reset) {
      for (const c of COLLECTIONS) {
        (this.confirmed.collections[c] as Map<string, unknown>).clear();
        this.confirmed.versions[c]++;
      }
    }
    this.apply(changes);
    this.confirmed.seq = answer.seq;
    return answer.reset ? { seq: answer.seq, reset: true } : { seq: answer.seq, changes };
  }

  /** One batch of /history/batches (the next after seq, in order). */
  applyBatch(batch: HistoryBatches['batches'][number]): ConfirmedChange {
    const changes = batch.changes as Change[];
    this.apply(changes);
    this.confirmed.seq = batch.seq;
    return { seq: batch.seq, changes };
  }

  /**
   * The staff positions at T: each placed, the others (off duty, nothing heard lately) without a position.
   * Answers them as a live positions frame, and whether someone shown before is no longer (a whole result then).
   */
  setPositions(answer: HistoryPositions): { payload: PositionsPayload; left: boolean } {
    const items = answer.items.filter(([id]) => this.confirmed.collections.staff.has(id));
    const before = new Set(this.positions.keys());
    this.positions.clear();
    for (const [id, lon, lat, code] of items) {
      this.positions.set(id, [lon, lat, code]);
      before.delete(id);
    }
    this.positionsAtMs = Date.parse(answer.at);
    for (const staff of this.confirmed.collections.staff.values()) this.place(staff);
    return { payload: { at: answer.at, items: items as PositionsPayload['items'] }, left: before.size > 0 };
  }

  private apply(changes: readonly Change[]): void {
    this.confirmed.apply(changes);
    // A staff record from the history carries the position of its last status change: the tracks' is the one shown.
    for (const c of changes) if (c.op === 'upsert' && c.collection === 'staff') this.place(this.confirmed.collections.staff.get(c.id));
  }

  /** Records that came from the history are this source's own: their position is set in place. */
  private place(staff: Staff | undefined): void {
    const at = staff && this.positions.get(staff.id);
    if (staff) staff.position = at ? [at[0], at[1]] : null;
  }
}
