import cron from 'node-cron';
import type { Connection, Types } from 'mongoose';
import type { Config } from '../config';
import { customerModel } from '../db/models/customer';
import { releaseLease, takeLease } from '../db/models/lease';
import type { OrderDoc } from '../db/models/order';
import { ratingQueueModel } from '../db/models/rating-queue';
import { ratingRequestModel, type RatingOccasion, type RatingRequestDoc } from '../db/models/rating-request';
import type { Customer } from '../history/customers';
import type { Logger } from '../logger';
import { insertOnce } from '../db/duplicate-key';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Meta's channels let a business write first only within 24 hours of the customer's last message.
const WINDOW_CHANNELS = new Set(['messenger', 'whatsapp']);
// A customer who wrote this recently is in a conversation: the request waits until it is over.
const BUSY_MS = 5 * 60_000;
const LEASE = 'job:rating-requests';
// Every this many passes (an hour, at one a minute), a pass looks for requests left out of the queue.
const SWEEP_EVERY = 60;

/** Asks a customer for a rating now, on their channel (the server starts the satisfaction flow). */
export type AskForRating = (customer: Customer, request: RatingRequestDoc) => Promise<void>;

/** What one pass over the due requests did. */
export interface RatingPass {
  sent: number;
  skipped: Record<string, number>;
  postponed: number;
}

/**
 * Rating requests: kept in the database when an occasion arises (an order delivered, a
 * question answered), and sent by a node-cron job once due, by one process at a time.
 * A request is sent only if the customer has not opted out, was not asked within the
 * cool-down, is not in the middle of a conversation, and is inside the channel's window.
 */
export class RatingScheduler {
  private passes = 0;
  private answeredDay = '';
  private readonly answeredToday = new Set<string>();

  constructor(
    private readonly connection: Connection,
    private readonly settings: Config['ratings'],
    private readonly ask: AskForRating,
    private readonly holder: string,
    private readonly log: Logger,
  ) {}

  /** Schedules the rating of a delivered order, once per order. */
  async delivered(order: OrderDoc, now = new Date()): Promise<void> {
    if (this.settings.afterDeliveryHours === undefined) return;
    await this.schedule(order.customer, order.channel, 'delivered', order._id, order.lines.map((l) => l.product), new Date(now.getTime() + this.settings.afterDeliveryHours * HOUR), now);
  }

  /** Schedules a rating after a conversation that answered a question (at most one a day); it waits while the conversation goes on. */
  async answered(customer: Types.ObjectId, channel: string, product: string | null, now = new Date()): Promise<void> {
    if (this.settings.afterAnswerMinutes === undefined) return;
    const day = now.toISOString().slice(0, 10);
    // Every answer calls this: a customer already scheduled today costs no write.
    if (this.answeredDay !== day) {
      this.answeredDay = day;
      this.answeredToday.clear();
    }
    if (this.answeredToday.has(String(customer))) return;
    this.answeredToday.add(String(customer));
    await this.schedule(customer, channel, 'answered', day, product ? [product] : [], new Date(now.getTime() + this.settings.afterAnswerMinutes * 60_000), now);
  }

  /** Sends what is due, under a lease so that one process does it; returns what it did. */
  async runDue(now = new Date()): Promise<RatingPass> {
    const pass: RatingPass = { sent: 0, skipped: {}, postponed: 0 };
    if (!(await takeLease(this.connection, LEASE, this.holder, 10 * 60_000, { reclaim: true }))) return pass;
    try {
      if (this.passes++ % SWEEP_EVERY === 0) await this.sweep(now);
      const Queue = ratingQueueModel(this.connection);
      const queued = await Queue.find({ dueAt: { $lte: now } }).sort({ dueAt: 1 }).limit(500).lean();
      for (const entry of queued) {
        // Read by _id; one handled already (a stop between its two writes) just leaves the queue.
        const request = await ratingRequestModel(this.connection).findById(entry._id).lean<RatingRequestDoc>();
        if (!request || request.status !== 'due') {
          await Queue.deleteOne({ _id: entry._id });
          continue;
        }
        const outcome = await this.handle(request, now).catch((err: Error) => {
          this.log.error({ request: request._id, err: err.message }, 'rating request failed; it stays due');
          return 'failed' as const;
        });
        if (outcome === 'sent') pass.sent += 1;
        else if (outcome === 'postponed') pass.postponed += 1;
        else if (outcome !== 'failed') pass.skipped[outcome] = (pass.skipped[outcome] ?? 0) + 1;
      }
    } finally {
      await releaseLease(this.connection, LEASE, this.holder);
    }
    if (pass.sent || pass.postponed || Object.keys(pass.skipped).length) this.log.info(pass, 'rating requests');
    return pass;
  }

