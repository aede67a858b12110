import { describe, expect, it } from 'vitest';
import { Rng } from '../../backend/city-generator/random';

const draws = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.next());

describe('Rng', () => {
  it('gives the same sequence for the same seed, and another for another seed', () => {
    expect(draws(new Rng(42), 100)).toEqual(draws(new Rng(42), 100));
    expect(draws(new Rng('city-7'), 100)).toEqual(draws(new Rng('city-7'), 100));
    expect(draws(new Rng(42), 100)).not.toEqual(draws(new Rng(43), 100));
    expect(draws(new Rng('a'), 10)).not.toEqual(draws(new Rng('b'), 10));
  });

  it('next() stays in [0, 1) and is roughly uniform', () => {
    const xs = draws(new Rng(1), 20_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    const buckets = new Array<number>(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]! += 1;
    for (const b of buckets) expect(Math.abs(b - 2000)).toBeLessThan(200);
  });

  it('a fork is independent of the parent: drawing more from it does not change the parent', () => {
    const a = new Rng(9);
    const b = new Rng(9);
    const forkA = a.fork('staff');
    const forkB = b.fork('staff');
    draws(forkA, 5);
    draws(forkB, 500);
    expect(draws(a, 50)).toEqual(draws(b, 50));
    // Same label → same stream, whatever the parent drew before; other label → other stream.
    const c = new Rng(9);
    draws(c, 37);
    expect(draws(c.fork('staff'), 20)).toEqual(draws(new Rng(9).fork('staff'), 20));
    expect(draws(new Rng(9).fork('staff'), 20)).not.toEqual(draws(new Rng(9).fork('cameras'), 20));
    expect(draws(new Rng(9).fork('staff'), 20)).not.toEqual(draws(new Rng(9), 20));
  });

  it('int() includes both bounds and nothing outside them', () => {
    const rng = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const v = rng.int(-2, 3);
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(-2);
      expect(v).toBeLessThanOrEqual(3);
      seen.add(v);
    }
    expect([...seen].sort((x, y) => x - y)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(rng.int(5, 5)).toBe(5);
    expect(() => rng.int(3, 2)).toThrow(/min <= max/);
    expect(() => rng.int(0.5, 2)).toThrow(/integers/);
  });

  it('float() stays in [min, max)', () => {
    const rng = new Rng(4);
    for (let i = 0; i < 2000; i++) {
      const v = rng.float(10, 12);
      expect(v).toBeGreaterThanOrEqual(10);
      expect(v).toBeLessThan(12);
    }
  });

  it('weighted() never picks a zero weight and follows the weights', () => {
    const rng = new Rng(5);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
    for (let i = 0; i < 10_000; i++) {
      counts[rng.weighted([['a', 0], ['b', 1], ['c', 3], ['d', 0]] as const)]! += 1;
    }
    expect(counts.a).toBe(0);
    expect(counts.d).toBe(0);
    expect(counts.c! / counts.b!).toBeGreaterThan(2.6);
    expect(counts.c! / counts.b!).toBeLessThan(3.4);
    expect(() => rng.weighted([['x', 0]] as const)).toThrow(/zero/);
    expect(() => rng.weighted([['x', -1], ['y', 2]] as const)).toThrow(/>= 0/);
    expect(() => rng.weighted([])).toThrow();
  });

  it('pick(), chance() and shuffle() behave', () => {
    const rng = new Rng(6);
    const items = ['x', 'y', 'z'];
    const picked = new Set(Array.from({ length: 300 }, () => rng.pick(items)));
    expect([...picked].sort()).toEqual(items);
    expect(() => rng.pick([])).toThrow(/empty/);
    expect(Array.from({ length: 200 }, () => rng.chance(0)).some(Boolean)).toBe(false);
    expect(Array.from({ length: 200 }, () => rng.chance(1)).every(Boolean)).toBe(true);
    const arr = Array.from({ length: 50 }, (_, i) => i);
    const same = rng.shuffle(arr);
    expect(same).toBe(arr);
    expect([...arr].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(arr).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('normal() and logNormal() have the asked-for centre and spread', () => {
    const rng = new Rng(7);
    const xs = Array.from({ length: 20_000 }, () => rng.normal(10, 2));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(mean).toBeCloseTo(10, 1);
    expect(sd).toBeGreaterThan(1.9);
    expect(sd).toBeLessThan(2.1);
    const ys = Array.from({ length: 20_001 }, () => rng.logNormal(30, 0.5)).sort((a, b) => a - b);
    expect(ys[0]).toBeGreaterThan(0);
    expect(ys[10_000]).toBeGreaterThan(28.5);
    expect(ys[10_000]).toBeLessThan(31.5);
  });

  it('rejects a non-finite numeric seed', () => {
    expect(() => new Rng(Number.NaN)).toThrow(/seed/);
  });
});
