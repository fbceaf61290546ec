import type { Connection, PipelineStage, Types } from 'mongoose';
import type { Catalog } from '../catalog/catalog';
import { customerModel } from '../db/models/customer';
import { orderModel } from '../db/models/order';
import { ratingModel } from '../db/models/rating';
import { ratingRequestModel } from '../db/models/rating-request';
import { suggestionModel } from '../db/models/suggestion';
import { unansweredModel } from '../db/models/unanswered';
import { normalizeText } from '../nlu/normalize';
import { LOW_RATING } from './save-rating-action';
import { previousPeriod, type Period } from './periods';

/** A score summary: how many, and their average (null with none). */
export interface Scores {
  count: number;
  average: number | null;
}

/** Everything the cooperative reads about a period. */
export interface Digest {
  period: { from: string; to: string };
  previous: { from: string; to: string };
  csat: Scores & {
    distribution: Record<'1' | '2' | '3' | '4' | '5', number>;
    /** Requests sent in the period, answered, and the share answered (null with none sent). */
    requests: { sent: number; answered: number; responseRate: number | null };
    previous: Scores;
    /** The average's change from the previous period (null when either has none). */
    trend: number | null;
  };
  byProduct: (Scores & { product: string; name: string })[];
  byChannel: (Scores & { channel: string })[];
  lowRatings: { score: number; comment: string | null; customer: string; name: string | null; channel: string; order: string | null; at: Date }[];
  suggestions: { text: string; product: string | null; channel: string; at: Date }[];
  unanswered: { text: string; count: number }[];
  orders: { count: number; revenue: number; currency: string; cancelled: number };
  repeatCustomers: { customers: number; repeat: number; share: number | null };
  topCustomers: { count: number; revenue: number; share: number | null; customers: { customer: string; name: string | null; spend: number; orders: number }[] };
}

const LIST_LIMIT = 20;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const average = (total: number, count: number) => (count > 0 ? round(total / count) : null);
const inPeriod = (p: Period) => ({ $gte: p.start, $lt: p.end });

/**
 * Computes the digest of a period with what FerretDB 1.24 aggregates right ($match, and $group with one
 * $sum): averages are sums over counts, and the rest is arithmetic
 * on small grouped results. Messages are never scanned.
 */
