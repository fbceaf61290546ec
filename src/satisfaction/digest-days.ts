import type { Connection, Types } from 'mongoose';
import { digestDayModel } from '../db/models/digest-day';
import { messageModel } from '../db/models/message';
import { orderModel } from '../db/models/order';
import { ratingModel } from '../db/models/rating';
import { ratingRequestModel } from '../db/models/rating-request';
import { suggestionModel } from '../db/models/suggestion';
import { unansweredModel } from '../db/models/unanswered';
import type { Logger } from '../logger';
import { normalizeText } from '../nlu/normalize';
import { LOW_RATING } from './save-rating-action';
import { addDays, dayOf, startOfDay } from './periods';

const LIST_LIMIT = 50;

/** What one day adds to a digest. */
export interface DayFigures {
  /** Ratings answered that day, grouped by what the digest tells apart; `request` when a rating request asked for it. */
  ratings: { score: number; channel: string; products: string[]; request: boolean; count: number }[];
  low: { score: number; comment: string | null; customer: string; channel: string; order: string | null; at: string }[];
  requestsSent: number;
  suggestions: { text: string; product: string | null; channel: string; at: string }[];
  /** Questions no flow understood, the same question written differently counted once. */
  unanswered: { key: string; text: string; count: number }[];
  /** Orders placed that day and not cancelled, per customer, with the day of the customer's first order ever. */
  orders: { customer: string; spend: number; orders: number; firstDay: string }[];
  cancelled: number;
  /** Customers' messages that came through a referral (an m.me link, an ad, a click-to-WhatsApp ad), by source and channel. Absent from days kept before it was counted. */
  referrals?: { source: string; channel: string; count: number }[];
}

const empty = (): DayFigures => ({ ratings: [], low: [], requestsSent: 0, suggestions: [], unanswered: [], orders: [], cancelled: 0, referrals: [] });

/**
 * The days' figures a digest reads. Closed days are summed once and kept; a day with
 * none kept yet, and today, are summed from the raw data, with one query a collection
 * for all of them. A cancelled order makes its day be summed again.
 */
export class DigestDays {
  constructor(
    private readonly connection: Connection,
    private readonly timeZone: string,
    private readonly log: Logger,
  ) {}

  /** The figures of each day, in order; `now` decides which days are closed (and kept). */
  async figures(days: string[], now = new Date()): Promise<Map<string, DayFigures>> {
    const today = dayOf(now, this.timeZone);
    const Day = digestDayModel(this.connection);
    const out = new Map<string, DayFigures>();
    // One lookup by _id a day: the one read FerretDB does without a scan.
    const kept = await Promise.all(days.filter((d) => d < today).map((d) => Day.findById(d).lean()));
    for (const doc of kept) if (doc) out.set(doc._id, JSON.parse(doc.figures) as DayFigures);
    const missing = days.filter((d) => !out.has(d) && d <= today);
    if (missing.length > 0) {
      const started = Date.now();
      const computed = await this.sum(missing);
      for (const [day, figures] of computed) {
        out.set(day, figures);
        if (day < today) await Day.replaceOne({ _id: day }, { figures: JSON.stringify(figures), computedAt: new Date() }, { upsert: true });
      }
      this.log.info({ days: missing.length, ms: Date.now() - started }, 'digest: days summed from the raw data');
    }
    for (const d of days) if (!out.has(d)) out.set(d, empty());
    return out;
  }

  /** Forgets a kept day, so that the next digest sums it again (an order of that day was cancelled). */
  async invalidate(instant: Date): Promise<void> {
    await digestDayModel(this.connection).deleteOne({ _id: dayOf(instant, this.timeZone) });
  }

