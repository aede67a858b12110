/**
 * The serial command pipeline: commands from every client and the server's own changes (simulator, KPIs)
 * are applied one at a time in one order, each committed by the store before it is published or answered.
 * A command id is applied once: a repeat gets the first answer and changes nothing. With several instances on
 * one store, each command is decided in the store's write turn (one writer at a time across the instances),
 * after what the others committed meanwhile has been applied: one global order, exactly once by command id.
 */
import { RefusalReason, encodeFrame, errorFrame, type Change, type CommandAck, type WireErrorPayload } from '../../protocol';
import { CommandError, executeCommand, inAreaScope, type Actor, type CityState, type CommandContext } from '../../domain';
import type { Logger } from '../../node-util/logger';
import type { SimClock } from '../clock';
import type { BackendStore, ChangeBatch, CommandRecord } from '../store/types';
import { linksOf, refsNamed } from '../attachments/refs';

export type CommandAnswer = { frame: string; ack?: CommandAck };

export interface PipelineOptions {
  state: CityState;
  store: BackendStore;
  clock: SimClock;
  log: Logger;
  locate: CommandContext['locate'];
  newId: CommandContext['newId'];
  /** Applies a committed batch to the state and sends it to the clients (fan-out). */
  publish(seq: number, at: string, changes: Change[]): void;
}

export class CommandPipeline {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly inflight = new Map<string, Promise<CommandAnswer>>();

  constructor(private readonly o: PipelineOptions) {}

  /** Settles when everything queued so far has run (used when the server stops). */
  drained(): Promise<unknown> {
    return this.queue;
  }

  /**
   * Runs one command through the serialized pipeline. A command id seen before returns its first answer and
   * changes nothing (replays are harmless). Also used by the simulator (actor "system" / "sim:*").
   */
  submit(actor: Actor, commandId: string, type: string, payload: unknown, expiresAt?: string): Promise<CommandAnswer> {
    const running = this.inflight.get(commandId);
    if (running) return running.then((r) => ({ frame: r.ack ? encodeFrame('command.ack', { ...r.ack, duplicate: true }, commandId) : r.frame, ...(r.ack ? { ack: { ...r.ack, duplicate: true } } : {}) }));
    const work = this.queue.then(() => this.run(actor, commandId, type, payload, expiresAt));
    this.queue = work.catch(() => undefined);
    this.inflight.set(commandId, work);
    // Forgotten whether it succeeded or failed (the caller handles the failure; this chain must not leave one).
    const forget = (): void => void this.inflight.delete(commandId);
    work.then(forget, forget);
    return work;
  }

