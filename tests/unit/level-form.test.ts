/**
 * The level editor's forms follow the stored profiles: another administrator's save must not discard this one's
 * unsaved typing (the form is kept and marked 「已被他人修改」); a form nobody types in takes the stored values.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LEVEL_PROFILES } from '../../domain';
import { LEVELS, followStored, formOf, type LevelForms } from '../../renderer/src/components/base-data/level-form';

const storedForms = (handle = 0.75): LevelForms =>
  Object.fromEntries(LEVELS.map((l) => [l, formOf(l === 'reinforced' ? { ...DEFAULT_LEVEL_PROFILES.reinforced, stepFactors: { ...DEFAULT_LEVEL_PROFILES.reinforced.stepFactors, handle } } : DEFAULT_LEVEL_PROFILES[l])])) as LevelForms;

describe('the level editor following the stored profiles', () => {
  it('keeps unsaved typing over another administrator\'s save and says so; takes their values where nobody typed', () => {
    const bases = storedForms();
    const first = followStored(null, null, bases, {});
    first.forms.reinforced.factors.dispatch = '0.6'; // typing, not saved
    expect(bases.reinforced.factors.dispatch).toBe('0.75'); // the base is not the form being typed in

    // Someone else saves 加强 (处置 0.5) and the daily profile is unchanged.
    const theirs = storedForms(0.5);
    const next = followStored(first.forms, bases, theirs, first.changed);
    expect(next.forms.reinforced.factors.dispatch).toBe('0.6');
    expect(next.forms.reinforced.factors.handle).toBe('0.75');
    expect(next.changed).toMatchObject({ reinforced: true, daily: false, emergency: false });

    // A form nobody typed in takes the stored values.
    const untouched = followStored(followStored(null, null, storedForms(), {}).forms, storedForms(), theirs, {});
    expect(untouched.forms.reinforced.factors.handle).toBe('0.5');
    expect(untouched.changed.reinforced).toBe(false);
  });

  it('this administrator\'s own save, read back, clears the mark; a version bump that changed nothing keeps the typing unmarked', () => {
    const bases = storedForms();
    const typing = followStored(null, null, bases, {}).forms;
    typing.reinforced.factors.handle = '0.6';
    const unchanged = followStored(typing, bases, storedForms(), {});
    expect(unchanged.forms.reinforced.factors.handle).toBe('0.6');
    expect(unchanged.changed.reinforced).toBeUndefined();
    const own = followStored(unchanged.forms, storedForms(), storedForms(0.6), { reinforced: true });
    expect(own.forms.reinforced.factors.handle).toBe('0.6');
    expect(own.changed.reinforced).toBe(false);
    own.forms.reinforced.factors.handle = '0.5';
    expect(storedForms(0.6).reinforced.factors.handle).toBe('0.6');
  });
});
