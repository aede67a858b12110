/**
 * A command as a window submits it to the hub and the receipt it gets back. The request's schema checks the
 * envelope; the type and payload are checked by the domain against the one table of command payloads.
 */
import { z } from 'zod';
import { IsoTime } from '../model';
import type { TypedCommand } from '../wire-messages';

export const CommandId = z.string().regex(/^[0-9a-zA-Z_-]{8,64}$/, 'command id must be 8-64 url-safe characters');

export const CommandRequest = z.object({
  commandId: CommandId,
  /** Command type from the wire protocol's command set, e.g. "event.dispatch". */
  type: z.string().regex(/^[a-z]+(\.[a-z-]+)+$/),
  payload: z.record(z.string(), z.unknown()),
  /** Time-sensitive commands are not sent after this (marked expired instead). */
  expiresAt: IsoTime.optional(),
});
export type CommandRequest = z.infer<typeof CommandRequest>;
/** A command request as a window writes it: the type and its payload checked against each other at compile time. */
export type TypedCommandRequest = TypedCommand & { commandId: string; expiresAt?: string };

export const CommandReceipt = z.object({
  commandId: CommandId,
  status: z.enum(['pending', 'acked', 'rejected', 'expired']),
  queuedAt: IsoTime,
  /** False when the hub could not predict the effect locally (the backend still decides). */
  predicted: z.boolean(),
});
export type CommandReceipt = z.infer<typeof CommandReceipt>;