  /** Sums the given days from the raw data: one query a collection over their whole span. */
  private async sum(days: string[]): Promise<Map<string, DayFigures>> {
    const sorted = [...days].sort();
    const range = { $gte: startOfDay(sorted[0]!, this.timeZone), $lt: startOfDay(addDays(sorted.at(-1)!, 1), this.timeZone) };
    const wanted = new Set(days);
    const out = new Map<string, DayFigures>(days.map((d) => [d, empty()]));
    const dayOfAt = (at: Date) => dayOf(at, this.timeZone);
    const figuresOf = (at: Date) => (wanted.has(dayOfAt(at)) ? out.get(dayOfAt(at)) : undefined);

    const [ratings, requests, suggestions, unanswered, orders, referred] = await Promise.all([
      ratingModel(this.connection).find({ answeredAt: range }, { score: 1, channel: 1, products: 1, request: 1, comment: 1, customer: 1, order: 1, answeredAt: 1 }).lean(),
      ratingRequestModel(this.connection).find({ sentAt: range }, { sentAt: 1 }).lean(),
      suggestionModel(this.connection).find({ at: range }, { text: 1, product: 1, channel: 1, at: 1 }).lean(),
      unansweredModel(this.connection).find({ at: range }, { text: 1, at: 1 }).lean(),
      orderModel(this.connection).find({ createdAt: range }, { customer: 1, total: 1, status: 1, createdAt: 1 }).lean(),
      messageModel(this.connection).find({ direction: 'in', at: range, 'content.referral': { $exists: true } }, { channel: 1, at: 1, 'content.referral.source': 1 }).lean<{ channel: string; at: Date; content?: { referral?: { source?: unknown } } }[]>(),
    ]);
    for (const m of referred) {
      const f = figuresOf(m.at);
      if (!f) continue;
      const source = String(m.content?.referral?.source ?? 'unknown');
      const group = f.referrals!.find((r) => r.source === source && r.channel === m.channel);
      if (group) group.count += 1;
      else f.referrals!.push({ source, channel: m.channel, count: 1 });
    }

    for (const r of ratings) {
      const f = figuresOf(r.answeredAt);
      if (!f) continue;
      const products = [...(r.products ?? [])].sort();
      const key = (g: DayFigures['ratings'][number]) => g.score === r.score && g.channel === r.channel && g.request === Boolean(r.request) && g.products.join() === products.join();
      const group = f.ratings.find(key);
      if (group) group.count += 1;
      else f.ratings.push({ score: r.score, channel: r.channel, products, request: Boolean(r.request), count: 1 });
      if (r.score <= LOW_RATING && f.low.length < LIST_LIMIT)
        f.low.push({ score: r.score, comment: r.comment ?? null, customer: String(r.customer), channel: r.channel, order: r.order ?? null, at: r.answeredAt.toISOString() });
    }
    for (const q of requests) {
      const f = q.sentAt ? figuresOf(q.sentAt) : undefined;
      if (f) f.requestsSent += 1;
    }
    for (const s of suggestions) {
      const f = figuresOf(s.at);
      if (f && f.suggestions.length < LIST_LIMIT) f.suggestions.push({ text: s.text, product: s.product ?? null, channel: s.channel, at: s.at.toISOString() });
    }
    for (const u of unanswered) {
      const f = figuresOf(u.at);
      if (!f) continue;
      const key = normalizeText(u.text);
      const q = f.unanswered.find((x) => x.key === key);
      if (q) q.count += 1;
      else f.unanswered.push({ key, text: u.text, count: 1 });
    }
    // A buyer's first order day ever tells who comes back: their earlier orders, fetched for them only.
    const buyers = [...new Set(orders.filter((o) => o.status !== 'cancelled').map((o) => String(o.customer as Types.ObjectId)))];
    const earlier = buyers.length
      ? await orderModel(this.connection).find({ customer: { $in: buyers }, createdAt: { $lt: range.$gte }, status: { $ne: 'cancelled' } }, { customer: 1, createdAt: 1 }).lean()
      : [];
    const firstDay = new Map<string, string>();
    for (const o of [...earlier, ...orders.filter((x) => x.status !== 'cancelled')]) {
      const day = dayOfAt(o.createdAt);
      const c = String(o.customer as Types.ObjectId);
      if (!firstDay.has(c) || day < firstDay.get(c)!) firstDay.set(c, day);
    }
    for (const o of orders) {
      const f = figuresOf(o.createdAt);
      if (!f) continue;
      if (o.status === 'cancelled') {
        f.cancelled += 1;
        continue;
      }
      const c = String(o.customer as Types.ObjectId);
      const entry = f.orders.find((x) => x.customer === c);
      if (entry) {
        entry.spend += o.total;
        entry.orders += 1;
      } else f.orders.push({ customer: c, spend: o.total, orders: 1, firstDay: firstDay.get(c)! });
    }
    for (const f of out.values()) {
      f.low.sort((a, b) => b.at.localeCompare(a.at));
      f.suggestions.sort((a, b) => b.at.localeCompare(a.at));
    }
    return out;
  }
}
