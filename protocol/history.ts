/**
 * History kept for replay (复盘回放): the city as it stood at a past time, read from the backend's checkpoints
 * and change log (backend/history/). GET /history/range says what can be replayed; GET /history/state?at=T
 * answers the records at T, filtered by the reader's area scope as the live sync is. A refusal is a
 * HistoryRefusal: a code and a message in Chinese and English.
 */
import { z } from 'zod';
import { IsoTime, QueryTime } from './primitives';
import { COLLECTIONS } from './model';

/** Days of history kept by default (the backend's --replay-days). */
export const HISTORY_DAYS_DEFAULT = 30;

export const HistoryRefusalCode = z.enum([
  // the query is malformed (a time that is no time, an unknown collection): 400
  'bad-query',
  // T is after the city's current time: 400
  'future',
  // T is before the first checkpoint (nothing was kept from then: the generated history has no log): 410
  'before-history',
  // T is older than the retention (its history was pruned): 410
  'beyond-retention',
  // no history at all yet (no checkpoint written): 404
  'no-data',
  // no valid console token: 401
  'unauthorized',
  // too many reads of past states in a moment: 429
  'too-many',
  // a time range longer than a route answers at once (tracks: 24 h): 400
  'range-too-long',
]);
export type HistoryRefusalCode = z.infer<typeof HistoryRefusalCode>;
export const HistoryRefusal = z.object({ code: z.union([HistoryRefusalCode, z.string().max(40)]), message: z.string().max(500) });
export type HistoryRefusal = z.infer<typeof HistoryRefusal>;

/** GET /history/range: what can be replayed now. */
export const HistoryRange = z.object({
  /** The first time a state can be rebuilt for (the oldest checkpoint); null: none yet. */
  earliest: IsoTime.nullable(),
  /** The city's time now (the latest state). */
  latest: IsoTime,
  retentionDays: z.number().int().positive(),
  checkpoints: z.number().int().nonnegative(),
});
export type HistoryRange = z.infer<typeof HistoryRange>;

const HistoryCollection = z.enum(COLLECTIONS);

/** GET /history/state?at=T[&collections=events,timeline]: all collections unless some are named. */
export const HistoryStateQuery = z
  .object({
    at: QueryTime,
    collections: z
      .string()
      .max(400)
      .transform((v) => v.split(',').filter(Boolean))
      .pipe(z.array(HistoryCollection).min(1))
      .optional(),
  })
  .strict();
export type HistoryStateQuery = z.infer<typeof HistoryStateQuery>;

/** The records as they stood at `at` (the state after batch `seq`), the reader's scope applied. */
export const HistoryState = z.object({
  at: IsoTime,
  seq: z.number().int().nonnegative(),
  /** The checkpoint the state was rebuilt from. */
  checkpoint: z.object({ seq: z.number().int().nonnegative(), at: IsoTime }),
  collections: z.partialRecord(HistoryCollection, z.array(z.unknown())),
});
export type HistoryState = z.infer<typeof HistoryState>;

/** The longest range GET /history/tracks answers at once. */
export const TRACKS_MAX_RANGE_MS = 24 * 3_600_000;
/** Staff ids a tracks query may name at most. */
export const TRACKS_MAX_STAFF = 500;

/** GET /history/positions?at=T: where the staff were at T. */
export const HistoryPositionsQuery = z.object({ at: QueryTime }).strict();
export type HistoryPositionsQuery = z.infer<typeof HistoryPositionsQuery>;

/**
 * The staff on duty at `at`, the reader's scope applied, each [staffId, lon, lat, statusCode] (index into
 * STAFF_STATUS_CODES), placed along their recorded track (between the points around T). Staff with no point in
 * the 2 minutes before T, or offline then, are left out.
 */
export const HistoryPositions = z.object({
  at: IsoTime,
  items: z.array(z.tuple([z.string(), z.number(), z.number(), z.number().int().nonnegative()])),
});
export type HistoryPositions = z.infer<typeof HistoryPositions>;

