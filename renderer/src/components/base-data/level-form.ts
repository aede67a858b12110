/**
 * The level editor's forms (指挥等级配置): a level's profile as the administrator edits it (factors as typed), and how
 * the forms follow the stored profiles: a form nobody is typing in takes the stored values; one with unsaved typing
 * keeps it, and is marked changed by someone else when the stored profile moved under it (「已被他人修改」).
 */
import { STEPS } from '../../../../domain';
import type { CommandLevel, LevelProfile, WallsFirst } from '../../../../protocol';

export interface LevelForm {
  factors: Record<(typeof STEPS)[number], string>;
  map: WallsFirst['map'];
  video: WallsFirst['video'];
  callsCadres: boolean;
}
export type LevelForms = Record<CommandLevel, LevelForm>;

export const LEVELS: readonly CommandLevel[] = ['daily', 'reinforced', 'emergency'];

export const formOf = (p: LevelProfile): LevelForm => ({
  factors: Object.fromEntries(STEPS.map((s) => [s, String(p.stepFactors[s])])) as LevelForm['factors'],
  map: p.walls.map,
  video: p.walls.video,
  callsCadres: p.callsCadres,
});

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
