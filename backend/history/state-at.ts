/**
 * The city as it stood at a past city time T (replay): the newest checkpoint taken at or before T, rebuilt from
 * its chunks, then the batches committed after it up to T applied in order.
 *
 * Decoded chunks are kept in an LRU by hash (immutable and shared by many checkpoints; bounded by their JSON
 * size), and the last few rebuilt states too: a seek forward from one of them (playback, a scrub to the right)
 * applies only the batches in between. A state handed out is never changed afterwards (a later seek copies its
 * Maps): callers read it, never write it.
 */
import { CityState, type LoadedState } from '../../domain';
import { COLLECTIONS, type CollectionName } from '../../protocol';
import type { BackendStore, ChangeBatch, CheckpointRecord } from '../store/types';
import { decodeChunk } from './chunks';

/** Batches read from the log a round while a state is brought forward. */
const PAGE = 2000;

export type HistoryFailure = 'no-data' | 'before-history';

export class HistoryUnavailable extends Error {
  constructor(
    readonly code: HistoryFailure,
    readonly earliest: string | null,
  ) {
    super(code === 'no-data' ? 'no checkpoint is stored yet' : `the history starts at ${earliest}`);
  }
}

export interface RebuiltState {
  state: CityState;
  /** The time it was asked for (ISO), and the checkpoint it was rebuilt from. */
  at: string;
  checkpoint: { seq: number; at: string };
}

export interface HistoryReaderOptions {
  store: Pick<BackendStore, 'checkpointAtOrBefore' | 'checkpointRange' | 'readChunks' | 'changesBetween'>;
  /** Decoded chunks kept, by their JSON size (default 128 MB). */
  maxChunkBytes?: number;
  /** Rebuilt states kept for seeks forward (default 4). */
  keepStates?: number;
}

export class HistoryReader {
  private readonly chunks = new Map<string, { records: unknown[]; bytes: number }>();
  private chunkBytes = 0;
  private readonly states: RebuiltState[] = [];
  /** What the last reads cost (the bench). */
  readonly stats = { chunksDecoded: 0, batchesApplied: 0, statesReused: 0 };

  constructor(private readonly o: HistoryReaderOptions) {}

  /** The state at `atMs` (city time); throws HistoryUnavailable when no checkpoint is that old. */
  async stateAt(atMs: number): Promise<RebuiltState> {
    const at = new Date(atMs).toISOString();
    const checkpoint = await this.o.store.checkpointAtOrBefore(at);
    if (!checkpoint) {
      const range = await this.o.store.checkpointRange();
      throw new HistoryUnavailable(range ? 'before-history' : 'no-data', range?.first.at ?? null);
    }
    // A state rebuilt lately from the same checkpoint at or before T: brought forward from there (the same T
    // again is that state, unless a batch of that time was committed since it was rebuilt).
    const from = this.states.filter((s) => s.checkpoint.seq === checkpoint.seq && s.at <= at).sort((a, b) => (a.at < b.at ? 1 : -1))[0];
    let state: CityState;
    let batches: ChangeBatch[];
    if (from) {
      this.stats.statesReused++;
      batches = await this.o.store.changesBetween(from.state.seq, at, PAGE);
      if (batches.length === 0 && from.at === at) return from;
      state = copyOf(from.state);
    } else {
      state = await this.rebuild(checkpoint);
      batches = await this.o.store.changesBetween(state.seq, at, PAGE);
    }
    for (;;) {
      for (const b of batches) {
        state.apply(b.changes);
        state.seq = b.seq;
      }
      this.stats.batchesApplied += batches.length;
      if (batches.length < PAGE) break;
      batches = await this.o.store.changesBetween(state.seq, at, PAGE);
    }
    const rebuilt: RebuiltState = { state, at, checkpoint: { seq: checkpoint.seq, at: checkpoint.at } };
    this.states.push(rebuilt);
    if (this.states.length > (this.o.keepStates ?? 4)) this.states.shift();
    return rebuilt;
  }

  /** A checkpoint's state from its chunks (those not decoded lately read in one query). */
  private async rebuild(checkpoint: CheckpointRecord): Promise<CityState> {
    const hashes = Object.values(checkpoint.manifest).flat();
    const got = new Map<string, unknown[]>();
    for (const hash of hashes) if (this.chunks.has(hash)) got.set(hash, this.touch(hash));
    const wanted = hashes.filter((h) => !got.has(h));
    const read = wanted.length > 0 ? await this.o.store.readChunks(wanted) : new Map<string, Buffer>();
    for (const hash of wanted) {
      const data = read.get(hash);
      if (!data) throw new Error(`checkpoint ${checkpoint.seq} names chunk ${hash.slice(0, 12)}, which is not stored`);
      const { records, rawBytes } = await decodeChunk(hash, data);
      this.stats.chunksDecoded++;
      this.remember(hash, records, rawBytes);
      got.set(hash, records);
    }
    const collections = Object.fromEntries(COLLECTIONS.map((c) => [c, new Map<string, unknown>()])) as unknown as LoadedState;
    for (const [collection, names] of Object.entries(checkpoint.manifest) as Array<[CollectionName, string[]]>) {
      const map = collections[collection] as Map<string, unknown> | undefined;
      if (!map) continue;
      for (const hash of names) for (const record of got.get(hash)!) map.set((record as { id: string }).id, record);
    }
    return new CityState(collections, checkpoint.seq);
  }

  private remember(hash: string, records: unknown[], bytes: number): void {
    this.chunks.set(hash, { records, bytes });
    this.chunkBytes += bytes;
    const limit = this.o.maxChunkBytes ?? 128 * 1024 * 1024;
    for (const [old, entry] of this.chunks) {
      if (this.chunkBytes <= limit || old === hash) break;
      this.chunks.delete(old);
      this.chunkBytes -= entry.bytes;
    }
  }

  /** A decoded chunk's records, marked as used lately. */
  private touch(hash: string): unknown[] {
    const entry = this.chunks.get(hash)!;
    this.chunks.delete(hash);
    this.chunks.set(hash, entry);
    return entry.records;
  }
}

/** A state's Maps copied (the records shared: never changed in place). */
function copyOf(state: CityState): CityState {
  return new CityState(Object.fromEntries(COLLECTIONS.map((c) => [c, new Map(state.collections[c] as Map<string, unknown>)])) as unknown as LoadedState, state.seq);
}
