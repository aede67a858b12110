/**
 * What a window subscribes to and what it receives: the topics and filters (Query), the rows of the outbox
 * and of live positions, and the updates pushed to a subscriber (a whole result in pages, then patches).
 */
import { z } from 'zod';
import { EventSource, EventStatus, IsoTime, type CollectionName, type CollectionTypes } from '../model';
import { Collection } from '../wire-messages';
import { HubErrorShape } from './errors';
import { RefusalReason } from '../wire';

/** Which rows of a collection a window wants. Every condition given must hold. */
export const CollectionFilter = z
  .object({
    ids: z.array(z.string()).max(10_000).optional(),
    districtIds: z.array(z.string()).max(100).optional(),
    gridIds: z.array(z.string()).max(10_000).optional(),
    /** Timeline records of these events. */
    eventIds: z.array(z.string()).max(1000).optional(),
    statuses: z.array(EventStatus).optional(),
    sources: z.array(EventSource).optional(),
    categories: z.array(z.string()).max(100).optional(),
    /** Events: only those not closed or merged. */
    openOnly: z.boolean().optional(),
  })
  .strict();
export type CollectionFilter = z.infer<typeof CollectionFilter>;

/** Subscribable topics: connection state, settings, any collection by filter, live positions, the outbox. */
export const Query = z.discriminatedUnion('topic', [
  z.object({ topic: z.literal('connection') }).strict(),
  z.object({ topic: z.literal('settings') }).strict(),
  z.object({ topic: z.literal('collection'), collection: Collection, filter: CollectionFilter.optional() }).strict(),
  z.object({ topic: z.literal('positions') }).strict(),
  z.object({ topic: z.literal('outbox') }).strict(),
  z.object({ topic: z.literal('wall') }).strict(),
  z.object({ topic: z.literal('sip') }).strict(),
  z.object({ topic: z.literal('calls') }).strict(),
  z.object({ topic: z.literal('voice') }).strict(),
  z.object({ topic: z.literal('replay') }).strict(),
]);
export type Query = z.infer<typeof Query>;

/** A command waiting in the hub's outbox, or refused by the backend and kept for the user to retry or discard. */
export const OutboxEntry = z.object({
  id: z.string(), // the command id
  type: z.string(),
  payload: z.record(z.string(), z.unknown()),
  status: z.enum(['pending', 'rejected', 'expired']),
  queuedAt: IsoTime,
  expiresAt: IsoTime.nullable(),
  attempts: z.number().int().nonnegative(),
  /** Why the backend refused it: its code and message, and the reason's key when the backend sent one. */
  error: z.object({ code: z.string(), message: z.string(), reason: RefusalReason.optional() }).nullable(),
});
export type OutboxEntry = z.infer<typeof OutboxEntry>;

/**
 * One staff member's live position: [lon, lat], status code (index into STAFF_STATUS_CODES), and the server
 * time of the fix in ms (t), so a window can tell a stale dot from a live one.
 */
export const PositionRow = z.object({ id: z.string(), p: z.tuple([z.number(), z.number()]), s: z.number().int().min(0).max(3), t: z.number() });
export type PositionRow = z.infer<typeof PositionRow>;

/** A collection row as a window sees it: the entity, marked when it shows the guess of a pending command. */
export type ViewRow<C extends CollectionName> = CollectionTypes[C] & { pending?: true };

export const SubscriptionId = z.string().regex(/^sub-[0-9a-z-]{1,40}$/);

/**
 * An update pushed to a subscriber. "snapshot" replaces the whole result (first update, and whenever the
 * hub decides patching is not worth it); "patch" upserts/removes rows of keyed collections by id.
 */
export const SubscriptionUpdate = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('snapshot'),
    subscriptionId: SubscriptionId,
    topic: z.string(),
    data: z.unknown(),
    /** A large result of rows comes in pages: true on all but the last; the client joins them into one result. */
    more: z.literal(true).optional(),
  }),
  z.object({
    kind: z.literal('patch'),
    subscriptionId: SubscriptionId,
    topic: z.string(),
    upserts: z.array(z.record(z.string(), z.unknown())),
    removes: z.array(z.string()),
  }),
  z.object({
    kind: z.literal('error'),
    subscriptionId: SubscriptionId,
    topic: z.string(),
    error: z.lazy(() => HubErrorShape),
  }),
]);
export type SubscriptionUpdate = z.infer<typeof SubscriptionUpdate>;
