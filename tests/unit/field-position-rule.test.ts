/** The field app's battery rule for duty positions (renderer/src/field/location.ts): ≤ every 10 s moving > 20 m, every 60 s still. */
import { describe, expect, it } from 'vitest';
import { distanceM, positionDue, type Fix } from '../../renderer/src/field/location';

const fix = (lon: number, lat: number): Fix => ({ lon, lat, accuracy: 8, at: '2026-01-01T00:00:00.000Z' });
const here = fix(117, 36.7);
const metresEast = (m: number): Fix => fix(117 + m / (111_320 * Math.cos((36.7 * Math.PI) / 180)), 36.7);

describe('duty positions', () => {
  it('measures metres between fixes', () => {
    expect(distanceM(here, metresEast(100))).toBeCloseTo(100, 0);
    expect(distanceM(here, here)).toBe(0);
  });
  it('sends the first fix at once', () => expect(positionDue(null, here, 0)).toBe(true));
  it('moving: not before 10 s, then when more than 20 m away', () => {
    const last = { fix: here, sentAt: 0 };
    expect(positionDue(last, metresEast(150), 9_999)).toBe(false);
    expect(positionDue(last, metresEast(150), 10_000)).toBe(true);
    expect(positionDue(last, metresEast(15), 30_000)).toBe(false);
  });
  it('still: every 60 s', () => {
    const last = { fix: here, sentAt: 0 };
    expect(positionDue(last, here, 59_999)).toBe(false);
    expect(positionDue(last, here, 60_000)).toBe(true);
  });
});
