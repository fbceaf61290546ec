/**
 * `npm run bench:digest`: seeds 100,000 ratings, 1,000,000 messages and 50,000 orders over
 * a year on the real database (the embedded FerretDB, or MONGODB_URI), sums the closed days
 * as the nightly job does, then times the digest of a week, a month and a year. Target: < 3 s. Prints the machine, the workload and
 * the figures; `--ratings N --messages N --orders N` change the workload.
 */
process.env.DOTENV_CONFIG_QUIET ??= 'true';
import path from 'node:path';
import mongoose, { Types } from 'mongoose';
import { Catalog } from '../src/catalog/catalog';
import { loadConfig } from '../src/config';
import { connectDatabase, ensureIndexes } from '../src/db/connection';
import { computeDigest } from '../src/satisfaction/digest';
import { DigestDays } from '../src/satisfaction/digest-days';
import { createLogger } from '../src/logger';
import { addDays, dayOf, daysOf, period } from '../src/satisfaction/periods';
import { benchDatabase, numberArg, stopBenchDatabases } from './bench-support';

const RATINGS = numberArg('ratings', 100_000);
const MESSAGES = numberArg('messages', 1_000_000);
const ORDERS = numberArg('orders', 50_000);
const CUSTOMERS = 20_000;
const TZ = 'Africa/Casablanca';
const YEAR_MS = 365 * 86_400_000;
const BATCH = 5_000;

/** Inserts `total` documents made by `make`, in batches, printing progress on one line. */
async function seed(name: string, collection: mongoose.mongo.Collection, total: number, make: (i: number) => Record<string, unknown>): Promise<void> {
  const started = Date.now();
  for (let done = 0; done < total; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, total - done) }, (_, j) => make(done + j));
    await collection.insertMany(batch, { ordered: false });
    process.stderr.write(`\r  seeding ${name}: ${Math.min(done + BATCH, total).toLocaleString('en')} / ${total.toLocaleString('en')}`);
  }
  process.stderr.write(`\r  seeded ${name}: ${total.toLocaleString('en')} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

async function main(): Promise<void> {
  const database = await benchDatabase('bench-digest');
  console.log(database.machine);
  console.log(`workload: ${RATINGS.toLocaleString('en')} ratings, ${MESSAGES.toLocaleString('en')} messages, ${ORDERS.toLocaleString('en')} orders, ${CUSTOMERS.toLocaleString('en')} customers over the past year\n`);
  const connection = await connectDatabase(database.uri(`bench_digest_${process.pid}`));
  try {
    await ensureIndexes(connection);
    const catalog = Catalog.load(path.join(loadConfig({}).flowsDir, 'catalog.yml'));
    const products = catalog.products.map((p) => p.id);
    const customers = Array.from({ length: CUSTOMERS }, () => new Types.ObjectId());
    const now = Date.now();
    // A fixed pseudo-random sequence, so that two runs measure the same data.
    let state = 42;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    const when = () => new Date(now - random() * YEAR_MS);
    const channels = ['web', 'messenger', 'whatsapp', 'whatsapp-web'];
    const db = connection.db!;

    await seed('ratings', db.collection('ratings'), RATINGS, () => {
      const score = 1 + Math.floor(random() * 5);
      return { customer: pick(customers), score, comment: score <= 2 && random() < 0.5 ? 'pas content' : null, channel: pick(channels), products: [pick(products)], order: null, request: null, askedAt: null, answeredAt: when() };
    });
    await seed('messages', db.collection('messages'), MESSAGES, (i) => ({ customer: pick(customers), channel: pick(channels), direction: i % 2 ? 'out' : 'in', text: 'bch7al amlou?', at: when() }));
    await seed('orders', db.collection('orders'), ORDERS, (i) => {
      const total = 50 + Math.floor(random() * 500);
      return {
        _id: `BEN-${String(i + 1).padStart(6, '0')}`,
        request: `bench-${i}`,
        customer: pick(customers),
        channel: pick(channels),
        language: 'fr',
        name: null,
        phone: '+212600000000',
        lines: [{ product: pick(products), name: 'x', quantity: 1, unitPrice: total, total }],
        subtotal: total,
        deliveryFee: 0,
        total,
        currency: 'MAD',
        delivery: { mode: 'pickup', city: '', address: '', zone: 'pickup' },
        payment: 'cod',
        status: random() < 0.1 ? 'cancelled' : 'delivered',
        history: [],
        createdAt: when(),
      };
    });
    await seed('rating requests', db.collection('rating_requests'), RATINGS, (i) => ({ _id: `bench-${i}`, customer: pick(customers), channel: 'web', occasion: 'delivered', order: null, products: [], dueAt: when(), status: random() < 0.7 ? 'answered' : 'sent', reason: null, sentAt: when(), answeredAt: null, createdAt: new Date(now - YEAR_MS) }));

    const today = dayOf(new Date(now), TZ);
    // A week whose days nobody summed yet (no nightly job ran): the slow case, once.
    const digestDays = new DigestDays(connection, TZ, createLogger('silent', 'json'));
    const coldWeek = period(addDays(today, -7), addDays(today, -1), TZ);
    const cold = Date.now();
    await computeDigest(connection, catalog, digestDays, coldWeek, TZ, new Date(now));
    console.log(`digest of a week whose 14 days (with the week before) were never summed: ${((Date.now() - cold) / 1000).toFixed(2)} s, once`);
    // What the nightly job does once a day, here for the whole seeded year at once.
    const summing = Date.now();
    await digestDays.figures(daysOf(addDays(today, -731), addDays(today, -1)), new Date(now));
    console.log(`summing the closed days (the nightly job; here 2 years of days at once): ${((Date.now() - summing) / 1000).toFixed(1)} s\n`);
    for (const [name, days] of [
      ['a week', 7],
      ['a month', 30],
      ['a year', 365],
    ] as const) {
      const p = period(addDays(today, -days), addDays(today, -1), TZ);
      const times: number[] = [];
      let digest: Awaited<ReturnType<typeof computeDigest>> | undefined;
      for (let run = 0; run < 3; run += 1) {
        const started = process.hrtime.bigint();
        digest = await computeDigest(connection, catalog, digestDays, p, TZ, new Date(now));
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      times.sort((a, b) => a - b);
      console.log(
        `digest of ${name.padEnd(8)} (${p.from} to ${p.to}): median ${(times[1]! / 1000).toFixed(2)} s, worst ${(times[2]! / 1000).toFixed(2)} s over 3 runs — ${digest!.csat.count.toLocaleString('en')} ratings, ${digest!.orders.count.toLocaleString('en')} orders (target < 3 s)`,
      );
    }
    console.log(`\npeak RSS: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
    await database.stop();
  }
}

main().then(
  () => process.exit(0),
  async (err: Error) => {
    console.error(err);
    await stopBenchDatabases();
    process.exit(1);
  },
);
