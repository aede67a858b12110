/**
 * What windows see of rows, and when: the optimistic view (the confirmed state with the pending commands
 * replayed on top, view.ts) and every window's row subscriptions (a collection by filter, live positions, the
 * outbox). Changes arrive here from the replica and the outbox; each subscription collects what concerns it
 * and sends it coalesced, the first result in pages, nothing more to a congested window until it reads.
 */
import { STAFF_STATUS_CODES, type CollectionFilter, type CollectionName, type CommandFrame, type OutboxEntry, type PositionsPayload, type Query, type SubscriptionUpdate } from '../protocol';
import { maskPayload, maskRow, timelineId, type Actor, type CityState } from '../domain';
import { OptimisticView } from './view';
import { gridLocator } from './locate';
import { nextPage, type SnapshotPages } from './snapshot-pages';
import type { ConfirmedChange } from './replica';

/** The window side of a row subscription (a HubSession). */
export interface RowSubscriber {
  readonly info: { demo?: boolean };
  owns(subscriptionId: string): boolean;
  congested(): boolean;
  push(update: SubscriptionUpdate): void;
}

export type RowQuery = Extract<Query, { topic: 'collection' | 'positions' | 'outbox' }>;

/** The confirmed rows windows read (the replica live; a replay's past state, hub/replay/source.ts). */
export interface RowSource {
  readonly confirmed: CityState;
  /** When a staff member's position was last reported (ms), else when the row last changed. */
  positionTime(staffId: string, updatedAt: string): number;
  /** The status a position was heard with, when it is not the staff record's (replay: the track's at T). */
  positionCode?(staffId: string): number | undefined;
}

/** The commands whose guesses lie on top of the confirmed rows, and the outbox's rows (replay: none). */
export interface PendingSource {
  pending(): CommandFrame[];
  entries(): OutboxEntry[];
  readonly size: number;
}

/** What replay passes: nothing pending (its windows read the past; the outbox topic stays with the live rows). */
export const NOTHING_PENDING: PendingSource = { pending: () => [], entries: () => [], size: 0 };

export interface SubscriptionsOptions {
  replica: RowSource;
  outbox: PendingSource;
  /** How often a subscription's changes are sent to its window at most (coalescing). */
  flushIntervalMs?: number;
  /** Who the guesses are made for (null: not signed in yet: no guesses). */
  actor(): Actor | null;
  serverNow(): Date;
  /** Every window of a console signed in with the demo (viewer) account sees masked data. */
  viewerSignedIn(): boolean;
}

/** One window's subscription to rows, with what it holds and what is waiting to be sent. */
interface RowSubscription {
  id: string;
  session: RowSubscriber;
  kind: RowQuery['topic'];
  collection?: CollectionName;
  filter?: CollectionFilter;
  /** Ids the window holds now. */
  held: Set<string>;
  upserts: Map<string, Record<string, unknown>>;
  removes: Set<string>;
  /** Send the whole result next time instead of a patch. */
  reset: boolean;
  /** The whole result being sent page by page (patches wait until it is through). */
  pages: SnapshotPages | null;
  timer: NodeJS.Timeout | null;
}

const OPEN_STATUSES = new Set(['new', 'accepted', 'dispatched', 'handling', 'handled', 'followed-up']);

function matches(filter: CollectionFilter | undefined, row: Record<string, unknown>): boolean {
  if (!filter) return true;
  if (filter.ids && !filter.ids.includes(row.id as string)) return false;
  if (filter.districtIds && !filter.districtIds.includes(row.districtId as string)) return false;
  if (filter.gridIds && !filter.gridIds.includes(row.gridId as string)) return false;
  if (filter.statuses && !filter.statuses.includes(row.status as never)) return false;
  if (filter.sources && !filter.sources.includes(row.source as never)) return false;
  if (filter.categories && !filter.categories.includes(row.category as string)) return false;
  if (filter.eventIds && !filter.eventIds.includes(row.eventId as string)) return false;
  if (filter.openOnly && !OPEN_STATUSES.has(row.status as string)) return false;
  return true;
}

