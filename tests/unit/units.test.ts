/** Distances and durations worded with the catalogs' units, in both languages (the real catalogs). */
import { describe, expect, it } from 'vitest';
import { createConsoleI18n } from '../../renderer/src/i18n';
import { formatCountdown, formatDistance, formatMinutes, type Translate } from '../../renderer/src/i18n/units';

function tFor(locale: 'zh-CN' | 'en'): Translate {
  const i18n = createConsoleI18n(locale);
  return (key, values) => i18n.global.t(key, values ?? {});
}

describe('units from the catalogs', () => {
  it('words distances, limits and countdowns in Chinese and in English', () => {
    const zh = tFor('zh-CN');
    const en = tFor('en');
    expect(formatDistance(zh, 849.6)).toBe('850 米');
    expect(formatDistance(zh, 2345)).toBe('2.3 公里');
    expect(formatDistance(en, 2345)).toBe('2.3 km');
    expect(formatMinutes(zh, 4320)).toBe('3天');
    expect(formatMinutes(zh, 90)).toBe('1小时30分');
    expect(formatMinutes(en, 1530)).toBe('1 d 1 h 30 min');
    expect(formatCountdown(zh, -(2 * 86_400_000 + 3_723_000))).toBe('2天 01:02:03');
    expect(formatCountdown(en, 59_999)).toBe('00:00:59');
  });
});
