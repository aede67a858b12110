/**
 * The backend link's choice of address and pause (hub/link-rules.ts AddressRotation), without a socket: round
 * robin from the address that failed, a moment between the addresses of a round, the back-off per full round.
 */
import { describe, expect, it } from 'vitest';
import { AddressRotation, backoffDelay } from '../../hub';

const A = 'ws://a.example:7700/ws';
const B = 'ws://b.example:7700/ws';
const C = 'ws://c.example:7700/ws';
const backoff = { baseMs: 500, maxMs: 30_000, random: () => 1 };

describe('address rotation (failover between backend instances)', () => {
  it('moves to the next address at once, and backs off only after a full round failed', () => {
    const rotation = new AddressRotation([A, B, C], backoff);
    expect(rotation.current).toBe(A);
    // A dies: B after a moment (at most a quarter of the base), then C; all three failed: the first back-off.
    expect(rotation.failed()).toEqual({ url: B, delayMs: 125, round: null });
    expect(rotation.failed()).toEqual({ url: C, delayMs: 125, round: null });
    expect(rotation.failed()).toEqual({ url: A, delayMs: backoffDelay(0, 500, 30_000, () => 1), round: 0 });
    // The next rounds grow like a single backend's retries, and never past the cap.
    for (let i = 0; i < 3; i++) rotation.failed();
    expect(rotation.current).toBe(A);
    for (let i = 0; i < 2; i++) expect(rotation.failed().round).toBeNull();
    expect(rotation.failed()).toMatchObject({ url: A, delayMs: 2000, round: 2 });
    for (let i = 0; i < 60; i++) expect(rotation.failed().delayMs).toBeLessThanOrEqual(30_000);
  });

  it('round robin starts after the address that failed, and a sync starts a fresh round there', () => {
    const rotation = new AddressRotation([A, B, C], backoff);
    rotation.failed(); // A refused: on B
    rotation.succeeded(); // synced on B
    // B dies later: C next (not A), then A; only after B itself failed again is the round over.
    expect(rotation.failed()).toMatchObject({ url: C, round: null });
    expect(rotation.failed()).toMatchObject({ url: A, round: null });
    expect(rotation.failed()).toMatchObject({ url: B, round: 0, delayMs: 500 });
    rotation.succeeded();
    expect(rotation.failed()).toMatchObject({ url: C, round: null });
  });

  it('one address (a single backend, or one behind a load balancer): every failure backs off, as before', () => {
    const rotation = new AddressRotation([A], { ...backoff, random: () => 0 });
    for (let attempt = 0; attempt < 8; attempt++) expect(rotation.failed()).toEqual({ url: A, delayMs: backoffDelay(attempt, 500, 30_000, () => 0), round: attempt });
    rotation.succeeded();
    expect(rotation.failed().delayMs).toBe(250);
  });

  it('a round of refused logins or versions only waits the longest; one dead address among them does not', () => {
    const rotation = new AddressRotation([A, B], backoff);
    rotation.failed(true);
    expect(rotation.failed(true)).toMatchObject({ round: 0, delayMs: 30_000 });
    rotation.failed(true);
    expect(rotation.failed(false)).toMatchObject({ round: 1, delayMs: 1000 });
    expect(() => new AddressRotation([], backoff)).toThrow(/no backend address/);
  });

  it('spreads the consoles an instance dropped at once over a moment, never longer than a quarter of the base', () => {
    const delays = new Set<number>();
    const rotation = new AddressRotation([A, B, C], { baseMs: 500, maxMs: 30_000 });
    for (let i = 0; i < 200; i++) {
      const next = rotation.failed();
      if (next.round === null) delays.add(next.delayMs);
      if (i % 2 === 1) rotation.succeeded();
    }
    expect(Math.max(...delays)).toBeLessThanOrEqual(125);
    expect(delays.size).toBeGreaterThan(10);
  });
});