  private async run(actor: Actor, commandId: string, type: string, payload: unknown, expiresAt?: string): Promise<CommandAnswer> {
    const { store, state } = this.o;
    let made: { seq: number; at: string; changes: Change[] } | null = null;
    // The attachments the command names (uploaded before; never changed once stored), read before its turn.
    // A field or liaison account reads attachments by assignment, not by area: it may name only what no event
    // names yet (just uploaded). A console user may also name what an event in their area names.
    const byArea = actor.role !== 'field' && actor.role !== 'liaison';
    const attachments = await refsNamed(store, payload, (eventId) => {
      const event = byArea ? state.get('events', eventId) : undefined;
      return event !== undefined && inAreaScope(actor.districtScope, { districtId: event.districtId, gridId: event.gridId }, state);
    });
    // Decided in the city's write turn, on the state as every instance committed it (see catchUp).
    const answer = await store.writeTurn(state.seq, async (turn): Promise<CommandAnswer> => {
      this.catchUp(turn.missed);
      const previous = await turn.findCommand(commandId);
      if (previous) {
        if (previous.userId !== actor.id) {
          return { frame: errorFrame({ code: 'conflict', message: `command id ${commandId} was already used by another user`, inReplyTo: 'command', retryable: false }, commandId) };
        }
        if (previous.outcome.status === 'applied') {
          const ack: CommandAck = { commandId, seq: previous.outcome.seq, result: previous.outcome.result, duplicate: true };
          return { frame: encodeFrame('command.ack', ack, commandId), ack };
        }
        // The record is read back from the store (a boundary): a reason kept with it is checked before it is sent.
        const kept = RefusalReason.safeParse(previous.outcome.reason);
        return { frame: errorFrame({ code: previous.outcome.code as WireErrorPayload['code'], message: previous.outcome.message, ...(kept.success ? { reason: kept.data } : {}), inReplyTo: 'command', retryable: false }, commandId) };
      }
      const now = this.o.clock.now();
      const at = now.toISOString();
      const reject = async (code: 'invalid' | 'forbidden' | 'conflict' | 'expired', message: string, reason?: RefusalReason): Promise<CommandAnswer> => {
        const record: CommandRecord = { commandId, userId: actor.id, type, outcome: { status: 'rejected', code, message, ...(reason ? { reason } : {}) }, at };
        await turn.recordRejected(record, { at, userId: actor.id, kind: 'command-rejected', detail: { commandId, type, code, message: message.slice(0, 2000), ...(reason ? { reason: reason.key } : {}) } });
        return { frame: errorFrame({ code, message, ...(reason ? { reason } : {}), inReplyTo: 'command', retryable: false }, commandId) };
      };
      // Expiry is judged on real time: it protects decisions made on stale screens, whatever the sim speed.
      if (expiresAt && Date.parse(expiresAt) < Date.now()) return reject('expired', `command expired at ${expiresAt}`);
      let outcome;
      try {
        outcome = executeCommand({ state, actor, now, newId: this.o.newId, locate: this.o.locate, attachment: (id) => attachments.get(id) }, type, payload);
      } catch (e) {
        if (e instanceof CommandError) return reject(e.code, e.message, e.reason);
        this.o.log.error('command handler crashed', { commandId, type, error: (e as Error).stack });
        return { frame: errorFrame({ code: 'internal', message: 'internal error while running the command', inReplyTo: 'command', retryable: true }, commandId) };
      }
      const seq = state.seq + 1;
      await turn.commit({
        seq,
        at,
        changes: outcome.changes,
        command: { commandId, userId: actor.id, type, outcome: { status: 'applied', seq, result: outcome.result }, at },
        // The validated payload (unknown keys stripped, every field within its schema's limits), never the raw one.
        // The audit's time is the wall clock, like every other audit line (sign-ins, views, HTTP routes); the
        // city's own time is kept beside it when the clock is simulated (a demo running faster than real time).
        audit: [{ at: new Date().toISOString(), userId: actor.id, kind: 'command', detail: { commandId, type, payload: outcome.payload, seq, ...(actor.console ? { clientName: actor.console } : {}), ...(this.o.clock.rate !== 1 || Math.abs(now.getTime() - Date.now()) > 1000 ? { cityAt: at } : {}) } }],
        attachmentLinks: linksOf(outcome.payload, outcome.result),
        // The calls it logged (call.log), kept with the batch: both or neither.
        ...(outcome.calls?.length ? { calls: outcome.calls.map((c) => ({ id: c.id, at: c.at, eventId: c.eventId, userId: c.userId, data: c })) } : {}),
      });
      made = { seq, at, changes: outcome.changes };
      const ack: CommandAck = { commandId, seq, result: outcome.result, duplicate: false };
      return { frame: encodeFrame('command.ack', ack, commandId), ack };
    });
    // Published once committed (a turn that fails to commit leaves nothing behind, in memory or for clients).
    const committed = made as { seq: number; at: string; changes: Change[] } | null;
    if (committed) this.o.publish(committed.seq, committed.at, committed.changes);
    return answer;
  }

  /**
   * What other instances committed since this one's state, applied (and sent to this instance's clients) before
   * anything is decided on it: after it, the state is exactly the city as committed so far.
   */
  private catchUp(missed: readonly ChangeBatch[]): void {
    for (const batch of missed) this.o.publish(batch.seq, batch.at, batch.changes);
  }

  /**
   * Runs `work` in the pipeline's order and the city's write turn, on the state as every instance committed it:
   * the changes it gives (none: null) are committed as one batch and published like a command's. An import by an
   * administrator into the running city (backend/import/http-route.ts) goes this way, so its consoles get it at once.
   */
  commitPlanned<R>(work: (state: CityState) => Promise<{ result: R; changes: Change[] | null }>): Promise<{ result: R; seq: number | null }> {
    const job = this.queue.then(async () => {
      const { state, store } = this.o;
      let made: ChangeBatch | null = null;
      const result = await store.writeTurn(state.seq, async (turn) => {
        this.catchUp(turn.missed);
        const planned = await work(state);
        if (planned.changes && planned.changes.length > 0) {
          made = { seq: state.seq + 1, at: this.o.clock.now().toISOString(), changes: planned.changes };
          await turn.commit(made);
        }
        return planned.result;
      });
      const committed = made as ChangeBatch | null;
      if (committed) this.o.publish(committed.seq, committed.at, committed.changes);
      return { result, seq: committed?.seq ?? null };
    });
    this.queue = job.catch(() => undefined);
    return job;
  }

  /**
   * Commits changes made by the server itself (simulator, KPI refresh) as one batch through the same
   * pipeline, so they are sequenced with the commands.
   */
  commitSystemChanges(build: () => Change[]): Promise<number | null> {
    const work = this.queue.then(async () => {
      const { state, store } = this.o;
      const made = await store.writeTurn(state.seq, async (turn) => {
        this.catchUp(turn.missed);
        const changes = build();
        if (changes.length === 0) return null;
        const batch = { seq: state.seq + 1, at: this.o.clock.now().toISOString(), changes };
        await turn.commit(batch);
        return batch;
      });
      if (!made) return null;
      this.o.publish(made.seq, made.at, made.changes);
      return made.seq;
    });
    this.queue = work.catch(() => undefined);
    return work;
  }
}
