/**
 * The backend's clock: real time, or simulated time running `rate` times faster (--speed 60 for demos).
 * Clients learn the rate and the server time in the welcome frame and run their countdowns on it.
 */
export class SimClock {
  private anchorReal: number;
  private anchorSim: number;

  constructor(
    readonly rate = 1,
    startSim: number = Date.now(),
    private readonly realNow: () => number = Date.now,
  ) {
    if (!(rate > 0 && rate <= 10_000)) throw new Error(`clock rate must be in (0, 10000], got ${rate}`);
    this.anchorReal = realNow();
    this.anchorSim = startSim;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  nowMs(): number {
    return this.anchorSim + (this.realNow() - this.anchorReal) * this.rate;
  }

  /** Real milliseconds until the simulated clock reaches `simMs`. */
  realDelayUntil(simMs: number): number {
    return Math.max(0, (simMs - this.nowMs()) / this.rate);
  }
}
