import type { Connection } from 'mongoose';
import { customerModel } from '../../src/db/models/customer';
import { ratingQueueModel } from '../../src/db/models/rating-queue';
import { ratingRequestModel } from '../../src/db/models/rating-request';
import { createLogger } from '../../src/logger';
import { RatingScheduler } from '../../src/satisfaction/rating-scheduler';
import { dropDatabase, freshDatabase } from '../support/database';

const log = createLogger('silent', 'json');
const HOUR = 3_600_000;
const settings = { afterDeliveryHours: 2, afterAnswerMinutes: 30, cooldownDays: 30 };

describe('rating requests (real database)', () => {
  let connection: Connection;
  beforeEach(async () => {
    connection = await freshDatabase('ratingreq');
  });
  afterEach(() => dropDatabase(connection));

  async function customer(channel: string, lastSeenHoursAgo: number) {
    const now = Date.now();
    return customerModel(connection).create({ channel, externalId: `${channel}-${Math.random()}`, firstSeenAt: new Date(now - 100 * HOUR), lastSeenAt: new Date(now - lastSeenHoursAgo * HOUR), tags: [] });
  }

  const order = (id: string, c: { _id: never; channel: string }) => ({ _id: id, customer: c._id, channel: c.channel, lines: [{ product: 'amlou' }] }) as never;

  it('two schedulers over one database send a due request once, and a restart loses none', async () => {
    const asked: string[] = [];
    const ask = async (_c: unknown, r: { _id: string }) => void asked.push(r._id);
    const c = await customer('web', 10);
    // Scheduled by one process that then stops...
    await new RatingScheduler(connection, settings, ask, 'a', log).delivered(order('TIF-000001', c as never), new Date(Date.now() - 5 * HOUR));
    // ...and sent by the next ones, whichever takes the lease.
    const [one, two] = [new RatingScheduler(connection, settings, ask, 'b', log), new RatingScheduler(connection, settings, ask, 'c', log)];
    await Promise.all([one.runDue(), two.runDue(), one.runDue()]);
    expect(asked).toEqual([`${String(c._id)}:delivered:TIF-000001`]);
    expect(await ratingRequestModel(connection).findById(asked[0]).lean()).toMatchObject({ status: 'sent' });
  });

  it('finds a request left out of the queue (a stop between its two inserts) in its first pass, and sends it', async () => {
    const asked: string[] = [];
    const c = await customer('web', 10);
    const _id = `${String(c._id)}:delivered:TIF-000009`;
    const hoursAgo = (h: number) => new Date(Date.now() - h * HOUR);
    await ratingRequestModel(connection).create({ _id, customer: c._id, channel: 'web', occasion: 'delivered', order: 'TIF-000009', products: [], dueAt: hoursAgo(3), status: 'due', reason: null, sentAt: null, answeredAt: null, createdAt: hoursAgo(5) });
    await new RatingScheduler(connection, settings, async (_c, r) => void asked.push(r._id), 'a', log).runDue();
    expect(asked).toEqual([_id]);
    expect(await ratingQueueModel(connection).countDocuments({})).toBe(0);
  });

  it('skips a request outside the channel window, and waits while the customer is talking', async () => {
    const asked: string[] = [];
    const scheduler = new RatingScheduler(connection, settings, async (_c, r) => void asked.push(r._id), 'a', log);
    const away = await customer('messenger', 30);
    const talking = await customer('whatsapp', 0);
    await scheduler.delivered(order('TIF-000002', away as never), new Date(Date.now() - 5 * HOUR));
    await scheduler.delivered(order('TIF-000003', talking as never), new Date(Date.now() - 5 * HOUR));
    const pass = await scheduler.runDue();
    expect(pass).toMatchObject({ sent: 0, postponed: 1, skipped: { window: 1 } });
    expect(asked).toEqual([]);
    expect(await ratingRequestModel(connection).findById(`${String(talking._id)}:delivered:TIF-000003`).lean()).toMatchObject({ status: 'due' });
  });

  it('waits while a person of the cooperative has the conversation, until the handoff ends', async () => {
    const asked: string[] = [];
    const scheduler = new RatingScheduler(connection, settings, async (_c, r) => void asked.push(r._id), 'a', log);
    const c = await customer('web', 10);
    const until = new Date(Date.now() + 5 * HOUR);
    await customerModel(connection).updateOne({ _id: c._id }, { $set: { handoff: { since: new Date(), until, reason: 'human' } } });
    await scheduler.delivered(order('TIF-000004', c as never), new Date(Date.now() - 5 * HOUR));
    expect(await scheduler.runDue()).toMatchObject({ sent: 0, postponed: 1 });
    expect(asked).toEqual([]);
    expect(await ratingRequestModel(connection).findById(`${String(c._id)}:delivered:TIF-000004`).lean()).toMatchObject({ status: 'due', dueAt: until });
  });

  it('schedules each occasion once, and nothing when the occasion is turned off', async () => {
    const c = await customer('web', 1);
    const scheduler = new RatingScheduler(connection, settings, async () => undefined, 'a', log);
    await scheduler.answered(c._id, 'web', 'amlou');
    await scheduler.answered(c._id, 'web', 'thyme-honey');
    expect(await ratingRequestModel(connection).countDocuments({})).toBe(1);
    const off = new RatingScheduler(connection, { ...settings, afterDeliveryHours: undefined }, async () => undefined, 'a', log);
    await off.delivered(order('TIF-000004', c as never));
    expect(await ratingRequestModel(connection).countDocuments({})).toBe(1);
  });
});
