/**
 * Slows guessing: at most `attempts` failed logins per address in `windowMs`; then the
 * address waits until the oldest failure leaves the window. Kept in memory: one server
 * process sees its own logins (enough for a cooperative's console).
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly attempts = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** Milliseconds the address must wait before trying again, or 0. */
  waitFor(address: string, now = Date.now()): number {
    const recent = this.recent(address, now);
    return recent.length >= this.attempts ? recent[0]! + this.windowMs - now : 0;
  }

  /** Counts a failed login. */
  failed(address: string, now = Date.now()): void {
    this.failures.set(address, [...this.recent(address, now), now]);
    if (this.failures.size > 10_000) for (const [key, times] of this.failures) if (times.every((t) => now - t > this.windowMs)) this.failures.delete(key);
  }

  /** Forgets an address's failures after a good login. */
  succeeded(address: string): void {
    this.failures.delete(address);
  }

  private recent(address: string, now: number): number[] {
    return (this.failures.get(address) ?? []).filter((t) => now - t < this.windowMs);
  }
}
