/** Spaces calls: `perSecond` on average, with bursts of up to `burst` (a token bucket refilled continuously). */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly perSecond: number,
    private readonly burst = Math.max(1, perSecond),
  ) {
    this.tokens = this.burst;
  }

  /** When this limiter was last used, to forget idle ones. */
  get lastUsed(): number {
    return this.last;
  }

  /** Resolves when the caller may go. */
  take(): Promise<void> {
    const turn = this.chain.then(async () => {
      for (;;) {
        const now = Date.now();
        this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
        this.last = now;
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.perSecond) * 1000)));
      }
    });
    this.chain = turn;
    return turn;
  }
}
