/**
 * What each command level means (平急转换): its alarm thresholds and escalation chain. A center may store its own
 * profile per level (the `levelProfiles` collection); where it has none, these built-in defaults hold. The chain
 * follows a center's duty structure: the duty officers at the desks (值班员: dispatchers and the duty officer), the
 * shift leader (值班长: the duty role), the center's leader on duty (中心领导). Tighter at 加强 and 应急.
 * Each level also says how long each step may take (a factor of the 权责清单's limit), what the walls show first,
 * and whether the 下沉干部 (cadres sent down to pre-assigned grids) are called.
 */
import type { AlarmRung, CommandLevel, EventStep, LevelProfile, ResponsibilityRule, StepFactors } from '../protocol';
import type { StateReader } from './commands/context';

const chain = (minutes: readonly [number, number]): AlarmRung[] => [
  { name: '值班员', roles: ['dispatcher', 'duty'], ackWithinMinutes: minutes[0], volume: 0.5, repeatSeconds: 6 },
  { name: '值班长', roles: ['duty'], ackWithinMinutes: minutes[1], volume: 0.75, repeatSeconds: 4 },
  { name: '中心领导', roles: ['leader'], ackWithinMinutes: null, volume: 1, repeatSeconds: 3 },
];

const factors = (f: number): StepFactors => ({ report: f, dispatch: f, handle: f, followup: f, close: f });

/**
 * 日常: the 权责清单's limits, walls on the city and the tour, no 下沉干部. 加强: three quarters of each limit, the
 * 下沉干部 called to their grids, the map walls touring the incidents the center alarms for and the video walls
 * opening their cameras. 应急: half of each limit, every wall on the incident first, 下沉干部 called.
 */
export const DEFAULT_LEVEL_PROFILES: Readonly<Record<CommandLevel, LevelProfile>> = {
  daily: {
    id: 'daily',
    alarms: { severeFrom: 3, deviceFrom: 3, overdue: true, supervised: true, chain: chain([3, 5]) },
    stepFactors: factors(1),
    walls: { map: 'city', video: 'tour' },
    callsCadres: false,
    updatedAt: null,
    updatedBy: null,
  },
  reinforced: {
    id: 'reinforced',
    alarms: { severeFrom: 3, deviceFrom: 2, overdue: true, supervised: true, chain: chain([2, 3]) },
    stepFactors: factors(0.75),
    walls: { map: 'incident', video: 'incident-cameras' },
    callsCadres: true,
    updatedAt: null,
    updatedBy: null,
  },
  emergency: {
    id: 'emergency',
    alarms: { severeFrom: 2, deviceFrom: 2, overdue: true, supervised: true, chain: chain([1, 2]) },
    stepFactors: factors(0.5),
    walls: { map: 'incident', video: 'incident-cameras' },
    callsCadres: true,
    updatedAt: null,
    updatedBy: null,
  },
};

/** The level in force (日常 when none was ever set). */
export function currentLevel(state: StateReader): CommandLevel {
  return state.get('commandLevel', 'current')?.level ?? 'daily';
}

/** A level's profile: the center's own, else the default. */
export function levelProfileOf(state: StateReader, level: CommandLevel = currentLevel(state)): LevelProfile {
  return state.get('levelProfiles', level) ?? DEFAULT_LEVEL_PROFILES[level];
}

/** The rung of the level's chain an alarm has reached (the last one when the chain is shorter than the rung). */
export function rungOf(profile: LevelProfile, rung: number): AlarmRung {
  const { chain: rungs } = profile.alarms;
  return rungs[Math.min(rung, rungs.length) - 1]!;
}

/** A step's time limit in minutes at a level: the rule's limit × the level's factor for the step. */
export function stepLimitMinutes(profile: LevelProfile, rule: ResponsibilityRule, step: EventStep): number {
  return rule.limits[step] * profile.stepFactors[step];
}

/** Whether the level in force calls the 下沉干部 to their grids. */
export function cadresCalled(state: StateReader): boolean {
  return levelProfileOf(state).callsCadres;
}
