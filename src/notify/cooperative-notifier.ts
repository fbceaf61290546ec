import type { Connection } from 'mongoose';
import type { CoopTarget } from '../config';
import { insertOnce } from '../db/duplicate-key';
import { releaseLease, takeLease } from '../db/models/lease';
import { notificationModel } from '../db/models/notification';
import { insertPlain } from '../db/plain-insert';
import type { Logger } from '../logger';
import type { ChannelDirectory } from './channel-directory';

const RETRY_DELAYS_MS = [1_000, 5_000, 30_000];
const TIMEOUT_MS = 10_000;
// A recorded notice still pending this long after it was made was left by a process that
// stopped: longer than every try of a live one (the delays and four timeouts).
const LEFT_BEHIND_MS = 2 * 60_000;
const RESUME_EVERY_MS = 60_000;

/**
 * Tells the cooperative of what needs a person (a new order, a cancellation, a low rating)
 * through COOP_NOTIFY: a message on one of its channels, or a JSON POST to an address.
 * Sending runs in the background with retries; what could not be sent is logged whole,
 * and the admin API keeps every order anyway. A notice with a name (`once`) is recorded
 * first: it goes out once however often it is asked for, and a stop does not lose it.
 */
export class CooperativeNotifier {
  private readonly pending = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: CoopTarget | undefined,
    private readonly channels: ChannelDirectory,
    private readonly log: Logger,
    private readonly options: {
      /** Where named notices are recorded. */
      connection?: Connection;
      /** This process's name in leases. */
      holder?: string;
      /** This process is the database's only one: every pending notice at start is a stop's leftover. */
      alone?: boolean;
      delays?: number[];
    } = {},
  ) {}

  /** Says at start where notifications go, and warns when that cannot work. */
  logTarget(): void {
    const target = this.target;
    if (!target) this.log.info('COOP_NOTIFY is unset: the cooperative finds new orders in the console (/admin/orders) and the admin API only');
    else if (target.kind === 'webhook') this.log.info(`the cooperative is notified at ${new URL(target.url).host} (COOP_NOTIFY)`);
    else if (!this.channels.has(target.channel)) this.log.warn(`COOP_NOTIFY names the ${target.channel} channel, which is off: notifications will fail until it is on`);
    else this.log.info(`the cooperative is notified on ${target.channel} (COOP_NOTIFY)`);
  }

  /**
   * Queues a notification: `text` for people, `event` and `data` for a webhook's program.
   * With `once` (what it is about, "order.placed:TIF-000001"), it is recorded under that name
   * before this resolves, and a second call with the name sends nothing.
   */
  async notify(event: string, text: string, data: Record<string, unknown> = {}, once?: string): Promise<void> {
    if (!this.target) return;
    const connection = this.options.connection;
    if (once && connection) {
      const fresh = await insertOnce(insertPlain(notificationModel(connection), [{ _id: once, event, text, data: JSON.stringify(data), status: 'pending', at: new Date(), doneAt: null }]));
      if (!fresh) return;
    }
    this.background(event, text, data, once);
  }

  /** Sends, at start and every minute, the recorded notices a stopped process left unsent; returns a function that stops it. */
  start(): () => void {
    const resume = (atStart: boolean) => void this.resumeLeftBehind(new Date(), atStart).catch((err: Error) => this.log.error({ err: err.message }, 'could not look for notifications left unsent'));
    resume(true);
    this.timer = setInterval(() => resume(false), RESUME_EVERY_MS);
    this.timer.unref();
    return () => clearInterval(this.timer);
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

  /**
   * Sends the pending notices older than a live process's tries, each under a lease so one
   * process sends it. At the start of the database's only process, every pending one is a
   * stop's leftover; later, those this process is sending are pending too, and wait their time.
   */
  async resumeLeftBehind(now = new Date(), atStart = false): Promise<number> {
    const connection = this.options.connection;
    if (!this.target || !connection) return 0;
    const before = this.options.alone && atStart ? now : new Date(now.getTime() - LEFT_BEHIND_MS);
    const left = await notificationModel(connection).find({ status: 'pending', at: { $lt: before } }).sort({ at: 1 }).limit(100).lean();
    let resumed = 0;
    for (const n of left) {
      if (this.options.holder && !(await takeLease(connection, `notify:${n._id}`, this.options.holder, LEFT_BEHIND_MS, { reclaim: true }))) continue;
      this.log.warn({ notification: n._id }, 'sending a notification a stopped process left unsent');
      this.background(n.event, n.text, JSON.parse(n.data) as Record<string, unknown>, n._id, this.options.holder && `notify:${n._id}`);
      resumed += 1;
    }
    return resumed;
  }

  private background(event: string, text: string, data: Record<string, unknown>, once: string | undefined, lease?: string): void {
    const connection = this.options.connection;
    const sending = this.deliver(this.target!, event, text, data)
      .then(async (sent) => {
        if (once && connection) await notificationModel(connection).updateOne({ _id: once }, { $set: { status: sent ? 'sent' : 'failed', doneAt: new Date() } });
        if (lease && connection) await releaseLease(connection, lease, this.options.holder!);
      })
      .catch((err: Error) => this.log.error({ event, notification: once, err: err.message }, 'could not record what became of a notification'))
      .finally(() => this.pending.delete(sending));
    this.pending.add(sending);
  }

  /** Sends with retries; false when every try failed (logged with the whole text). */
  private async deliver(target: CoopTarget, event: string, text: string, data: Record<string, unknown>): Promise<boolean> {
    const delays = this.options.delays ?? RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt += 1) {
      try {
        if (target.kind === 'webhook') await postJson(target.url, { event, text, ...data });
        else await this.channels.send(target.channel, target.id, [text]);
        return true;
      } catch (err) {
        const delay = delays[attempt];
        if (delay === undefined) {
          this.log.error({ event, err: (err as Error).message, text }, 'could not notify the cooperative (COOP_NOTIFY); the text is in this log line');
          return false;
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
