/**
 * How the simulated city behaves over time: event rates from the seed figures, the time-of-day profile,
 * duty hours, and the delays departments and staff take. Pure functions of the clock and a random stream.
 */
import type { EventSource, GovEvent, ResponsibilityRule } from '../../protocol';
import type { Rng } from '../city-generator/random';

/** ~500,000 events a year for 5,459 grids (seed figure) → events per grid per day. */
export const EVENTS_PER_GRID_PER_DAY = 500_000 / 5_459 / 365;

/** Mix of sources (seed: 55 % of disputes came from the grid app). */
export const SOURCE_MIX: Array<[EventSource, number]> = [
  ['grid-app', 0.55],
  ['hotline', 0.18],
  ['video-ai', 0.11],
  ['citizen-app', 0.09],
  ['sensor', 0.05],
  ['leader', 0.02],
];

/** Relative event rate by local hour (UTC+8), mean 1: quiet at night, peaks mid-morning and afternoon. */
const HOURLY = [0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.4, 1.7, 1.8, 1.6, 1.2, 1.3, 1.6, 1.7, 1.6, 1.4, 1.1, 1.0, 0.9, 0.7, 0.5, 0.3];
const HOURLY_MEAN = HOURLY.reduce((a, b) => a + b, 0) / HOURLY.length;

export function localHour(ms: number): number {
  return new Date(ms + 8 * 3_600_000).getUTCHours();
}

/** The most recent instant (at or before `nowMs`) when Beijing clocks (UTC+8) showed hour:minute. */
export function lastBeijingTime(hour: number, minute: number, nowMs: number): number {
  const beijing = new Date(nowMs + 8 * 3_600_000);
  const candidate = Date.UTC(beijing.getUTCFullYear(), beijing.getUTCMonth(), beijing.getUTCDate(), hour, minute) - 8 * 3_600_000;
  return candidate <= nowMs ? candidate : candidate - 86_400_000;
}

export function hourlyFactor(ms: number): number {
  return HOURLY[localHour(ms)]! / HOURLY_MEAN;
}

/** Share of grid staff on duty by local hour (day shifts, thin evening and night cover). */
const ON_DUTY = [0.06, 0.05, 0.05, 0.05, 0.05, 0.1, 0.35, 0.75, 0.92, 0.93, 0.93, 0.9, 0.7, 0.8, 0.92, 0.93, 0.9, 0.8, 0.5, 0.4, 0.3, 0.2, 0.12, 0.08];

export function onDutyShare(ms: number): number {
  return ON_DUTY[localHour(ms)]!;
}

/** Poisson-distributed count with the given mean (Knuth for small means, normal approximation above). */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(rng.normal(mean, Math.sqrt(mean))));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rng.next();
  } while (p > limit);
  return k - 1;
}

const MINUTE = 60_000;

/**
 * When the next simulated actor acts on an event, in sim ms from `fromMs`, or null if the simulation leaves it
 * to people (nothing is automatic for merged/closed events). Background seats wait a grace period so a
 * console user gets the first chance to accept and dispatch.
 */
export function nextActionDelay(rng: Rng, event: GovEvent, rule: ResponsibilityRule, selfHandled: boolean): number | null {
  const limits = rule.limits;
  switch (event.status) {
    case 'new':
      return (selfHandled ? rng.float(1, 4) : rng.logNormal(25, 0.5)) * MINUTE;
    case 'accepted':
      return rng.logNormal(15, 0.5) * MINUTE;
    case 'dispatched':
      return (selfHandled ? rng.float(1, 3) : Math.min(limits.dispatch * 0.9, rng.logNormal(limits.dispatch * 0.25, 0.7))) * MINUTE;
    case 'handling':
      // Median at a third of the limit; the long tail makes some 8–12 % overdue, as real departments do.
      return (selfHandled ? rng.logNormal(40, 0.5) : rng.logNormal(limits.handle * 0.33, 0.85)) * MINUTE;
    case 'handled':
      return rng.logNormal(Math.min(limits.followup * 0.2, 240), 0.6) * MINUTE;
    case 'followed-up':
      return rng.logNormal(Math.min(limits.close * 0.15, 120), 0.6) * MINUTE;
    default:
      return null;
  }
}

export function drawSatisfaction(rng: Rng): 'satisfied' | 'basic' | 'unsatisfied' {
  return rng.weighted([
    ['satisfied', 0.8],
    ['basic', 0.13],
    ['unsatisfied', 0.07],
  ]);
}
