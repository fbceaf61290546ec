import path from 'node:path';
import type { Connection, Types } from 'mongoose';
import { Catalog } from '../../src/catalog/catalog';
import { customerModel } from '../../src/db/models/customer';
import { orderModel } from '../../src/db/models/order';
import { ratingModel } from '../../src/db/models/rating';
import { ratingRequestModel } from '../../src/db/models/rating-request';
import { suggestionModel } from '../../src/db/models/suggestion';
import { unansweredModel } from '../../src/db/models/unanswered';
import { createLogger } from '../../src/logger';
import { computeDigest } from '../../src/satisfaction/digest';
import { DigestDays } from '../../src/satisfaction/digest-days';
import { digestDayModel } from '../../src/db/models/digest-day';
import { period } from '../../src/satisfaction/periods';
import { dropDatabase, freshDatabase } from '../support/database';

const TZ = 'Africa/Casablanca'; // UTC+1 in November
const catalog = Catalog.load(path.join(__dirname, '../../flows/catalog.yml'));
const log = createLogger('silent', 'json');
const LATER = new Date('2026-11-30T08:00:00Z');

/**
 * A week whose every figure is known: 2026-11-16 to 2026-11-22 in Casablanca, i.e. from
 * 2026-11-15T23:00Z to 2026-11-22T23:00Z. The data just outside it must not count.
 */
async function seed(connection: Connection) {
  const people: Record<string, Types.ObjectId> = {};
  for (const [key, channel, name] of [
    ['c1', 'web', 'Amina'], ['c2', 'web', 'Brahim'], ['c3', 'messenger', 'Chama'], ['c4', 'whatsapp', 'Driss'], ['c5', 'web', 'Fatima'], ['c6', 'web', 'Ghita'],
    ['A', 'web', 'Aicha'], ['B', 'whatsapp', 'Bilal'], ['C', 'web', 'Camélia'], ['D', 'messenger', 'Dounia'], ['E', 'web', 'Elias'], ['F', 'web', 'Farid'],
  ] as const) {
    people[key] = (await customerModel(connection).create({ channel, externalId: key, name, firstSeenAt: new Date('2026-01-01'), lastSeenAt: new Date('2026-11-20'), tags: [] }))._id;
  }
  const rating = (who: string, score: number, at: string, channel: string, products: string[] = [], comment: string | null = null, request: string | null = null) =>
    ratingModel(connection).create({ customer: people[who], score, comment, channel, products, request, answeredAt: new Date(at) });
  // Three answer a request; the others were given on the customers' own initiative.
  await rating('c1', 5, '2026-11-17T10:00:00Z', 'web', ['amlou'], null, 'r1');
  await rating('c2', 4, '2026-11-18T10:00:00Z', 'web', ['amlou', 'argan-soap'], null, 'r2');
  await rating('c3', 2, '2026-11-19T10:00:00Z', 'messenger', ['thyme-honey'], 'trop cher', 'r3');
  await rating('c4', 1, '2026-11-20T10:00:00Z', 'whatsapp');
  await rating('c5', 3, '2026-11-21T10:00:00Z', 'web');
  await rating('c6', 5, '2026-11-15T23:30:00Z', 'web'); // 00:30 on the 16th in Casablanca: inside
  await rating('c1', 1, '2026-11-22T23:30:00Z', 'web'); // 00:30 on the 23rd: outside
  await rating('c2', 4, '2026-11-10T10:00:00Z', 'web'); // the week before
  await rating('c3', 2, '2026-11-12T10:00:00Z', 'messenger');

  const request = (id: string, sentAt: string, status: 'sent' | 'answered') =>
    ratingRequestModel(connection).create({ _id: id, customer: people.c1, channel: 'web', occasion: 'delivered', order: null, products: [], dueAt: new Date(sentAt), status, reason: null, sentAt: new Date(sentAt), answeredAt: null, createdAt: new Date(sentAt) });
  await request('r1', '2026-11-16T09:00:00Z', 'answered');
  await request('r2', '2026-11-17T09:00:00Z', 'answered');
  await request('r3', '2026-11-18T09:00:00Z', 'answered');
  await request('r4', '2026-11-19T09:00:00Z', 'sent');
  await request('r5', '2026-11-10T09:00:00Z', 'sent');

  const suggestion = (text: string, at: string, product: string | null = null) => suggestionModel(connection).create({ customer: people.c1, channel: 'web', text, product, language: 'fr', at: new Date(at) });
  await suggestion('du miel de caroube', '2026-11-17T12:00:00Z');
  await suggestion('amlou sans miel', '2026-11-20T12:00:00Z', 'amlou');
  await suggestion('hors période', '2026-11-01T12:00:00Z');

  const question = (text: string, at: string) => unansweredModel(connection).create({ customer: people.c1, channel: 'web', text, at: new Date(at) });
  await question('Vous avez du safran ?', '2026-11-17T12:00:00Z');
  await question('Vous avez du safran ?', '2026-11-18T12:00:00Z');
  await question('vous avez du SAFRAN', '2026-11-19T12:00:00Z');
  await question('livrez-vous à Dakhla', '2026-11-19T13:00:00Z');
  await question('hors période', '2026-11-25T12:00:00Z');

  let n = 0;
  const order = (who: string, total: number, at: string, status: 'pending' | 'confirmed' | 'shipped' | 'delivered' | 'cancelled' = 'pending') =>
    orderModel(connection).create({
      _id: `TST-${String((n += 1)).padStart(6, '0')}`,
      request: `r${n}`,
      customer: people[who],
      channel: 'web',
      language: 'fr',
      name: null,
      phone: '+212600000000',
      lines: [{ product: 'amlou', name: 'amlou', quantity: 1, unitPrice: total, total }],
      subtotal: total,
      deliveryFee: 0,
      total,
      currency: 'MAD',
      delivery: { mode: 'pickup', city: '', address: '', zone: 'pickup' },
      payment: 'cod',
      status,
      history: [],
      createdAt: new Date(at),
    });
  await order('B', 80, '2026-10-01T10:00:00Z', 'delivered'); // B ordered before: a repeat customer
  await order('A', 100, '2026-11-16T10:00:00Z');
  await order('A', 300, '2026-11-18T10:00:00Z', 'delivered');
  await order('B', 200, '2026-11-17T10:00:00Z', 'confirmed');
  await order('C', 50, '2026-11-19T10:00:00Z');
  await order('D', 150, '2026-11-20T10:00:00Z', 'shipped');
  await order('E', 100, '2026-11-21T10:00:00Z');
  await order('F', 999, '2026-11-21T11:00:00Z', 'cancelled');
  await order('C', 500, '2026-11-23T10:00:00Z'); // after the period
  return people;
}

