/**
 * The command room's state on the wire: the command level (日常 / 加强 / 应急) with its plan (预案), and the duty
 * hand-over (交接班).
 */
import { z } from 'zod';
import { IsoTime } from './primitives';
import { CommandLevel } from './vocabulary';

/** One step of an emergency plan (预案): what to do, which department owns it, and whether it is done. */
export const PlanItem = z.object({
  id: z.string(),
  text: z.string(),
  ownerDepartmentId: z.string(),
  doneAt: IsoTime.nullable(),
  doneBy: z.string().nullable(),
});
export type PlanItem = z.infer<typeof PlanItem>;

export const CommandLevelState = z.object({
  id: z.literal('current'),
  level: CommandLevel,
  since: IsoTime,
  by: z.string(),
  reason: z.string(),
  /** The event the raised level is about (应急: what every wall shows first); null when none was named. */
  incidentId: z.string().nullable().default(null),
  /** The plan (预案) opened for the emergency, with owners and ticks; empty below the emergency level. */
  planTitle: z.string().default(''),
  plan: z.array(PlanItem).default([]),
});
export type CommandLevelState = z.infer<typeof CommandLevelState>;

export const DutyHandover = z.object({
  id: z.string(),
  at: IsoTime,
  fromUserId: z.string(),
  fromName: z.string(),
  toUserId: z.string().nullable(),
  notes: z.string(),
  openItems: z.array(z.object({ text: z.string(), eventId: z.string().nullable() })),
  acknowledgedAt: IsoTime.nullable(),
  acknowledgedBy: z.string().nullable(),
});
export type DutyHandover = z.infer<typeof DutyHandover>;
