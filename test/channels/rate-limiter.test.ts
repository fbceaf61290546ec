import { RateLimiter } from '../../src/channels/rate-limiter';

describe('RateLimiter', () => {
  it('lets a burst through at once, then spaces the rest at the rate', async () => {
    const limiter = new RateLimiter(50, 3); // 3 at once, then one every 20 ms
    const start = Date.now();
    const times: number[] = [];
    await Promise.all(Array.from({ length: 5 }, () => limiter.take().then(() => times.push(Date.now() - start))));
    times.sort((a, b) => a - b);
    expect(times[2]).toBeLessThan(15);
    // The 4th and 5th waited for tokens: at least 20 and 40 ms (the bounds are loose on purpose).
    expect(times[3]).toBeGreaterThanOrEqual(15);
    expect(times[4]).toBeGreaterThanOrEqual(35);
  });
});
