import type { Connection } from 'mongoose';
import type { Catalog } from '../catalog/catalog';
import { customerModel } from '../db/models/customer';
import type { DayFigures, DigestDays } from './digest-days';
import { daysOf, previousPeriod, type Period } from './periods';

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
    /** Requests sent in the period, ratings given in answer to one, and their ratio (null with none sent). */
    requests: { sent: number; answered: number; responseRate: number | null };
    previous: Scores;
    /** The average's change from the previous period (null when either has none). */
    trend: number | null;
  };
  byProduct: (Scores & { product: string; name: string })[];
  byChannel: (Scores & { channel: string })[];
  lowRatings: { score: number; comment: string | null; customer: string; name: string | null; channel: string; order: string | null; at: string }[];
  suggestions: { text: string; product: string | null; channel: string; at: string }[];
  unanswered: { text: string; count: number }[];
  orders: { count: number; revenue: number; currency: string; cancelled: number };
  repeatCustomers: { customers: number; repeat: number; share: number | null };
  topCustomers: { count: number; revenue: number; share: number | null; customers: { customer: string; name: string | null; spend: number; orders: number }[] };
  /** Where customers came from in the period: messages that came through an m.me link or an ad, by source and channel, most first. */
  referrals: { source: string; channel: string; count: number }[];
}

const LIST_LIMIT = 20;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const average = (total: number, count: number) => (count > 0 ? round(total / count) : null);

/** Adds a score `count` times to a tally. */
function tally(map: Map<string, { count: number; total: number }>, key: string, score: number, count: number): void {
  const t = map.get(key) ?? { count: 0, total: 0 };
  t.count += count;
  t.total += score * count;
  map.set(key, t);
}

/**
 * The digest of a period: the days' figures (see DigestDays) added up. Averages are sums
 * over counts; the top fifth of customers and the repeat customers come from each day's
 * spend per customer and the day of each customer's first order.
 */
