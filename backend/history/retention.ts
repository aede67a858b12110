/**
 * How long the history for replay is kept: the change log and the checkpoints older than `keepDays` of city time
 * are pruned by the instance that holds the store's lead, at most once an hour (service.ts), a bounded batch at
 * a time. The newest checkpoint at or before the bound stays (replay starts there) with the batches after it. The
 * calls consoles logged (call.log, table `calls`) are kept as long.
 *
 * This replaces the old count cap on the change log (the newest 50,000 batches, kept only while simulating):
 * a console resuming by deltas is unaffected — a cursor older than the log's start still gets a snapshot
 * (changesSince answers null), and one more than maxCatchUpBatches behind gets one anyway (wire/sync.ts).
 */
import type { Logger } from '../../node-util/logger';
import type { BackendStore, HistoryPruned } from '../store/types';
import { yieldNow } from './chunks';

export const DAY_MS = 86_400_000;
/** Rows of each kind deleted per statement, and statements per round at most. */
const PRUNE_BATCH = 5000;
const PRUNE_ROUNDS = 40;

/** Prunes what is older than `beforeMs` (city time); what it dropped. */
export async function pruneHistory(store: Pick<BackendStore, 'pruneHistory'>, beforeMs: number, log: Logger): Promise<HistoryPruned> {
  const total: HistoryPruned = { checkpoints: 0, batches: 0, chunks: 0 };
  const before = new Date(beforeMs).toISOString();
  for (let round = 0; round < PRUNE_ROUNDS; round++) {
    const pruned = await store.pruneHistory(before, PRUNE_BATCH);
    total.checkpoints += pruned.checkpoints;
    total.batches += pruned.batches;
    total.chunks += pruned.chunks;
    if (pruned.checkpoints < PRUNE_BATCH && pruned.batches < PRUNE_BATCH && pruned.chunks < PRUNE_BATCH) break;
    await yieldNow();
  }
  if (total.checkpoints + total.batches + total.chunks > 0) log.info('replay history pruned', { before, ...total });
  return total;
}

/** Drops the calls (call.log) begun before `beforeMs` (city time), a bounded batch at a time; how many. */
export async function pruneCalls(store: Pick<BackendStore, 'pruneCalls'>, beforeMs: number, log: Logger): Promise<number> {
  const before = new Date(beforeMs).toISOString();
  let total = 0;
  for (let round = 0; round < PRUNE_ROUNDS; round++) {
    const n = await store.pruneCalls(before, PRUNE_BATCH);
    total += n;
    if (n < PRUNE_BATCH) break;
    await yieldNow();
  }
  if (total > 0) log.info('calls pruned', { before, calls: total });
  return total;
}
