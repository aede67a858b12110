/** A token bucket: `rate` per second with bursts up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until take() can succeed (0: now). */
  waitMs(): number {
    const tokens = Math.min(this.burst, this.tokens + ((this.now() - this.last) / 1000) * this.rate);
    return tokens >= 1 ? 0 : ((1 - tokens) / this.rate) * 1000;
  }
}
