/**
 * What a command handler works with and what it may throw: the actor, the state it reads, the clock, new ids,
 * the grid locator, and the one error a dispatcher reads. Shared by every family of handlers.
 */
import type { AttachmentRef, CallRecord, Change, CollectionName, CollectionTypes, CommandPayload, CommandType, LonLat, RefusalReason, UserRole, WireErrorCode } from '../../protocol';
import { refusalReason, refusalZh, type Refusal } from '../refusals';

export interface Actor {
  id: string;
  name: string;
  role: UserRole | 'system';
  districtScope: string[] | null;
  /** A 网格员 (field) account's staff member: they act only on events assigned to them (helpers.requireAssigned). */
  staffId?: string | null;
  /** A 部门联络员 (liaison) account's department: they act only on events assigned to it. */
  departmentId?: string | null;
  /** The console the command came from (the name its hub gave itself at hello): kept with an alarm's acknowledgement. */
  console?: string | null;
}

/**
 * A refused command: the wire's code, the reason as a key of domain/refusals.ts with its parameters (a console
 * shows it in its window's language), and the message, the reason in Chinese (logs, the audit, older consoles).
 */
export class CommandError extends Error {
  readonly reason: RefusalReason;
  constructor(
    readonly code: Extract<WireErrorCode, 'invalid' | 'forbidden' | 'conflict' | 'expired'>,
    refusal: Refusal,
  ) {
    const reason = refusalReason(refusal);
    super(refusalZh(reason));
    this.reason = reason;
    this.name = 'CommandError';
  }
}

/** What the handlers read: the server's state, or the hub's overlay of pending guesses on its cache. */
export interface StateReader {
  get<C extends CollectionName>(collection: C, id: string): CollectionTypes[C] | undefined;
  /** Every row of a collection (what still names a department, the open events of a category). */
  all<C extends CollectionName>(collection: C): Iterable<CollectionTypes[C]>;
}

export interface CommandContext {
  state: StateReader;
  actor: Actor;
  /** Simulated time (the backend's clock). */
  now: Date;
  /** New unique ids (event ids are human-readable). */
  newId(kind: 'event' | 'cohandle' | 'handover' | 'extension'): string;
  /** Grid and district of a location, or null outside the city. */
  locate(location: LonLat): { gridId: string; districtId: string; address: string } | null;
  /**
   * An uploaded attachment a command names (report, feedback), undefined when there is none of that id. The
   * backend reads its store; the hub and the windows have none (their guesses carry no attachments until the
   * backend's answer does).
   */
  attachment?(id: string): AttachmentRef | undefined;
}

export interface CommandOutcome {
  changes: Change[];
  result: Record<string, unknown>;
  /** Calls the command logged (call.log): the backend keeps them in its calls, committed with the batch. */
  calls?: CallRecord[];
}

/** One handler per command type, each taking its own payload (the table in index.ts is checked complete). */
export type Handlers = { [T in CommandType]: (ctx: CommandContext, payload: CommandPayload<T>) => CommandOutcome };
