import type { Connection } from 'mongoose';
import { dialogStateModel } from '../../src/db/models/dialog-state';
import { ratingModel } from '../../src/db/models/rating';
import { suggestionModel } from '../../src/db/models/suggestion';
import { unansweredModel } from '../../src/db/models/unanswered';
import { touchCustomer } from '../../src/history/customers';
import { eraseCustomer } from '../../src/privacy/customer-data';
import { dropDatabase, freshDatabase } from '../support/database';

describe('eraseCustomer (real database)', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await freshDatabase('erase');
  });
  afterAll(() => dropDatabase(connection));

  it("forgets the digest days that quote the customer, and only this customer's saved dialogs", async () => {
    const gone = await touchCustomer(connection, 'messenger', '1234');
    const kept = await touchCustomer(connection, 'messenger', '912345');
    const day1 = new Date('2026-11-02T10:00:00Z');
    const day2 = new Date('2026-11-05T10:00:00Z');
    const day3 = new Date('2026-11-07T10:00:00Z');
    await ratingModel(connection).create({ customer: gone._id, score: 1, channel: 'messenger', comment: 'trop cher', answeredAt: day1 });
    await ratingModel(connection).create({ customer: gone._id, score: 5, channel: 'messenger', answeredAt: new Date('2026-11-03T10:00:00Z') });
    await suggestionModel(connection).create({ customer: gone._id, channel: 'messenger', text: 'du miel de thym', at: day2 });
    await unansweredModel(connection).create({ customer: gone._id, channel: 'messenger', text: 'vous livrez a Fes ?', at: day3 });
    await suggestionModel(connection).create({ customer: kept._id, channel: 'messenger', text: 'autre', at: new Date('2026-11-09T10:00:00Z') });
    const State = dialogStateModel(connection);
    for (const [key, item] of [
      ['messenger/conversations/personal-1234-false-1234/', '{"name":"Nadia"}'],
      ['messenger/conversations/personal-912345-false-912345/', '{"name":"Omar"}'],
    ]) await State.create({ _id: `${key}#1`, key, v: 1, item, updatedAt: new Date() });

    const forgotten: Date[] = [];
    await eraseCustomer(connection, gone._id, async (instant) => void forgotten.push(instant));

    expect(forgotten.map((d) => d.toISOString()).sort()).toEqual([day1, day2, day3].map((d) => d.toISOString()));
    expect((await State.find().lean()).map((d) => d.key)).toEqual(['messenger/conversations/personal-912345-false-912345/']);
  });
});
