/** The department page's words for a deadline (renderer/src/department/names.ts): time left, or overdue (red). */
import { describe, expect, it } from 'vitest';
import { actionName, countdown, statusName } from '../../renderer/src/department/names';
import { i18n } from '../../renderer/src/department/i18n';

const NOW = Date.parse('2026-05-01T08:00:00Z');
const at = (ms: number): string => new Date(NOW + ms).toISOString();

describe('department page names', () => {
  it('counts down to a deadline, in seconds under an hour, hours under a day, days beyond', () => {
    expect(countdown(at(5 * 60_000 + 7_000), NOW)).toEqual({ text: '剩余 5分07秒', overdue: false });
    expect(countdown(at(2 * 3_600_000 + 5 * 60_000), NOW)).toEqual({ text: '剩余 2小时05分', overdue: false });
    expect(countdown(at(3 * 86_400_000 + 4 * 3_600_000), NOW)).toEqual({ text: '剩余 3天4小时', overdue: false });
  });
  it('says how long a deadline is past, flagged overdue; no deadline (closed) is none', () => {
    expect(countdown(at(-12 * 60_000), NOW)).toEqual({ text: '超时 12分00秒', overdue: true });
    expect(countdown(at(-26 * 3_600_000), NOW)).toEqual({ text: '超时 1天2小时', overdue: true });
    expect(countdown(null, NOW)).toBeNull();
  });
  it("uses the console's words for statuses and history entries, and the raw word for one it does not know", () => {
    expect(statusName('dispatched')).toBe('已派遣');
    expect(actionName('return')).toBe('退回');
    expect(actionName('something-new')).toBe('something-new');
  });
  it('speaks English when the page does (the console’s English words for statuses), and Chinese again after', () => {
    i18n.global.locale.value = 'en';
    try {
      expect(countdown(at(2 * 3_600_000 + 5 * 60_000), NOW)).toEqual({ text: '2h 05m left', overdue: false });
      expect(countdown(at(-12 * 60_000), NOW)).toEqual({ text: '12m 00s overdue', overdue: true });
      expect(statusName('dispatched')).not.toBe('已派遣');
      expect(statusName('dispatched')).toMatch(/^[A-Za-z ]+$/);
    } finally {
      i18n.global.locale.value = 'zh-CN';
    }
    expect(statusName('dispatched')).toBe('已派遣');
  });
});