  /** Runs the due requests every minute; returns a function that stops it. */
  start(): () => void {
    const task = cron.schedule('* * * * *', () => {
      this.runDue().catch((err: Error) => this.log.error({ err: err.message }, 'rating requests failed'));
    });
    return () => void task.stop();
  }

  private async schedule(customer: Types.ObjectId, channel: string, occasion: RatingOccasion, ref: string, products: string[], dueAt: Date, now: Date): Promise<void> {
    const _id = `${String(customer)}:${occasion}:${ref}`;
    // The request's unique _id makes an occasion asked about once; the queue entry makes it found.
    const created = await insertOnce(
      ratingRequestModel(this.connection).create({ _id, customer, channel, occasion, order: occasion === 'delivered' ? ref : null, products, dueAt, status: 'due', reason: null, sentAt: null, answeredAt: null, createdAt: now }),
    );
    if (created) await insertOnce(ratingQueueModel(this.connection).create({ _id, dueAt }));
  }

  /** Queues again the due requests that have no queue entry (a stop between the two inserts), reading every request: hourly. */
  private async sweep(now: Date): Promise<void> {
    const Queue = ratingQueueModel(this.connection);
    const due = await ratingRequestModel(this.connection).find({ status: 'due', createdAt: { $lt: new Date(now.getTime() - 60_000) } }, { dueAt: 1 }).lean();
    for (const request of due) if (!(await Queue.exists({ _id: request._id }))) await insertOnce(Queue.create({ _id: request._id, dueAt: request.dueAt }));
  }

  private async handle(request: RatingRequestDoc, now: Date): Promise<'sent' | 'postponed' | string> {
    const Request = ratingRequestModel(this.connection);
    const Queue = ratingQueueModel(this.connection);
    const skip = async (reason: string) => {
      await Request.updateOne({ _id: request._id }, { $set: { status: 'skipped', reason } });
      await Queue.deleteOne({ _id: request._id });
      return reason;
    };
    const customer = await customerModel(this.connection).findById(request.customer).lean<Customer>();
    if (!customer) return skip('gone');
    if (customer.ratingOptOut) return skip('opt_out');
    if (customer.lastRatingRequestAt && now.getTime() - customer.lastRatingRequestAt.getTime() < this.settings.cooldownDays * DAY) return skip('cooldown');
    const postpone = async (dueAt: Date) => {
      await Request.updateOne({ _id: request._id }, { $set: { dueAt } });
      await Queue.updateOne({ _id: request._id }, { $set: { dueAt } });
      return 'postponed';
    };
    // A person has the conversation: the bot stays quiet until they give it back or it times out.
    if (customer.handoff?.until && customer.handoff.until > now) return postpone(customer.handoff.until);
    const seen = customer.lastSeenAt.getTime();
    // Still talking: after an answered question, wait until the conversation has been quiet
    // RATING_AFTER_ANSWER_MINUTES; after a delivery, until the customer has been quiet a few minutes.
    const quietFor = request.occasion === 'answered' ? (this.settings.afterAnswerMinutes ?? 0) * 60_000 : BUSY_MS;
    if (now.getTime() - seen < quietFor && seen > request.createdAt.getTime() - BUSY_MS) return postpone(new Date(seen + quietFor));
    if (WINDOW_CHANNELS.has(customer.channel) && now.getTime() - seen > DAY) return skip('window');
    await this.ask(customer, request);
    await Request.updateOne({ _id: request._id }, { $set: { status: 'sent', sentAt: now } });
    await Queue.deleteOne({ _id: request._id });
    await customerModel(this.connection).updateOne({ _id: customer._id }, { $set: { lastRatingRequestAt: now } });
    return 'sent';
  }
}
