/**
 * The level editor's forms (指挥等级配置): a level's profile as the administrator edits it (factors as typed), and how
 * the forms follow the stored profiles: a form nobody is typing in takes the stored values; one with unsaved typing
 * keeps it, and is marked changed by someone else when the stored profile moved under it (「已被他人修改」).
 */
import { STEPS, type Problem } from '../../../../domain';
import type { AlarmPolicy, CommandLevel, LevelProfile, UserRole, WallsFirst } from '../../../../protocol';

/** One rung of the escalation chain as typed: minutes to acknowledge (empty on the last), volume in %, repeat in s. */
export interface RungForm {
  name: string;
  roles: UserRole[];
  minutes: string;
  volume: string;
  repeat: string;
}

export interface AlarmForm {
  severeFrom: number;
  deviceFrom: number;
  overdue: boolean;
  supervised: boolean;
  chain: RungForm[];
}

export interface LevelForm {
  factors: Record<(typeof STEPS)[number], string>;
  map: WallsFirst['map'];
  video: WallsFirst['video'];
  callsCadres: boolean;
  alarms: AlarmForm;
}
export type LevelForms = Record<CommandLevel, LevelForm>;

export const LEVELS: readonly CommandLevel[] = ['daily', 'reinforced', 'emergency'];

export const formOf = (p: LevelProfile): LevelForm => ({
  factors: Object.fromEntries(STEPS.map((s) => [s, String(p.stepFactors[s])])) as LevelForm['factors'],
  map: p.walls.map,
  video: p.walls.video,
  callsCadres: p.callsCadres,
  alarms: alarmFormOf(p.alarms),
});

/** An alarm policy as the form shows it (the volume in whole %). */
export function alarmFormOf(a: AlarmPolicy): AlarmForm {
  return {
    severeFrom: a.severeFrom,
    deviceFrom: a.deviceFrom,
    overdue: a.overdue,
    supervised: a.supervised,
    chain: a.chain.map((r) => ({ name: r.name, roles: [...r.roles], minutes: r.ackWithinMinutes === null ? '' : String(r.ackWithinMinutes), volume: String(Math.round(r.volume * 100)), repeat: String(r.repeatSeconds) })),
  };
}

/** The typed number when it is within [min, max] (min itself excluded when `aboveMin`), else null. */
const numberIn = (text: string, min: number, max: number, integer: boolean, aboveMin = false): number | null => {
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(value) && (aboveMin ? value > min : value >= min) && value <= max && (!integer || Number.isInteger(value)) ? value : null;
};

/** What is wrong with a typed alarm policy, by field (`chain.<i>.<field>`), with the backend's own bounds. */
export function alarmProblems(form: AlarmForm): Record<string, Problem> {
  const out: Record<string, Problem> = {};
  form.chain.forEach((r, i) => {
    const rung = `第 ${i + 1} 级（${r.name || '未命名'}）`;
    const en = `rung ${i + 1} (${r.name || 'unnamed'})`;
    if (r.name.trim() === '' || r.name.trim().length > 40) out[`chain.${i}.name`] = { zh: `${rung}名称应为 1 到 40 个字`, en: `${en}: the name must be 1 to 40 characters` };
    if (i < form.chain.length - 1 && numberIn(r.minutes, 0, 24 * 60, false, true) === null) out[`chain.${i}.minutes`] = { zh: `${rung}确认时限“${r.minutes}”应为大于 0、至多 1440 的分钟数`, en: `${en}: time to acknowledge "${r.minutes}" must be more than 0 and at most 1440 minutes` };
    if (numberIn(r.volume, 0, 100, true) === null) out[`chain.${i}.volume`] = { zh: `${rung}音量“${r.volume}”应为 0 到 100 的整数（%）`, en: `${en}: volume "${r.volume}" must be a whole number from 0 to 100 (%)` };
    if (numberIn(r.repeat, 2, 120, true) === null) out[`chain.${i}.repeat`] = { zh: `${rung}重复间隔“${r.repeat}”应为 2 到 120 秒的整数`, en: `${en}: repeat "${r.repeat}" must be a whole number of seconds from 2 to 120` };
  });
  return out;
}

/**
 * The policy to send (only once alarmProblems finds nothing): the last rung rings until acknowledged. A value left
 * as the form showed it keeps the stored one exactly (`stored`: a volume of 0.555 shown as 56 stays 0.555).
 */
export function alarmPolicyOf(form: AlarmForm, stored?: AlarmPolicy): AlarmPolicy {
  const shown = stored ? alarmFormOf(stored) : null;
  return {
    severeFrom: form.severeFrom,
    deviceFrom: form.deviceFrom,
    overdue: form.overdue,
    supervised: form.supervised,
    chain: form.chain.map((r, i) => {
      const was = stored?.chain[i];
      const asShown = shown?.chain[i];
      const last = i === form.chain.length - 1;
      return {
        name: r.name.trim(),
        roles: [...r.roles],
        ackWithinMinutes: last ? null : was && asShown?.minutes === r.minutes && was.ackWithinMinutes !== null ? was.ackWithinMinutes : Number(r.minutes),
        volume: was && asShown?.volume === r.volume ? was.volume : Number(r.volume) / 100,
        repeatSeconds: Number(r.repeat),
      };
    }),
  };
}

/** Whether the alarm part of a form differs from what it was built from (else the stored policy is sent as it is). */
export const alarmsEdited = (form: LevelForm, base: LevelForm | undefined): boolean => !base || JSON.stringify(form.alarms) !== JSON.stringify(base.alarms);

const same = (a: LevelForm, b: LevelForm): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The forms after the stored profiles changed. `forms`: what is on screen; `bases`: what each was built from (null
 * at the start); `stored`: the profiles' forms now. A form differing from both its base and the stored value has
 * unsaved typing: it is kept, `changed` true for it when the stored value differs from its base.
 */
export function followStored(forms: LevelForms | null, bases: LevelForms | null, stored: LevelForms, changed: Partial<Record<CommandLevel, boolean>>): { forms: LevelForms; changed: Partial<Record<CommandLevel, boolean>> } {
  const next = { ...stored };
  const flags = { ...changed };
  for (const l of LEVELS) {
    const typed = forms?.[l];
    const base = bases?.[l];
    if (typed && base && !same(typed, base) && !same(typed, stored[l])) {
      next[l] = typed;
      if (!same(base, stored[l])) flags[l] = true; // kept; saving overwrites theirs
    } else {
      next[l] = structuredClone(stored[l]); // its own copy: typing must not change the base
      flags[l] = false;
    }
  }
  return { forms: next, changed: flags };
}
