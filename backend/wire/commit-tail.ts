/**
 * Another instance's commits, to this instance's clients: whenever the store says someone may have committed
 * (PostgreSQL: a notification at each commit, and a slow poll), the batches after this instance's seq are read
 * from the log and published in order — applied to the state and fanned out like this instance's own. One read
 * at a time; a poke during a read asks for one more. A log that no longer reaches back to this instance's seq
 * (it was cut off from the store for long) reloads the state from the store and sends its clients to sync again.
 */
import type { Change } from '../../protocol';
import type { Logger } from '../../node-util/logger';
import type { CityState } from '../../domain';
import type { BackendStore, Watch } from '../store/types';

export interface CommitTailOptions {
  store: BackendStore;
  state: CityState;
  log: Logger;
  publish(seq: number, at: string, changes: Change[]): void;
  /** The state was reloaded from the store: every client must sync again. */
  reloaded(): void;
  /** The store's connection was lost or is back. */
  link(up: boolean, detail: string): void;
}

const PAGE = 500;

export class CommitTail {
  private watch: Watch | null = null;
  private reading: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private lastWarning = 0;

  constructor(private readonly o: CommitTailOptions) {}

  start(): void {
    this.watch = this.o.store.watchCommits(
      (seq) => {
        // This instance's own commits are announced too: nothing to read for a batch it has.
        if (seq === undefined || seq > this.o.state.seq) void this.poke();
      },
      (up, detail) => this.o.link(up, detail),
    );
  }

  /**
   * Reads and publishes what is new; safe to call any time. Resolves once a read that began after the call has
   * ended (a console about to sync waits on it to get everything committed so far).
   */
  poke(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.read().finally(() => (this.reading = null));
    return this.reading;
  }

  private async read(): Promise<void> {
    do {
      this.again = false;
      try {
        const batches = await this.o.store.changesSince(this.o.state.seq, PAGE);
        if (batches === null) await this.reload();
        else {
          for (const b of batches) this.o.publish(b.seq, b.at, b.changes);
          if (batches.length === PAGE) this.again = true;
        }
        this.failures = 0;
      } catch (e) {
        // The store is away (it says so through link), or a batch cannot be applied here: the next poke tries
        // again. Said once in a while, not at every poll, with how long it has been failing.
        this.failures++;
        if (Date.now() - this.lastWarning > 30_000) {
          this.lastWarning = Date.now();
          this.o.log.warn('cannot read other instances’ commits: this instance lags until it can', { seq: this.o.state.seq, failures: this.failures, error: (e as Error).message });
        }
        return;
      }
    } while (this.again && this.watch);
  }

  /** Consecutive failed reads (0: in step), for /healthz. */
  get failing(): number {
    return this.failures;
  }

  private async reload(): Promise<void> {
    const { state, store, log } = this.o;
    const loaded = await store.load();
    for (const [name, rows] of Object.entries(loaded.state)) {
      const mine = state.collections[name as keyof typeof state.collections] as Map<string, unknown>;
      mine.clear();
      for (const [id, row] of rows as Map<string, unknown>) mine.set(id, row);
      state.versions[name as keyof typeof state.versions]++;
    }
    log.warn('this instance fell behind the retained change log: state reloaded, clients sync again', { from: state.seq, to: loaded.seq });
    state.seq = loaded.seq;
    this.o.reloaded();
  }

  async close(): Promise<void> {
    const watch = this.watch;
    this.watch = null;
    await watch?.close();
  }
}
