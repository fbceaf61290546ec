import type { CoopTarget } from '../config';
import type { Logger } from '../logger';
import type { ChannelDirectory } from './channel-directory';

const RETRY_DELAYS_MS = [1_000, 5_000, 30_000];
const TIMEOUT_MS = 10_000;

/**
 * Tells the cooperative of what needs a person (a new order, a cancellation, a low rating)
 * through COOP_NOTIFY: a message on one of its channels, or a JSON POST to an address.
 * Sending runs in the background with retries; what could not be sent is logged whole,
 * and the admin API keeps every order anyway.
 */
export class CooperativeNotifier {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly target: CoopTarget | undefined,
    private readonly channels: ChannelDirectory,
    private readonly log: Logger,
    private readonly delays: number[] = RETRY_DELAYS_MS,
  ) {}

  /** Says at start where notifications go, and warns when that cannot work. */
  logTarget(): void {
    const target = this.target;
    if (!target) this.log.info('COOP_NOTIFY is unset: the cooperative finds new orders in the console (/admin/orders) and the admin API only');
    else if (target.kind === 'webhook') this.log.info(`the cooperative is notified at ${new URL(target.url).host} (COOP_NOTIFY)`);
    else if (!this.channels.has(target.channel)) this.log.warn(`COOP_NOTIFY names the ${target.channel} channel, which is off: notifications will fail until it is on`);
    else this.log.info(`the cooperative is notified on ${target.channel} (COOP_NOTIFY)`);
  }

  /** Queues a notification: `text` for people, `event` and `data` for a webhook's program. */
  notify(event: string, text: string, data: Record<string, unknown> = {}): void {
    if (!this.target) return;
    const sending = this.deliver(this.target, event, text, data).finally(() => this.pending.delete(sending));
    this.pending.add(sending);
  }

  /** Waits for the notifications under way (at shutdown, and in tests), at most `ms`; returns how many were left unsent. */
  async flush(ms = 10_000): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.pending.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all([...this.pending]), new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))]);
    }
    if (this.pending.size > 0) this.log.error({ unsent: this.pending.size }, 'stopping with cooperative notifications unsent; the orders are in the admin API');
    return this.pending.size;
  }

  private async deliver(target: CoopTarget, event: string, text: string, data: Record<string, unknown>): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        if (target.kind === 'webhook') await postJson(target.url, { event, text, ...data });
        else await this.channels.send(target.channel, target.id, [text]);
        return;
      } catch (err) {
        const delay = this.delays[attempt];
        if (delay === undefined) {
          this.log.error({ event, err: (err as Error).message, text }, 'could not notify the cooperative (COOP_NOTIFY); the text is in this log line');
          return;
        }
        this.log.warn({ event, err: (err as Error).message, retryInMs: delay }, 'notifying the cooperative failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS) });
  // The host only: a webhook address may carry a token in its path or query.
  if (!res.ok) throw new Error(`${new URL(url).host} answered ${res.status}`);
}