export class Subscriptions {
  readonly view: OptimisticView;
  private readonly rowSubs = new Set<RowSubscription>();
  /** The one subscription per session whose result is being sent page by page. */
  private readonly paging = new Map<RowSubscriber, RowSubscription>();
  private readonly dirty = new Map<string, [CollectionName, string]>();
  private needRebase = false;
  private resetAll = false;
  private processScheduled = false;
  private locate: ReturnType<typeof gridLocator> | null = null;
  private lastRebaseAt = 0;
  private rebaseTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly o: SubscriptionsOptions) {
    this.view = new OptimisticView(o.replica.confirmed);
    this.rebase();
  }

  // ── what changed ─────────────────────────────────────────────────────────────────────────────────────

  /** The replica applied a delta or swapped in a snapshot. */
  confirmedChanged(change: ConfirmedChange): void {
    if ('reset' in change) {
      this.locate = null;
      this.resetAll = true;
    } else {
      for (const c of change.changes) {
        this.markDirty([c.collection, c.id]);
        if (c.collection === 'grids') this.locate = null;
      }
    }
    this.rebaseSoon();
  }

  /** Live positions go straight to the windows that follow them (no view: positions are never guessed). */
  positionsArrived(payload: PositionsPayload): void {
    const t = Date.parse(payload.at);
    const rows = new Map<string, Record<string, unknown>>();
    for (const [id, lon, lat, s] of payload.items) rows.set(id, { id, p: [lon, lat], s, t });
    for (const sub of this.rowSubs) {
      if (sub.kind !== 'positions') continue;
      for (const [id, row] of rows) {
        sub.upserts.set(id, row);
        sub.held.add(id);
      }
      this.scheduleFlush(sub);
    }
  }

  /** Every positions subscription gets the whole result again (a replay moved to another time: some staff left). */
  positionsReplaced(): void {
    for (const sub of this.rowSubs) {
      if (sub.kind !== 'positions') continue;
      sub.reset = true;
      this.scheduleFlush(sub);
    }
  }

  /** Predicts a command queued after all the others; answers whether the guess could be made. */
  predict(frame: CommandFrame): boolean {
    this.locate ??= gridLocator(this.o.replica.confirmed);
    for (const pair of this.view.append(frame, this.o.actor(), this.o.serverNow(), this.locate)) this.markDirty(pair);
    return this.predicted(frame.commandId);
  }

  predicted(commandId: string): boolean {
    return this.view.predictions.get(commandId)?.predicted ?? false;
  }

  /** The outbox changed: its windows get the new rows; rebase: the guesses are replayed. */
  outboxChanged(rebase: boolean): void {
    for (const sub of this.rowSubs) {
      if (sub.kind !== 'outbox') continue;
      const rows = this.rowsOf(sub);
      const now = new Set(rows.map((r) => r.id as string));
      for (const row of rows) {
        sub.upserts.set(row.id as string, row);
        sub.removes.delete(row.id as string);
      }
      // A command queued and answered before the window's next patch: its upsert must not outlive its removal.
      for (const id of sub.held) {
        if (now.has(id)) continue;
        sub.upserts.delete(id);
        sub.removes.add(id);
      }
      sub.held = now;
      this.scheduleFlush(sub);
    }
    if (rebase) this.needRebase = true;
    this.scheduleProcess();
  }

  /** The guesses are replayed on the next run (a new user, a new clock, the confirmed state moved). */
  rebaseSoon(): void {
    this.needRebase = true;
    this.scheduleProcess();
  }

  private markDirty(pair: [CollectionName, string]): void {
    this.dirty.set(`${pair[0]}\u0000${pair[1]}`, pair);
  }

  private rebase(): Array<[CollectionName, string]> {
    this.locate ??= gridLocator(this.o.replica.confirmed);
    return this.view.rebuild(this.o.outbox.pending(), this.o.actor(), this.o.serverNow(), this.locate);
  }

  private scheduleProcess(): void {
    if (this.processScheduled || this.closed) return;
    this.processScheduled = true;
    setImmediate(() => {
      this.processScheduled = false;
      this.process();
    });
  }

  /** Brings every row subscription up to date with what changed since the last run. */
  private process(): void {
    if (this.closed) return;
    if (this.needRebase) {
      // A rebase replays the whole queue: with a long queue (an offline backlog draining), at most every 100 ms.
      const wait = this.o.outbox.size > 50 ? this.lastRebaseAt + 100 - Date.now() : 0;
      if (wait > 0) {
        if (!this.rebaseTimer) {
          this.rebaseTimer = setTimeout(() => {
            this.rebaseTimer = null;
            this.scheduleProcess();
          }, wait);
        }
      } else {
        this.needRebase = false;
        this.lastRebaseAt = Date.now();
        for (const pair of this.rebase()) this.markDirty(pair);
      }
    }
    const resetAll = this.resetAll;
    this.resetAll = false;
    const dirty = [...this.dirty.values()];
    this.dirty.clear();
    for (const sub of this.rowSubs) {
      if (sub.kind !== 'collection') continue;
      if (resetAll) {
        sub.reset = true;
        this.scheduleFlush(sub);
        continue;
      }
      let touched = false;
      for (const [collection, id] of dirty) {
        if (collection !== sub.collection) continue;
        this.touch(sub, id);
        touched = true;
      }
      if (touched) this.scheduleFlush(sub);
    }
  }

  // ── rows ─────────────────────────────────────────────────────────────────────────────────────────────

  /** Demo screens, and every window of a console logged in with the demo (viewer) or an inspector account, see masked data. */
  private masked(session: RowSubscriber): boolean {
    return session.info.demo === true || this.o.viewerSignedIn();
  }

  private viewRow(collection: CollectionName, id: string, masked: boolean): Record<string, unknown> | undefined {
    const found = this.view.get(collection, id) as Record<string, unknown> | undefined;
    if (!found) return undefined;
    const row = masked ? maskRow(collection, found) : found;
    return this.view.isGuess(collection, id) ? { ...row, pending: true } : row;
  }

  private touch(sub: RowSubscription, id: string): void {
    const row = this.viewRow(sub.collection!, id, this.masked(sub.session));
    if (row && matches(sub.filter, row)) {
      sub.upserts.set(id, row);
      sub.removes.delete(id);
      sub.held.add(id);
    } else if (sub.held.has(id)) {
      sub.held.delete(id);
      sub.upserts.delete(id);
      sub.removes.add(id);
    }
  }

  /** The whole current result of a row subscription. */
  private rowsOf(sub: RowSubscription): Array<Record<string, unknown>> {
    const masked = this.masked(sub.session);
    if (sub.kind === 'outbox') {
      const entries = this.o.outbox.entries();
      return (masked ? entries.map((e) => ({ ...e, payload: maskPayload(e.payload) })) : entries) as unknown as Array<Record<string, unknown>>;
    }
    if (sub.kind === 'positions') {
      const rows: Array<Record<string, unknown>> = [];
      for (const staff of this.o.replica.confirmed.all('staff')) {
        const s = this.o.replica.positionCode?.(staff.id) ?? STAFF_STATUS_CODES.indexOf(staff.status);
        if (staff.position && STAFF_STATUS_CODES[s] !== 'offline') rows.push({ id: staff.id, p: staff.position, s, t: this.o.replica.positionTime(staff.id, staff.updatedAt) });
      }
      return rows;
    }
    const collection = sub.collection!;
    const rows: Array<Record<string, unknown>> = [];
    const seen = new Set<string>();
    for (const id of this.candidateIds(collection, sub.filter)) {
      seen.add(id);
      const row = this.viewRow(collection, id, masked);
      if (row && matches(sub.filter, row)) rows.push(row);
    }
    for (const [c, id] of this.view.guessedKeys()) {
      if (c !== collection || seen.has(id)) continue;
      const row = this.viewRow(collection, id, masked);
      if (row && matches(sub.filter, row)) rows.push(row);
    }
    return rows;
  }

  /**
   * The ids a filter can match, without building every row of the collection: a subscription to one event
   * (ids) or to its history (eventIds: the history's ids follow from the event's timelineCount) reads those
   * rows only, not the whole collection (~40,000 history records at 30 days).
   */
  private candidateIds(collection: CollectionName, filter: CollectionFilter | undefined): Iterable<string> {
    if (filter?.ids) return filter.ids;
    if (collection === 'timeline' && filter?.eventIds) {
      return filter.eventIds.flatMap((eventId) => Array.from({ length: this.view.get('events', eventId)?.timelineCount ?? 0 }, (_, i) => timelineId(eventId, i)));
    }
    return this.o.replica.confirmed.collections[collection].keys();
  }

  // ── sending ──────────────────────────────────────────────────────────────────────────────────────────

  private scheduleFlush(sub: RowSubscription, delayMs = this.o.flushIntervalMs ?? 100): void {
    if (sub.timer || this.closed) return;
    sub.timer = setTimeout(() => {
      sub.timer = null;
      this.flush(sub);
    }, delayMs);
  }

  private flush(sub: RowSubscription): void {
    if (!sub.session.owns(sub.id)) return;
    // A window with a lot unread gets nothing more for now: its changes keep coalescing in upserts/removes.
    if (sub.session.congested()) return this.scheduleFlush(sub);
    const topic = sub.kind === 'collection' ? `collection:${sub.collection}` : sub.kind;
    if (sub.reset && !sub.pages) {
      // One result in pages per session at a time: each holds its rows until they are sent.
      const busy = this.paging.get(sub.session);
      if (busy && busy !== sub) return this.scheduleFlush(sub);
      sub.reset = false;
      const rows = this.rowsOf(sub);
      sub.held = new Set(rows.map((r) => r.id as string));
      sub.upserts.clear();
      sub.removes.clear();
      sub.pages = { rows, next: 0 };
    }
    if (sub.pages) {
      const { data, more } = nextPage(sub.pages);
      sub.session.push({ kind: 'snapshot', subscriptionId: sub.id, topic, data, ...(more ? { more } : {}) });
      if (more) {
        this.paging.set(sub.session, sub);
        this.scheduleFlush(sub, 0);
        return;
      }
      sub.pages = null;
      if (this.paging.get(sub.session) === sub) this.paging.delete(sub.session);
      if (sub.reset || sub.upserts.size > 0 || sub.removes.size > 0) this.scheduleFlush(sub);
      return;
    }
    if (sub.upserts.size === 0 && sub.removes.size === 0) return;
    const upserts = [...sub.upserts.values()];
    const removes = [...sub.removes];
    sub.upserts.clear();
    sub.removes.clear();
    sub.session.push({ kind: 'patch', subscriptionId: sub.id, topic, upserts, removes });
  }

  /** A window opens a row subscription: the first result goes out right after the reply. */
  add(session: RowSubscriber, id: string, query: RowQuery): () => void {
    const sub: RowSubscription = {
      id,
      session,
      kind: query.topic,
      ...(query.topic === 'collection' ? { collection: query.collection, ...(query.filter ? { filter: query.filter } : {}) } : {}),
      held: new Set(),
      upserts: new Map(),
      removes: new Set(),
      reset: true,
      pages: null,
      timer: null,
    };
    this.rowSubs.add(sub);
    setImmediate(() => this.flush(sub));
    return () => {
      if (sub.timer) clearTimeout(sub.timer);
      this.rowSubs.delete(sub);
      if (this.paging.get(session) === sub) this.paging.delete(session);
    };
  }

  close(): void {
    this.closed = true;
    if (this.rebaseTimer) clearTimeout(this.rebaseTimer);
  }
}
