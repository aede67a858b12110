import { describe, expect, it } from 'vitest';
import { followKey } from '../../renderer/src/stores/follow-key';

/** A fake subscription service whose subscribe calls resolve when the test says. */
function service() {
  const live = new Set<string>();
  const pending: Array<() => void> = [];
  const subscribe = (name: string): Promise<() => Promise<void>> =>
    new Promise((resolve) =>
      pending.push(() => {
        live.add(name);
        resolve(async () => void live.delete(name));
      }),
    );
  /** Answers every subscribe call, including those the answers lead to, until none comes for a while. */
  const release = async (): Promise<void> => {
    for (let idle = 0; idle < 5; ) {
      await new Promise((r) => setTimeout(r, 0));
      if (pending.length === 0) idle++;
      else {
        idle = 0;
        pending.shift()!();
      }
    }
  };
  return { live, subscribe, release };
}

describe('subscriptions that follow a key', () => {
  it('a switch that overtakes a slow start stops what that start made; only the last key stays subscribed', async () => {
    const s = service();
    const writes: string[] = [];
    const follow = followKey<string>(async (key, isCurrent, keep) => {
      keep(await s.subscribe(`${key}:event`));
      if (isCurrent()) writes.push(key);
      keep(await s.subscribe(`${key}:history`));
    });
    const a = follow('A');
    const b = follow('B'); // J/K: B selected before A's subscriptions came back
    await s.release();
    await Promise.all([a, b]);
    expect([...s.live].sort()).toEqual(['B:event', 'B:history']);
    expect(writes).toEqual(['B']);
    await follow(null);
    expect(s.live.size).toBe(0);
  });

  it('a start that fails half-way keeps what it made until the next switch, which stops it', async () => {
    const s = service();
    const follow = followKey<string>(async (key, _isCurrent, keep) => {
      keep(await s.subscribe(`${key}:event`));
      throw new Error('refused');
    });
    const started = follow('A').then(() => null, (e: unknown) => e);
    await s.release();
    expect(await started).toMatchObject({ message: 'refused' });
    expect([...s.live]).toEqual(['A:event']);
    await follow(null);
    expect(s.live.size).toBe(0);
  });
});