/** GET /history/tracks?from=A&to=B[&staff=a,b]: the staff's tracks over at most 24 hours. */
export const HistoryTracksQuery = z
  .object({
    from: QueryTime,
    to: QueryTime,
    staff: z
      .string()
      .max(TRACKS_MAX_STAFF * 65)
      .transform((v) => [...new Set(v.split(',').filter(Boolean))])
      .pipe(z.array(z.string().max(64)).min(1).max(TRACKS_MAX_STAFF))
      .optional(),
  })
  .strict()
  .refine((q) => q.to > q.from, { message: 'to must be after from', path: ['to'] });
export type HistoryTracksQuery = z.infer<typeof HistoryTracksQuery>;

/**
 * Each staff member's track over [from, to] (the reader's scope applied): points [epoch ms, lon, lat, statusCode]
 * in time order, with the last point before `from` and the first after `to` when there are (to draw and
 * interpolate to the edges). A status holds from its point to the next; a line longer than 2 minutes between two
 * points is a gap (nothing was heard).
 */
export const HistoryTracks = z.object({
  from: IsoTime,
  to: IsoTime,
  tracks: z.array(z.object({ staffId: z.string(), points: z.array(z.tuple([z.number().int(), z.number(), z.number(), z.number().int().nonnegative()])) })),
});
export type HistoryTracks = z.infer<typeof HistoryTracks>;

/** Batches a seek may span before the answer is the whole state instead (reset). */
export const CHANGES_MAX_BATCHES = 20_000;
/** Batches GET /history/batches answers at most at once (default 1,000). */
export const BATCHES_LIMIT_MAX = 5000;
const SeqParam = z
  .string()
  .regex(/^\d{1,15}$/, 'a sequence number (0 or more)')
  .transform(Number);

/**
 * GET /history/changes?fromSeq=S&at=T: what a replaying console holding the state after batch S needs to hold the
 * state at T, backward or forward.
 */
export const HistoryChangesQuery = z.object({ fromSeq: SeqParam, at: QueryTime }).strict();
export type HistoryChangesQuery = z.infer<typeof HistoryChangesQuery>;

/** One change (as on the wire): an upsert with the record, or a removal. */
const HistoryChange = z.discriminatedUnion('op', [
  z.object({ op: z.literal('upsert'), collection: HistoryCollection, id: z.string(), data: z.unknown() }),
  z.object({ op: z.literal('remove'), collection: HistoryCollection, id: z.string() }),
]);

/**
 * The answer: the state at `at` is the state after batch `seq`. Every record touched between fromSeq and seq
 * (either way), valued as at `at` (a removal where it did not exist then, or lay outside the reader's scope).
 * `reset: true`: the span was too long to be worth a delta (over CHANGES_MAX_BATCHES batches, or fromSeq outside
 * the kept log): `changes` is then the whole state at `at` (every record as an upsert), to be swapped in.
 */
export const HistoryChanges = z.object({
  seq: z.number().int().nonnegative(),
  at: IsoTime,
  reset: z.literal(true).optional(),
  changes: z.array(HistoryChange),
});
export type HistoryChanges = z.infer<typeof HistoryChanges>;

/** GET /history/batches?after=B&until=T[&limit=N]: the batches after seq B committed at or before T, for playing forward. */
export const HistoryBatchesQuery = z
  .object({
    after: SeqParam,
    until: QueryTime,
    limit: z
      .string()
      .regex(/^\d{1,5}$/)
      .transform(Number)
      .pipe(z.number().int().min(1).max(BATCHES_LIMIT_MAX))
      .optional(),
  })
  .strict();
export type HistoryBatchesQuery = z.infer<typeof HistoryBatchesQuery>;

/**
 * The batches in seq order, the reader's scope applied (as the live sync's deltas); `more`: the limit cut the
 * answer (ask again after the last seq). `until` is the time answered up to (the city's time now at most).
 */
export const HistoryBatches = z.object({
  until: IsoTime,
  batches: z.array(z.object({ seq: z.number().int().positive(), at: IsoTime, changes: z.array(HistoryChange) })),
  more: z.boolean(),
});
export type HistoryBatches = z.infer<typeof HistoryBatches>;