export async function computeDigest(connection: Connection, catalog: Catalog, p: Period, timeZone: string): Promise<Digest> {
  const before = previousPeriod(p, timeZone);
  const Rating = ratingModel(connection);
  const Request = ratingRequestModel(connection);
  const Order = orderModel(connection);
  const group = <T>(model: { aggregate: (s: PipelineStage[]) => { exec(): Promise<T[]> } }, stages: PipelineStage[]) => model.aggregate(stages).exec();
  // One accumulator a $group: FerretDB 1.24 gets every accumulator after the first wrong
  // (0), so sums are counts grouped by the value (score, total) and multiplied here.
  const counted = (key: Record<string, string>) => ({ $group: { _id: key, count: { $sum: 1 } } }) as PipelineStage;

  const [byScoreAndChannel, previous, byProduct, sent, answered, low, suggestions, unanswered, orderGroups, earlierCustomers, cancelled] = await Promise.all([
    group<{ _id: { score: number; channel: string }; count: number }>(Rating, [{ $match: { answeredAt: inPeriod(p) } }, counted({ score: '$score', channel: '$channel' })]),
    group<{ _id: { score: number }; count: number }>(Rating, [{ $match: { answeredAt: inPeriod(before) } }, counted({ score: '$score' })]),
    // Grouped by the whole list of products: FerretDB 1.24's $unwind drops the other fields.
    group<{ _id: { score: number; products?: string[] }; count: number }>(Rating, [{ $match: { answeredAt: inPeriod(p) } }, counted({ score: '$score', products: '$products' })]),
    Request.countDocuments({ sentAt: inPeriod(p) }),
    Request.countDocuments({ sentAt: inPeriod(p), status: 'answered' }),
    Rating.find({ answeredAt: inPeriod(p), score: { $lte: LOW_RATING } }).sort({ answeredAt: -1 }).limit(LIST_LIMIT).lean(),
    suggestionModel(connection).find({ at: inPeriod(p) }).sort({ at: -1 }).limit(LIST_LIMIT).lean(),
    group<{ _id: string; count: number }>(unansweredModel(connection), [{ $match: { at: inPeriod(p) } }, { $group: { _id: '$text', count: { $sum: 1 } } }]),
    group<{ _id: { customer: Types.ObjectId; total: number }; count: number }>(Order, [
      { $match: { createdAt: inPeriod(p), status: { $ne: 'cancelled' } } },
      counted({ customer: '$customer', total: '$total' }),
    ]),
    group<{ _id: Types.ObjectId }>(Order, [{ $match: { createdAt: { $lt: p.start }, status: { $ne: 'cancelled' } } }, { $group: { _id: '$customer' } }]),
    Order.countDocuments({ createdAt: inPeriod(p), status: 'cancelled' }),
  ]);

  // Scores: one grouped pass gives the distribution, the average and the channels.
  const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  const channels = new Map<string, { count: number; total: number }>();
  let count = 0;
  let total = 0;
  for (const b of byScoreAndChannel) {
    const key = String(b._id.score) as keyof typeof distribution;
    if (key in distribution) distribution[key] += b.count;
    count += b.count;
    total += b._id.score * b.count;
    const c = channels.get(b._id.channel) ?? { count: 0, total: 0 };
    c.count += b.count;
    c.total += b._id.score * b.count;
    channels.set(b._id.channel, c);
  }
  const now = average(total, count);
  const previousCount = previous.reduce((sum, b) => sum + b.count, 0);
  const then = average(
    previous.reduce((sum, b) => sum + b._id.score * b.count, 0),
    previousCount,
  );
  const products = new Map<string, { count: number; total: number }>();
  for (const b of byProduct) {
    for (const product of new Set(b._id.products ?? [])) {
      const c = products.get(product) ?? { count: 0, total: 0 };
      c.count += b.count;
      c.total += b._id.score * b.count;
      products.set(product, c);
    }
  }
  const spending = new Map<string, { _id: Types.ObjectId; spend: number; orders: number }>();
  for (const g of orderGroups) {
    const key = String(g._id.customer);
    const c = spending.get(key) ?? { _id: g._id.customer, spend: 0, orders: 0 };
    c.spend += g._id.total * g.count;
    c.orders += g.count;
    spending.set(key, c);
  }
  const periodOrders = [...spending.values()];

  // Who the low scores are from.
  const names = new Map<string, string | null>();
  const ids = [...new Set(low.map((r) => String(r.customer)))];
  for (const c of ids.length ? await customerModel(connection).find({ _id: { $in: ids } }, { name: 1 }).lean() : []) names.set(String(c._id), c.name ?? null);

  // Unanswered questions: the same question written differently counts once.
  const questions = new Map<string, { text: string; count: number }>();
  for (const u of unanswered) {
    const key = normalizeText(u._id);
    const q = questions.get(key) ?? { text: u._id, count: 0 };
    q.count += u.count;
    questions.set(key, q);
  }

  // Orders, repeat customers and the top fifth by spend.
  const revenue = periodOrders.reduce((sum, o) => sum + o.spend, 0);
  const earlier = new Set(earlierCustomers.map((c) => String(c._id)));
  const repeat = periodOrders.filter((o) => o.orders >= 2 || earlier.has(String(o._id))).length;
  const ranked = [...periodOrders].sort((a, b) => b.spend - a.spend || String(a._id).localeCompare(String(b._id)));
  const top = ranked.slice(0, Math.ceil(ranked.length * 0.2));
  const topRevenue = top.reduce((sum, o) => sum + o.spend, 0);
  const topNames = new Map<string, string | null>();
  const shown = top.slice(0, LIST_LIMIT);
  for (const c of shown.length ? await customerModel(connection).find({ _id: { $in: shown.map((o) => o._id) } }, { name: 1 }).lean() : []) topNames.set(String(c._id), c.name ?? null);

  const productName = (id: string) => {
    const product = catalog.product(id);
    return product ? catalog.view(product, 'fr').name : id;
  };
  return {
    period: { from: p.from, to: p.to },
    previous: { from: before.from, to: before.to },
    csat: {
      count,
      average: now,
      distribution,
      requests: { sent, answered, responseRate: sent > 0 ? round(answered / sent, 3) : null },
      previous: { count: previousCount, average: then },
      trend: now !== null && then !== null ? round(now - then) : null,
    },
    byProduct: [...products]
      .map(([product, b]) => ({ product, name: productName(product), count: b.count, average: average(b.total, b.count) }))
      .sort((a, b) => b.count - a.count || a.product.localeCompare(b.product)),
    byChannel: [...channels].map(([channel, c]) => ({ channel, count: c.count, average: average(c.total, c.count) })).sort((a, b) => b.count - a.count || a.channel.localeCompare(b.channel)),
    lowRatings: low.map((r) => ({ score: r.score, comment: r.comment ?? null, customer: String(r.customer), name: names.get(String(r.customer)) ?? null, channel: r.channel, order: r.order ?? null, at: r.answeredAt })),
    suggestions: suggestions.map((s) => ({ text: s.text, product: s.product, channel: s.channel, at: s.at })),
    unanswered: [...questions.values()].sort((a, b) => b.count - a.count || a.text.localeCompare(b.text)).slice(0, 10),
    orders: { count: periodOrders.reduce((sum, o) => sum + o.orders, 0), revenue, currency: catalog.data.cooperative.currency, cancelled },
    repeatCustomers: { customers: periodOrders.length, repeat, share: periodOrders.length > 0 ? round(repeat / periodOrders.length, 3) : null },
    topCustomers: {
      count: top.length,
      revenue: topRevenue,
      share: revenue > 0 ? round(topRevenue / revenue, 3) : null,
      customers: shown.map((o) => ({ customer: String(o._id), name: topNames.get(String(o._id)) ?? null, spend: o.spend, orders: o.orders })),
    },
  };
}
