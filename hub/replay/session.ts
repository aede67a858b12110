/**
 * The console's replay (复盘回放): one hub-wide session every window follows. While it is active, the windows'
 * collection and positions subscriptions are served by a second Subscriptions over a ReplaySource (the city at
 * T) instead of the live one (HubSession.reroute moves each, with its id, and the first flush is a whole
 * result, so windows need no change); the outbox stays live.
 *
 * - start: a range, or an event's (reportedAt − margin … closedAt + margin, or now), at its start, paused;
 * - seek(T): GET /history/changes from the source's seq to T (back or forward), then the positions at T;
 * - play(speed): a timer every TICK_MS moves T on by speed × the wall time passed, applying the batches of
 *   GET /history/batches (prefetched PREFETCH_MS of city time ahead) whose time T passed, and reading the
 *   positions at T at most every POSITIONS_EVERY_MS; it stops at the range's end;
 * - stop: back to live.
 *
 * Moves run one after another (a chain). A refusal of the backend's history goes to the topic's `error` (its
 * Chinese message), the replay staying where it was.
 */
import {
  HubError,
  REPLAY_IDLE,
  REPLAY_MARGIN_MIN_DEFAULT,
  REPLAY_MARKS_MAX,
  type CallsAnswer,
  type HistoryBatches,
  type HistoryTracks,
  type ReplayMark,
  type ConnectionState,
  type ReplayStartParams,
  type ReplayState,
} from '../../protocol';
import { timelineId, type CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import { ObservableValue } from '../observable';
import { NOTHING_PENDING, Subscriptions, type RowQuery, type SubscriptionsOptions } from '../subscriptions';
import { ReplaySource } from './source';
import { ReplayFailure, type HistoryReads } from './fetch';

const TICK_MS = 250;
const PREFETCH_MS = 5 * 60_000;
const POSITIONS_EVERY_MS = 400;
const BATCHES_PAGE = 1000;
const MIN = 60_000;

export interface ReplayOptions {
  /** The replica's confirmed state (the live city: copied at the start, its alarms counted). */
  live(): CityState;
  reads: HistoryReads;
  /** The city's time now (ms, the backend's clock). */
  cityNow(): number;
  /** How the replay's Subscriptions are made (as the live ones, with no pending commands). */
  rows: Omit<SubscriptionsOptions, 'replica' | 'outbox'>;
  /** Every window's row subscriptions move (to the replay's, or back to the live ones). */
  reroute(): void;
  log: Logger;
}

interface Running {
  source: ReplaySource;
  rows: Subscriptions;
  fromMs: number;
  toMs: number;
  atMs: number;
  eventId: string | null;
  marks: ReplayMark[];
  /** Batches fetched ahead, not applied yet, and up to when (city ms) the buffer holds every batch. */
  buffer: HistoryBatches['batches'];
  bufferedUntil: number;
}

export class ReplaySession {
  readonly state = new ObservableValue<ReplayState>(REPLAY_IDLE);
  private run: Running | null = null;
  private playing = false;
  private speed = 1;
  private error: ReplayState['error'] = null;
  private timer: NodeJS.Timeout | null = null;
  private lastTickAt = 0;
  private ticking = false;
  private chain: Promise<unknown> = Promise.resolve();
  private positionsAt = 0;
  private positionsBusy = false;

  constructor(private readonly o: ReplayOptions) {}

  get active(): boolean {
    return this.run !== null;
  }

  /** The Subscriptions a window's row query is served by now: the replay's while active (never the outbox). */
  /** A replay's rows were read with its user's scope: another user (or none) signed in ends it. */
  endOnUserChange(connection: ObservableValue<ConnectionState>): void {
    let user = connection.value.user?.id ?? null;
    connection.subscribe((c) => {
      if ((c.user?.id ?? null) === user) return;
      user = c.user?.id ?? null;
      if (this.active) void this.stop().catch((e: unknown) => this.o.log.warn('replay not stopped at the change of user', { error: String(e) }));
    });
  }

  rowsFor(query: RowQuery): Subscriptions | null {
    // The outbox and the alarms stay live: a live alarm rings on a console that replays (the past's never do).
    const live = query.topic === 'outbox' || (query.topic === 'collection' && query.collection === 'alarms');
    return this.run && !live ? this.run.rows : null;
  }

  start(params: ReplayStartParams): Promise<ReplayState> {
    return this.queue(async () => {
      let fromMs: number;
      let toMs: number;
      let eventId: string | null = null;
      if ('eventId' in params) {
        const event = this.o.live().get('events', params.eventId);
        if (!event) throw new HubError('not-found', `没有这个事件：${params.eventId} / no event ${params.eventId}`);
        const margin = (params.marginMin ?? REPLAY_MARGIN_MIN_DEFAULT) * MIN;
        eventId = event.id;
        fromMs = Date.parse(event.reportedAt) - margin;
        // Up to the margin after its closure, not past the city's time now (as the hub knows it, or its last record
        // if that is later: the clock the hub was told may run behind a fast city): an open event's, now.
        const last = this.o.live().get('timeline', timelineId(event.id, event.timelineCount - 1));
        const now = Math.max(this.o.cityNow(), last ? Date.parse(last.at) : fromMs);
        const closedMs = event.closedAt ? Date.parse(event.closedAt) : null;
        toMs = closedMs === null ? now : Math.min(closedMs + margin, Math.max(now, closedMs));
      } else {
        fromMs = Date.parse(params.from);
        toMs = Date.parse(params.to);
      }
      this.halt();
      const source = new ReplaySource(this.o.live());
      try {
        source.applyChanges(await this.o.reads.changes(source.seq, fromMs));
      } catch (e) {
        throw e instanceof ReplayFailure ? e.toHubError() : e;
      }
      const marks = await this.marksOf(fromMs, toMs, eventId);
      const wasActive = this.run !== null;
      this.run?.rows.close();
      const rows = new Subscriptions({ ...this.o.rows, replica: source, outbox: NOTHING_PENDING });
      this.run = { source, rows, fromMs, toMs, atMs: fromMs, eventId, marks, buffer: [], bufferedUntil: fromMs };
      this.error = null;
      this.speed = 1;
      // The windows move to the replay's rows (again, when a replay is started over another: to the new one).
      this.o.reroute();
      await this.readPositions(true);
      this.o.log.info('replay started', { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), eventId, again: wasActive });
      return this.publish();
    });
  }

  seek(atIso: string): Promise<ReplayState> {
    return this.queue(async () => {
      const run = this.running();
      await this.moveTo(run, Date.parse(atIso));
      return this.publish();
    });
  }

  /** 0: pause; 1–60: play at that speed from T. */
  play(speed: number): Promise<ReplayState> {
    return this.queue(async () => {
      const run = this.running();
      if (speed === 0) this.pause();
      else {
        this.speed = speed;
        if (run.atMs >= run.toMs) await this.moveTo(run, run.fromMs);
        this.playing = true;
        this.lastTickAt = Date.now();
        this.timer ??= setInterval(() => this.tick(), TICK_MS);
      }
      return this.publish();
    });
  }

  stop(): Promise<ReplayState> {
    return this.queue(async () => {
      this.halt();
      const run = this.run;
      this.run = null;
      if (run) {
        this.o.reroute();
        run.rows.close();
        this.o.log.info('replay stopped', {});
      }
      this.error = null;
      return this.publish();
    });
  }

  /** The staff tracks over a range (for the map's tracks layer). */
  async tracks(fromIso: string, toIso: string, staffIds?: readonly string[]): Promise<HistoryTracks> {
    try {
      return await this.o.reads.tracks(Date.parse(fromIso), Date.parse(toIso), staffIds);
    } catch (e) {
      throw e instanceof ReplayFailure ? e.toHubError() : e;
    }
  }

  /** The calls about one event (for the 复盘 report): the backend's call log, refused as a Hub API error. */
  async calls(eventId: string, fromIso: string, toIso: string, limit?: number): Promise<CallsAnswer> {
    try {
      return await this.o.reads.calls(eventId, Date.parse(fromIso), Date.parse(toIso), limit);
    } catch (e) {
      throw e instanceof ReplayFailure ? e.toHubError() : e;
    }
  }

  /** The live state changed: the count of live alarms the windows show beside the replay. */
  liveChanged(): void {
    if (this.run && this.state.value.liveAlarms !== this.liveAlarms()) this.publish();
  }

  close(): void {
    this.halt();
    this.run?.rows.close();
    this.run = null;
  }

  // ── moving ───────────────────────────────────────────────────────────────────────────────────────────

  private queue<T>(job: () => Promise<T>): Promise<T> {
    const next = this.chain.then(job);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private running(): Running {
    if (!this.run) throw new HubError('unavailable', '未在回放 / no replay is active: start one first');
    return this.run;
  }

  private pause(): void {
    this.playing = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private halt(): void {
    this.pause();
    this.speed = 1;
  }

  /** A seek: the changes to T applied (a refusal: the error, T unchanged), then the positions at T. */
  private async moveTo(run: Running, atMs: number): Promise<boolean> {
    try {
      const change = run.source.applyChanges(await this.o.reads.changes(run.source.seq, atMs));
      run.rows.confirmedChanged(change);
    } catch (e) {
      if (!(e instanceof ReplayFailure)) throw e;
      this.error = { code: e.code.slice(0, 40), message: e.message.slice(0, 500) };
      return false;
    }
    run.atMs = atMs;
    run.fromMs = Math.min(run.fromMs, atMs);
    run.toMs = Math.max(run.toMs, atMs);
    run.buffer = [];
    run.bufferedUntil = atMs;
    this.error = null;
    await this.readPositions(true);
    // Playing goes on from T, not from T plus the time the seek took.
    this.lastTickAt = Date.now();
    return true;
  }

  private tick(): void {
    if (this.ticking || !this.playing || !this.run) return;
    this.ticking = true;
    void this.queue(() => this.step())
      .catch((e: unknown) => this.o.log.error('replay step failed', { error: (e as Error).stack }))
      .finally(() => (this.ticking = false));
  }

  /** T moves on by the wall time since the last step × speed; the batches it passed are applied. */
  private async step(): Promise<void> {
    const run = this.run;
    if (!run || !this.playing) return;
    const now = Date.now();
    const target = Math.min(run.atMs + (now - this.lastTickAt) * this.speed, run.toMs);
    this.lastTickAt = now;
    try {
      while (run.bufferedUntil < target) {
        const until = Math.min(target + PREFETCH_MS, run.toMs);
        const after = run.buffer.at(-1)?.seq ?? run.source.seq;
        const answer = await this.o.reads.batches(after, until, BATCHES_PAGE);
        run.buffer.push(...answer.batches);
        run.bufferedUntil = answer.more ? Date.parse(answer.batches.at(-1)!.at) : Math.max(Date.parse(answer.until), target);
      }
    } catch (e) {
      if (!(e instanceof ReplayFailure)) throw e;
      // The batches are gone (pruned) or refused: a seek there instead.
      if (!(await this.moveTo(run, target))) this.pause();
      this.publish();
      return;
    }
    while (run.buffer.length > 0 && Date.parse(run.buffer[0]!.at) <= target) run.rows.confirmedChanged(run.source.applyBatch(run.buffer.shift()!));
    run.atMs = target;
    if (target >= run.toMs) this.pause();
    if (now - this.positionsAt >= POSITIONS_EVERY_MS || !this.playing) void this.readPositions(false);
    this.publish();
  }

  /** The staff positions at T (none when no track was recorded then); `whole`: the windows get every position again. */
  private async readPositions(whole: boolean): Promise<void> {
    const run = this.run;
    if (!run || (this.positionsBusy && !whole)) return;
    this.positionsBusy = true;
    this.positionsAt = Date.now();
    const atMs = run.atMs;
    try {
      const answer = await this.o.reads.positions(atMs).catch((e: unknown) => {
        if (e instanceof ReplayFailure && e.code === 'no-data') return { at: new Date(atMs).toISOString(), items: [] };
        throw e;
      });
      if (this.run !== run) return;
      const { payload, left } = run.source.setPositions(answer);
      if (whole || left) run.rows.positionsReplaced();
      else run.rows.positionsArrived(payload);
    } catch (e) {
      if (!(e instanceof ReplayFailure)) throw e;
      this.o.log.warn('replay positions not read', { code: e.code, message: e.message });
    } finally {
      this.positionsBusy = false;
    }
  }

  /** The timeline records of the range (of the event when one was asked for), as they stood at its end. */
  private async marksOf(fromMs: number, toMs: number, eventId: string | null): Promise<ReplayMark[]> {
    try {
      // The range may end after the city's time now (an open event's): the records as they stand now then.
      const read = this.o.reads.timeline(toMs).catch((e: unknown) => {
        if (e instanceof ReplayFailure && e.code === 'future') return this.o.reads.timeline(this.o.cityNow());
        throw e;
      });
      const { collections } = await read;
      const titles = new Map((collections.events ?? []).map((e) => [(e as { id: string }).id, (e as { title?: string }).title ?? null]));
      const marks: ReplayMark[] = [];
      for (const r of (collections.timeline ?? []) as Array<{ at: string; eventId: string; action: string; actorName: string }>) {
        const t = Date.parse(r.at);
        if (t < fromMs || t > toMs || (eventId !== null && r.eventId !== eventId)) continue;
        marks.push({ at: r.at, eventId: r.eventId, action: r.action, actorName: r.actorName, title: titles.get(r.eventId) ?? null });
      }
      return marks.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).slice(0, REPLAY_MARKS_MAX);
    } catch (e) {
      if (!(e instanceof ReplayFailure)) throw e;
      this.o.log.warn('replay marks not read', { code: e.code, message: e.message });
      return [];
    }
  }

  private liveAlarms(): number {
    let n = 0;
    for (const alarm of this.o.live().collections.alarms.values()) if (alarm.ackedAt === null) n++;
    return n;
  }

  private publish(): ReplayState {
    const run = this.run;
    const iso = (ms: number): string => new Date(ms).toISOString();
    this.state.set(
      run
        ? { active: true, from: iso(run.fromMs), to: iso(run.toMs), at: iso(run.atMs), eventId: run.eventId, playing: this.playing, speed: this.speed, marks: run.marks, error: this.error, liveAlarms: this.liveAlarms() }
        : { ...REPLAY_IDLE, error: this.error },
    );
    return this.state.value;
  }
}
