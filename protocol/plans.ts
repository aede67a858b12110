/**
 * 应急预案 as records an administrator edits (collection `plans`): a title, the event categories it answers
 * (none: the general plan, 总体预案, for incidents no other plan answers), and steps, each with the department that
 * owns it and the resources it calls on (teams, vehicles, supplies as a short name and a quantity). When the command
 * level goes to 应急 the plan for the incident's category is opened as the checklist (CommandLevelState.plan).
 */
import { z } from 'zod';
import { IsoTime } from './primitives';

const Text = (max: number) => z.string().trim().min(1).max(max);
const Code = z.string().trim().regex(/^[\w.-]{1,40}$/, '只能含字母、数字和 _ . -，至多 40 个字符 (letters, digits and _ . -, at most 40 characters)');

export const PLAN_ID_PATTERN = /^plan-[\w.-]{1,58}$/;
export const PlanId = z.string().regex(PLAN_ID_PATTERN, '预案编号形如 plan-xxx (a plan id looks like plan-xxx)');

/** A resource a step calls on: 「消防救援队 2 支」 as name 消防救援队, quantity 2, unit 支. */
export const PlanResource = z.object({
  name: Text(40),
  quantity: z.number().int().positive().max(100_000),
  unit: z.string().trim().max(8).default(''),
});
export type PlanResource = z.infer<typeof PlanResource>;

/** The most steps a plan has, the most resources a step calls on, and the most categories a plan answers. */
export const PLAN_LIMITS = { steps: 40, resourcesPerStep: 12, categories: 50 } as const;

export const PlanStep = z.object({
  text: Text(300),
  ownerDepartmentId: z.string().trim().min(1).max(64),
  resources: z.array(PlanResource).max(PLAN_LIMITS.resourcesPerStep).default([]),
});
export type PlanStep = z.infer<typeof PlanStep>;


export const Plan = z.object({
  id: PlanId,
  title: Text(100),
  /** The event categories (rule codes) it answers; empty: the general plan. */
  categories: z.array(Code).max(PLAN_LIMITS.categories),
  steps: z.array(PlanStep).min(1).max(PLAN_LIMITS.steps),
  updatedAt: IsoTime,
  updatedBy: z.string(),
});
export type Plan = z.infer<typeof Plan>;

/**
 * plan.save: a new plan (no id) or the plan with this id, replaced whole. Steps may be empty here so that the
 * refusal names it in Chinese (the handler checks, with the departments and categories that exist).
 */
export const PlanSavePayload = z.object({
  id: PlanId.optional(),
  title: Text(100),
  categories: z.array(Code).max(PLAN_LIMITS.categories),
  steps: z.array(PlanStep).max(PLAN_LIMITS.steps),
});
export const PlanRemovePayload = z.object({ planId: PlanId });
