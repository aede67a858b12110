/**
 * What windows see: the confirmed state with every pending command replayed on top (rebase). The guesses
 * come from the same command handlers the backend runs (domain/), over an overlay that never touches the
 * confirmed state; the backend's answer replaces them as acks and deltas arrive.
 */
import type { Change, CollectionName, CollectionTypes, CommandFrame, LonLat } from '../protocol';
import { CommandError, executeCommand, type Actor, type CityState, type StateReader } from '../domain';

const key = (collection: string, id: string): string => `${collection}\u0000${id}`;

class Overlay implements StateReader {
  readonly entries = new Map<string, unknown>();
  constructor(private readonly base: CityState) {}
  get<C extends CollectionName>(collection: C, id: string): CollectionTypes[C] | undefined {
    const k = key(collection, id);
    if (this.entries.has(k)) return (this.entries.get(k) ?? undefined) as CollectionTypes[C] | undefined;
    return this.base.get(collection, id);
  }
  *all<C extends CollectionName>(collection: C): Iterable<CollectionTypes[C]> {
    for (const row of this.base.all(collection)) {
      const k = key(collection, (row as { id: string }).id);
      if (!this.entries.has(k)) yield row;
    }
    const prefix = key(collection, '');
    for (const [k, row] of this.entries) if (k.startsWith(prefix) && row !== null) yield row as CollectionTypes[C];
  }
  apply(changes: readonly Change[]): void {
    for (const c of changes) this.entries.set(key(c.collection, c.id), c.op === 'upsert' ? c.data : null);
  }
}

export interface Prediction {
  /** Whether the guess could be made (false: no known user yet, or the handlers refused it locally). */
  predicted: boolean;
  /** The local handlers' reason when they refused it (the backend still decides). */
  localError: string | null;
}

export class OptimisticView {
  private overlay: Overlay;
  readonly predictions = new Map<string, Prediction>();

  constructor(private readonly confirmed: CityState) {
    this.overlay = new Overlay(confirmed);
  }

  /** The row a window sees (undefined when it does not exist, or a pending command removes it). */
  get<C extends CollectionName>(collection: C, id: string): CollectionTypes[C] | undefined {
    return this.overlay.get(collection, id);
  }

  isGuess(collection: string, id: string): boolean {
    return this.overlay.entries.has(key(collection, id));
  }

  /** Keys (collection, id) the overlay touches now. */
  guessedKeys(): Array<[CollectionName, string]> {
    return [...this.overlay.entries.keys()].map((k) => k.split('\u0000') as [CollectionName, string]);
  }

  /**
   * Predicts one command queued after all the others: the same as a full replay with it at the end, without
   * replaying the rest (queueing thousands of commands offline stays linear). Returns what it touched.
   */
  append(entry: CommandFrame, actor: Actor | null, now: Date, locate: (l: LonLat) => { gridId: string; districtId: string; address: string } | null): Array<[CollectionName, string]> {
    if (!actor) {
      this.predictions.set(entry.commandId, { predicted: false, localError: null });
      return [];
    }
    try {
      const outcome = executeCommand(
        { state: this.overlay, actor, now, newId: (kind) => (kind === 'event' ? `PENDING-${entry.commandId}` : `pending-${kind}-${entry.commandId}`), locate },
        entry.type,
        entry.payload,
      );
      this.overlay.apply(outcome.changes);
      this.predictions.set(entry.commandId, { predicted: true, localError: null });
      return outcome.changes.map((c) => [c.collection, c.id]);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      this.predictions.set(entry.commandId, { predicted: false, localError: e.message });
      return [];
    }
  }

  /**
   * Replays the pending commands on a fresh overlay. Returns every (collection, id) whose view may have
   * changed: what the old and the new overlay touch.
   */
  rebuild(pending: readonly CommandFrame[], actor: Actor | null, now: Date, locate: (l: LonLat) => { gridId: string; districtId: string; address: string } | null): Array<[CollectionName, string]> {
    const before = this.guessedKeys();
    const overlay = new Overlay(this.confirmed);
    this.predictions.clear();
    for (const entry of pending) {
      if (!actor) {
        this.predictions.set(entry.commandId, { predicted: false, localError: null });
        continue;
      }
      try {
        const outcome = executeCommand(
          { state: overlay, actor, now, newId: (kind) => (kind === 'event' ? `PENDING-${entry.commandId}` : `pending-${kind}-${entry.commandId}`), locate },
          entry.type,
          entry.payload,
        );
        overlay.apply(outcome.changes);
        this.predictions.set(entry.commandId, { predicted: true, localError: null });
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
        this.predictions.set(entry.commandId, { predicted: false, localError: e.message });
      }
    }
    this.overlay = overlay;
    const seen = new Set<string>();
    const touched: Array<[CollectionName, string]> = [];
    for (const pair of [...before, ...this.guessedKeys()]) {
      const k = key(pair[0], pair[1]);
      if (!seen.has(k)) {
        seen.add(k);
        touched.push(pair);
      }
    }
    return touched;
  }
}
