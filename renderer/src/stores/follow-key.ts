/**
 * Subscriptions that follow a key (the desk's selected event, the emergency board's incident). Switching keys
 * stops the old subscriptions before the new ones start, and a switch that overtakes a slow start (J/K through
 * the queue) stops what that start made as soon as it has it: no subscription outlives its key, and no
 * listener of an old key writes over the new one's data (`isCurrent`).
 */
export type Stop = () => Promise<void>;

export function followKey<K>(start: (key: K, isCurrent: () => boolean, keep: (stop: Stop) => void) => Promise<void>): (key: K | null) => Promise<void> {
  let generation = 0;
  let current: Stop[] = [];
  return async (key) => {
    const mine = ++generation;
    const old = current;
    current = [];
    await Promise.allSettled(old.map((stop) => stop()));
    if (key === null || mine !== generation) return;
    const isCurrent = (): boolean => mine === generation;
    const made: Stop[] = [];
    try {
      await start(key, isCurrent, (stop) => made.push(stop));
    } finally {
      if (isCurrent()) current.push(...made);
      else await Promise.allSettled(made.map((stop) => stop()));
    }
  };
}
