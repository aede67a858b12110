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
  private reading = false;
  private again = false;

  constructor(private readonly o: CommitTailOptions) {}

  start(): void {
    this.watch = this.o.store.watchCommits(() => void this.poke(), (up, detail) => this.o.link(up, detail));
  }

  /** Reads and publishes what is new; safe to call any time. */
  async poke(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        const batches = await this.o.store.changesSince(this.o.state.seq, PAGE);
        if (batches === null) await this.reload();
        else {
          for (const b of batches) this.o.publish(b.seq, b.at, b.changes);
          if (batches.length === PAGE) this.again = true;
        }
      } while (this.again && this.watch);
    } catch (e) {
      // The store is away (it says so through link) or a batch did not fit: the next poke tries again.
      this.o.log.debug('reading commits failed', { error: (e as Error).message });
    } finally {
      this.reading = false;
    }
  }

  private async reload(): Promise<void> {
    const { state, store, log } = this.o;
    const loaded = await store.load();
    for (const [name, rows] of Object.entries(loaded.state)) {
      const mine = state.collections[name as keyof typeof state.collections] as Map<string, unknown>;
      mine.clear();
      for (const [id, row] of rows as Map<string, unknown>) mine.set(id, row);
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