describe('the digest (real database)', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await freshDatabase('digest');
  });
  afterAll(() => dropDatabase(connection));

  it('gives every figure of a seeded week exactly', async () => {
    const people = await seed(connection);
    const days = new DigestDays(connection, TZ, log);
    const digest = await computeDigest(connection, catalog, days, period('2026-11-16', '2026-11-22', TZ), TZ, LATER);
    expect(digest.period).toEqual({ from: '2026-11-16', to: '2026-11-22' });
    expect(digest.previous).toEqual({ from: '2026-11-09', to: '2026-11-15' });
    expect(digest.csat).toEqual({
      count: 6,
      average: 3.33,
      distribution: { '1': 1, '2': 1, '3': 1, '4': 1, '5': 2 },
      requests: { sent: 4, answered: 3, responseRate: 0.75 },
      previous: { count: 2, average: 3 },
      trend: 0.33,
    });
    expect(digest.byChannel).toEqual([
      { channel: 'web', count: 4, average: 4.25 },
      { channel: 'messenger', count: 1, average: 2 },
      { channel: 'whatsapp', count: 1, average: 1 },
    ]);
    expect(digest.byProduct).toEqual([
      { product: 'amlou', name: 'amlou', count: 2, average: 4.5 },
      { product: 'argan-soap', name: "savon à l'argan", count: 1, average: 4 },
      { product: 'thyme-honey', name: 'miel de thym', count: 1, average: 2 },
    ]);
    expect(digest.lowRatings.map((r) => [r.score, r.comment, r.name, r.channel])).toEqual([
      [1, null, 'Driss', 'whatsapp'],
      [2, 'trop cher', 'Chama', 'messenger'],
    ]);
    expect(digest.suggestions.map((s) => [s.text, s.product])).toEqual([
      ['amlou sans miel', 'amlou'],
      ['du miel de caroube', null],
    ]);
    expect(digest.unanswered).toEqual([
      { text: expect.stringMatching(/safran/i), count: 3 },
      { text: 'livrez-vous à Dakhla', count: 1 },
    ]);
    expect(digest.orders).toEqual({ count: 6, revenue: 900, currency: 'MAD', cancelled: 1 });
    expect(digest.repeatCustomers).toEqual({ customers: 5, repeat: 2, share: 0.4 });
    expect(digest.topCustomers).toEqual({ count: 1, revenue: 400, share: 0.444, customers: [{ customer: String(people.A), name: 'Aicha', spend: 400, orders: 2 }] });

    // The closed days are kept: the same digest again reads 14 documents by _id and says the same.
    expect(await digestDayModel(connection).countDocuments({})).toBe(14);
    expect(await computeDigest(connection, catalog, new DigestDays(connection, TZ, log), period('2026-11-16', '2026-11-22', TZ), TZ, LATER)).toEqual(digest);
    // A cancelled order makes its day be summed again.
    const { orderModel: orders } = await import('../../src/db/models/order');
    const d = await orders(connection).findOneAndUpdate({ customer: people.D }, { $set: { status: 'cancelled' } }, { returnDocument: 'after' }).lean();
    await days.invalidate(d!.createdAt);
    const after = await computeDigest(connection, catalog, days, period('2026-11-16', '2026-11-22', TZ), TZ, LATER);
    expect(after.orders).toEqual({ count: 5, revenue: 750, currency: 'MAD', cancelled: 2 });
  });

  it('says "none" rather than dividing by zero for an empty period', async () => {
    const digest = await computeDigest(connection, catalog, new DigestDays(connection, TZ, log), period('2025-01-01', '2025-01-07', TZ), TZ, LATER);
    expect(digest.csat).toMatchObject({ count: 0, average: null, trend: null, requests: { sent: 0, answered: 0, responseRate: null } });
    expect(digest.repeatCustomers.share).toBeNull();
    expect(digest.topCustomers).toEqual({ count: 0, revenue: 0, share: null, customers: [] });
  });
});
