/**
 * The history kept for replay (复盘回放) on a backend instance: the reader of past states (state-at.ts: any
 * instance answers /history/ from the shared store), and, on the instance that holds the store's lead only, the
 * checkpoints (checkpoints.ts) and the retention (retention.ts), looked at every `pollMs`.
 */
import type { CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import type { SimClock } from '../clock';
import type { BackendStore, CheckpointRecord, HistoryPruned } from '../store/types';
import { HISTORY_DAYS_DEFAULT } from '../../protocol';
import { CheckpointWriter } from './checkpoints';
import { HistoryReader } from './state-at';
import { DAY_MS, pruneCalls, pruneHistory } from './retention';

export interface HistoryOptions {
  /** Days of city time kept (default 30). */
  keepDays?: number;
  /** How often the leader looks whether a checkpoint or a prune is due (wall ms, default 5 s); 0: only when run() is called (tests). */
  pollMs?: number;
  /** A checkpoint at least this often in city time (default an hour) and every this many batches (default 2,000). */
  everyCityMs?: number;
  everyBatches?: number;
}

const PRUNE_EVERY_MS = 3_600_000;

export class HistoryService {
  readonly reader: HistoryReader;
  readonly writer: CheckpointWriter;
  readonly keepDays: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** When the history was last pruned (wall clock, this instance). */
  private prunedAt = -Infinity;

  constructor(
    private readonly o: HistoryOptions & {
      store: BackendStore;
      state: CityState;
      clock: SimClock;
      log: Logger;
      /** Whether this instance holds the store's lead now (only it writes checkpoints and prunes). */
      leading(): boolean;
    },
  ) {
    this.keepDays = o.keepDays ?? HISTORY_DAYS_DEFAULT;
    this.reader = new HistoryReader({ store: o.store });
    this.writer = new CheckpointWriter({ store: o.store, state: o.state, clock: o.clock, ...(o.everyCityMs ? { everyCityMs: o.everyCityMs } : {}), ...(o.everyBatches ? { everyBatches: o.everyBatches } : {}) });
  }

  /**
   * The first round at once (the first start's checkpoint; after a restart, one when due), not waited for: a
   * checkpoint of a big city takes a second of encoding the start need not wait on (`run()` resolves when it is done).
   */
  async start(): Promise<void> {
    void this.run();
    const pollMs = this.o.pollMs ?? 5000;
    if (pollMs > 0) this.timer ??= setInterval(() => void this.run(), pollMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One round on the leader (not re-entered): a checkpoint when due, then the retention at most once an hour. */
  run(): Promise<void> {
    if (this.running || !this.o.leading()) return this.running ?? Promise.resolve();
    this.running = (async () => {
      if (await this.writer.due()) await this.writer.write();
      if (Date.now() - this.prunedAt >= PRUNE_EVERY_MS) {
        this.prunedAt = Date.now();
        await this.prune();
      }
    })()
      .catch((e: unknown) => this.o.log.error('replay history round failed', { error: (e as Error).stack }))
      .finally(() => (this.running = null));
    return this.running;
  }

  /** A checkpoint of the state now, whether due or not (tests, the bench). */
  async checkpoint(): Promise<CheckpointRecord> {
    await this.running;
    return this.writer.write();
  }

  /** What is older than keepDays of city time dropped now: the history, and the calls (call.log) kept as long. */
  async prune(): Promise<HistoryPruned & { calls: number }> {
    const beforeMs = this.o.clock.nowMs() - this.keepDays * DAY_MS;
    const pruned = await pruneHistory(this.o.store, beforeMs, this.o.log);
    return { ...pruned, calls: await pruneCalls(this.o.store, beforeMs, this.o.log) };
  }

  /** The earliest time a state can be rebuilt for (the oldest checkpoint), null when none is stored. */
  async earliest(): Promise<string | null> {
    return (await this.o.store.checkpointRange())?.first.at ?? null;
  }
}
