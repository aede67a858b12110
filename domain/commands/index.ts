/**
 * Command handlers for the whole five-step loop and the command-center actions, in one table checked complete
 * against the command set. The checks at the top of executeCommand (a known type, the role, the payload's
 * schema) are the one place a command is checked: the backend runs them, and the hub runs parseCommand (the
 * same type and schema checks) before it queues one. Illegal transitions are refused with a reason a
 * dispatcher can read.
 */
import { commandPayloads, describeIssues, validate, type CheckedCommand, type CommandType } from '../../protocol';
import { mayRun } from '../permissions';
import { CommandError, type CommandContext, type CommandOutcome, type Handlers } from './context';
import { eventLoopHandlers } from './event-loop';
import { commandCenterHandlers } from './command-center';
import { baseDataHandlers } from './base-data';
import { fieldWorkHandlers } from './field-work';
import { alarmHandlers } from './alarms';
import { locateHandlers } from './locate';
import { planHandlers } from './plans';
import { callHandlers } from './calls';

export { CommandError, type Actor, type CommandContext, type CommandOutcome, type StateReader } from './context';
export { timelineId } from './helpers';

const handlers: Handlers = { ...eventLoopHandlers, ...fieldWorkHandlers, ...locateHandlers, ...commandCenterHandlers, ...baseDataHandlers, ...alarmHandlers, ...planHandlers, ...callHandlers };

export function isCommandType(type: string): type is CommandType {
  return Object.prototype.hasOwnProperty.call(commandPayloads, type);
}

/**
 * A command's type and payload checked against the one table of payloads: the typed command (fields the
 * command does not have are dropped, strings trimmed, every field within its limits), or what is wrong.
 */
export function parseCommand(type: string, payload: unknown): { ok: true; command: CheckedCommand } | { ok: false; problem: string } {
  if (!isCommandType(type)) return { ok: false, problem: `unknown command type ${JSON.stringify(type)}` };
  return checkPayload(type, payload);
}

function checkPayload<T extends CommandType>(type: T, payload: unknown): { ok: true; command: CheckedCommand } | { ok: false; problem: string } {
  const checked = validate(commandPayloads[type], payload);
  if (!checked.ok) return { ok: false, problem: describeIssues(checked.issues) };
  // The one place the pair is joined: the payload was just checked against the schema of this very type,
  // which TypeScript cannot follow through a generic index (every other use of the union is checked).
  const command = { type, payload: checked.value } as CheckedCommand;
  return { ok: true, command };
}

/** Runs a checked command with its own handler (the table maps each type to the handler for its payload). */
function run<T extends CommandType>(ctx: CommandContext, command: { type: T; payload: Parameters<Handlers[T]>[1] }): CommandOutcome {
  const handler: Handlers[T] = handlers[command.type];
  return handler(ctx, command.payload);
}

/**
 * Validates, authorises and runs one command. Throws CommandError with the reason when refused. Returns the
 * validated payload too (unknown keys stripped, every field within its limits): what the audit keeps.
 */
export function executeCommand(ctx: CommandContext, type: string, rawPayload: unknown): CommandOutcome & { payload: Record<string, unknown> } {
  if (!isCommandType(type)) throw new CommandError('invalid', { key: 'command.unknownType', params: { type: JSON.stringify(type) ?? String(type) } });
  if (!mayRun(ctx.actor.role, type)) throw new CommandError('forbidden', { key: 'command.notAllowed', params: { role: ctx.actor.role, type } });
  const parsed = checkPayload(type, rawPayload);
  if (!parsed.ok) throw new CommandError('invalid', { key: 'command.invalidPayload', params: { type, problem: parsed.problem } });
  return { ...run(ctx, parsed.command), payload: parsed.command.payload };
}