export async function computeDigest(connection: Connection, catalog: Catalog, days: DigestDays, p: Period, timeZone: string, now = new Date()): Promise<Digest> {
  const before = previousPeriod(p, timeZone);
  const figures = await days.figures([...daysOf(before.from, before.to), ...daysOf(p.from, p.to)], now);
  const within = daysOf(p.from, p.to).map((d) => figures.get(d)!);
  const earlier = daysOf(before.from, before.to).map((d) => figures.get(d)!);

  const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  const channels = new Map<string, { count: number; total: number }>();
  const products = new Map<string, { count: number; total: number }>();
  const all = new Map<string, { count: number; total: number }>();
  let answered = 0;
  for (const g of within.flatMap((f) => f.ratings)) {
    distribution[String(g.score) as keyof typeof distribution] += g.count;
    tally(all, '', g.score, g.count);
    tally(channels, g.channel, g.score, g.count);
    for (const product of new Set(g.products)) tally(products, product, g.score, g.count);
    if (g.request) answered += g.count;
  }
  const previous = new Map<string, { count: number; total: number }>();
  for (const g of earlier.flatMap((f) => f.ratings)) tally(previous, '', g.score, g.count);
  const count = all.get('')?.count ?? 0;
  const now_ = average(all.get('')?.total ?? 0, count);
  const then = average(previous.get('')?.total ?? 0, previous.get('')?.count ?? 0);
  const sent = within.reduce((sum, f) => sum + f.requestsSent, 0);

  const questions = new Map<string, { text: string; count: number }>();
  for (const q of within.flatMap((f) => f.unanswered)) {
    const known = questions.get(q.key) ?? { text: q.text, count: 0 };
    known.count += q.count;
    questions.set(q.key, known);
  }

  const spending = new Map<string, { customer: string; spend: number; orders: number; firstDay: string }>();
  for (const o of within.flatMap((f) => f.orders)) {
    const c = spending.get(o.customer) ?? { customer: o.customer, spend: 0, orders: 0, firstDay: o.firstDay };
    c.spend += o.spend;
    c.orders += o.orders;
    spending.set(o.customer, c);
  }
  const buyers = [...spending.values()];
  const revenue = buyers.reduce((sum, b) => sum + b.spend, 0);
  const repeat = buyers.filter((b) => b.orders >= 2 || b.firstDay < p.from).length;
  const ranked = buyers.sort((a, b) => b.spend - a.spend || a.customer.localeCompare(b.customer));
  const top = ranked.slice(0, Math.ceil(ranked.length * 0.2));
  const topRevenue = top.reduce((sum, b) => sum + b.spend, 0);

  const low = within.flatMap((f) => f.low).sort((a, b) => b.at.localeCompare(a.at)).slice(0, LIST_LIMIT);
  const shownTop = top.slice(0, LIST_LIMIT);
  // Names by _id, one lookup each: a list of ids would make FerretDB read every customer.
  const names = new Map<string, string | null>();
  for (const id of new Set([...low.map((r) => r.customer), ...shownTop.map((b) => b.customer)])) {
    names.set(id, (await customerModel(connection).findById(id, { name: 1 }).lean())?.name ?? null);
  }
  const productName = (id: string) => {
    const product = catalog.product(id);
    return product ? catalog.view(product, 'fr').name : id;
  };
  const byCount = <T extends { count: number }>(key: (x: T) => string) => (a: T, b: T) => b.count - a.count || key(a).localeCompare(key(b));

  return {
    period: { from: p.from, to: p.to },
    previous: { from: before.from, to: before.to },
    csat: {
      count,
      average: now_,
      distribution,
      requests: { sent, answered, responseRate: sent > 0 ? round(answered / sent, 3) : null },
      previous: { count: previous.get('')?.count ?? 0, average: then },
      trend: now_ !== null && then !== null ? round(now_ - then) : null,
    },
    byProduct: [...products].map(([product, t]) => ({ product, name: productName(product), count: t.count, average: average(t.total, t.count) })).sort(byCount((x) => x.product)),
    byChannel: [...channels].map(([channel, t]) => ({ channel, count: t.count, average: average(t.total, t.count) })).sort(byCount((x) => x.channel)),
    lowRatings: low.map((r) => ({ ...r, name: names.get(r.customer) ?? null })),
    suggestions: within.flatMap((f) => f.suggestions).sort((a, b) => b.at.localeCompare(a.at)).slice(0, LIST_LIMIT),
    unanswered: [...questions.values()].sort(byCount((x) => x.text)).slice(0, 10),
    orders: { count: buyers.reduce((sum, b) => sum + b.orders, 0), revenue, currency: catalog.data.cooperative.currency, cancelled: within.reduce((sum, f) => sum + f.cancelled, 0) },
    repeatCustomers: { customers: buyers.length, repeat, share: buyers.length > 0 ? round(repeat / buyers.length, 3) : null },
    topCustomers: {
      count: top.length,
      revenue: topRevenue,
      share: revenue > 0 ? round(topRevenue / revenue, 3) : null,
      customers: shownTop.map((b) => ({ customer: b.customer, name: names.get(b.customer) ?? null, spend: b.spend, orders: b.orders })),
    },
    referrals: sumReferrals(within).sort(byCount((x) => `${x.source}:${x.channel}`)),
  };
}

/** The period's referrals, by source and channel, over its days. */
function sumReferrals(days: DayFigures[]): { source: string; channel: string; count: number }[] {
  const sums = new Map<string, { source: string; channel: string; count: number }>();
  for (const r of days.flatMap((f) => f.referrals ?? [])) {
    const key = `${r.source}\u0000${r.channel}`;
    const sum = sums.get(key) ?? { source: r.source, channel: r.channel, count: 0 };
    sum.count += r.count;
    sums.set(key, sum);
  }
  return [...sums.values()];
}

