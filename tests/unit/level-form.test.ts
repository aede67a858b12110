/**
 * The level editor's forms follow the stored profiles: another administrator's save must not discard this one's
 * unsaved typing (the form is kept and marked 「已被他人修改」); a form nobody types in takes the stored values.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LEVEL_PROFILES } from '../../domain';
import { LEVELS, alarmPolicyOf, alarmProblems, alarmsEdited, followStored, formOf, type LevelForms } from '../../renderer/src/components/base-data/level-form';

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

describe('the level editor\'s alarm policy', () => {
  const stored = { ...DEFAULT_LEVEL_PROFILES.daily.alarms, chain: DEFAULT_LEVEL_PROFILES.daily.alarms.chain.map((r, i) => (i === 0 ? { ...r, volume: 0.555, ackWithinMinutes: 0.05 } : r)) };
  const form = () => formOf({ ...DEFAULT_LEVEL_PROFILES.daily, alarms: stored });

  it('keeps stored values the form only showed rounded; sends what was typed; the last rung never has a limit', () => {
    const f = form();
    expect(f.alarms.chain[0]).toMatchObject({ volume: '56', minutes: '0.05' });
    expect(alarmProblems(f.alarms)).toEqual({}); // 0.05 min is what the backend accepts (> 0)
    expect(alarmPolicyOf(f.alarms, stored)).toEqual(stored);
    f.alarms.chain[0]!.volume = '80';
    f.alarms.chain[1]!.minutes = '7';
    const sent = alarmPolicyOf(f.alarms, stored);
    expect(sent.chain.map((r) => [r.volume, r.ackWithinMinutes])).toEqual([[0.8, 0.05], [0.75, 7], [1, null]]);
  });

  it('says what is wrong, in Chinese and English, per field', () => {
    const f = form();
    f.alarms.chain[0]!.minutes = '0';
    f.alarms.chain[1]!.volume = '150';
    f.alarms.chain[2]!.repeat = '1';
    f.alarms.chain[2]!.name = ' ';
    expect(Object.keys(alarmProblems(f.alarms)).sort()).toEqual(['chain.0.minutes', 'chain.1.volume', 'chain.2.name', 'chain.2.repeat']);
    expect(alarmProblems(f.alarms)['chain.1.volume']!.zh).toBe('第 2 级（值班长）音量“150”应为 0 到 100 的整数（%）');
  });

  it('a form whose alarm part was not touched sends the stored policy (another administrator\'s change is kept)', () => {
    const base = form();
    const typed = structuredClone(base);
    typed.factors.handle = '0.9';
    expect(alarmsEdited(typed, base)).toBe(false);
    typed.alarms.overdue = false;
    expect(alarmsEdited(typed, base)).toBe(true);
  });
});
