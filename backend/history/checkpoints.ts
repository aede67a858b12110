/**
 * Checkpoints of the whole city for replay, written by the instance that holds the store's lead
 * (backend/history/service.ts runs it): one at the first start (when none is stored), then every
 * `everyCityMs` of city time (60 city minutes) or every `everyBatches` batches (2,000), whichever comes first,
 * and only when something was committed since the last.
 *
 * The live state is copied synchronously (the Maps' records, a few ms): records are replaced by apply(), never
 * changed, so the copy is the state after `state.seq` however long the rest takes — except `staff.position`,
 * moved in place by the simulator and the relay, which may come out a little newer (replay takes positions from
 * tracks). The chunks (chunks.ts) are then encoded one by one, the event loop running between them. A chunk whose
 * records are the very objects of the last checkpoint's is not encoded again: its hash is known.
 */
import { COLLECTIONS, type CollectionName } from '../../protocol';
import type { CityState } from '../../domain';
import type { SimClock } from '../clock';
import type { BackendStore, CheckpointChunk, CheckpointManifest, CheckpointRecord } from '../store/types';
import { cutCollection, encodeChunk, yieldNow } from './chunks';

export const CHECKPOINT_EVERY_CITY_MS = 3_600_000;
export const CHECKPOINT_EVERY_BATCHES = 2000;

export interface CheckpointWriterOptions {
  store: Pick<BackendStore, 'putCheckpoint' | 'checkpointRange'>;
  state: CityState;
  clock: Pick<SimClock, 'now' | 'nowMs'>;
  everyCityMs?: number;
  everyBatches?: number;
}

interface Encoded {
  records: unknown[];
  hash: string;
}

export class CheckpointWriter {
  /** The last checkpoint stored (by anyone: read at the first round), null before it is known. */
  private last: { seq: number; atMs: number } | null = null;
  private known = false;
  /** Each chunk of the last checkpoint written here, by collection and key: reused when its records are the same objects. */
  private previous = new Map<string, Encoded>();
  /**
   * Hashes of the last checkpoint written here: stored, and kept stored (retention keeps the newest checkpoint and
   * the chunks it names), so not sent again. Older ones may have been pruned: those are sent again when they recur.
   */
  private stored = new Set<string>();
  /** Bytes written by this writer (gzip'd chunks), for operators and the bench. */
  bytesWritten = 0;

  constructor(private readonly o: CheckpointWriterOptions) {}

  /** Whether a checkpoint is due now (the first one when none is stored). */
  async due(): Promise<boolean> {
    if (!this.known) {
      const range = await this.o.store.checkpointRange();
      this.last = range ? { seq: range.last.seq, atMs: Date.parse(range.last.at) } : null;
      this.known = true;
    }
    if (!this.last) return true;
    const { state, clock } = this.o;
    if (state.seq <= this.last.seq) return false;
    return state.seq - this.last.seq >= (this.o.everyBatches ?? CHECKPOINT_EVERY_BATCHES) || clock.nowMs() - this.last.atMs >= (this.o.everyCityMs ?? CHECKPOINT_EVERY_CITY_MS);
  }

  /** Writes a checkpoint of the state now; what it wrote. */
  async write(): Promise<CheckpointRecord> {
    const { state, clock, store } = this.o;
    // The copy, synchronously: the state after `seq`, whatever is committed while the chunks are encoded.
    const seq = state.seq;
    const at = clock.now().toISOString();
    const copies = COLLECTIONS.map((c) => [c, [...state.collections[c].values()]] as [CollectionName, unknown[]]);
    const manifest: CheckpointManifest = {};
    const chunks: CheckpointChunk[] = [];
    const next = new Map<string, Encoded>();
    for (const [collection, records] of copies) {
      const hashes: string[] = [];
      for (const [key, group] of cutCollection(collection, records)) {
        const name = `${collection}\u0000${key}`;
        const before = this.previous.get(name);
        let encoded: Encoded;
        if (before && before.records.length === group.length && before.records.every((r, i) => r === group[i])) encoded = before;
        else {
          await yieldNow();
          const chunk = await encodeChunk(group);
          encoded = { records: group, hash: chunk.hash };
          if (!this.stored.has(chunk.hash)) chunks.push({ hash: chunk.hash, data: chunk.data });
        }
        next.set(name, encoded);
        hashes.push(encoded.hash);
      }
      manifest[collection] = hashes;
    }
    const checkpoint: CheckpointRecord = { seq, at, manifest };
    try {
      await store.putCheckpoint(checkpoint, chunks);
    } catch (e) {
      // A chunk thought stored is not (another instance pruned it, or the write failed): everything is sent again next time.
      this.stored.clear();
      this.previous.clear();
      throw e;
    }
    for (const c of chunks) this.bytesWritten += c.data.length;
    this.stored = new Set([...next.values()].map((e) => e.hash));
    this.previous = next;
    this.last = { seq, atMs: Date.parse(at) };
    return checkpoint;
  }
}
