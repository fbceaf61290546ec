import type { Connection } from 'mongoose';
import { buildIndexes, isFerretdb } from '../../src/db/connection';
import { customerModel } from '../../src/db/models/customer';
import { messageModel } from '../../src/db/models/message';
import { touchCustomer } from '../../src/history/customers';
import { listMessages, recentMessages, recordMessage } from '../../src/history/messages';
import { dropDatabase, freshDatabase } from '../support/database';

describe('customers and messages (real database)', () => {
  let connection: Connection;

  beforeAll(async () => {
    connection = await freshDatabase('history');
  });
  afterAll(() => dropDatabase(connection));

  it('creates a customer once per channel identity, even for simultaneous first messages', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => touchCustomer(connection, 'web', 'same-visitor')));
    expect(new Set(results.map((c) => String(c._id))).size).toBe(1);
    expect(await customerModel(connection).countDocuments({ externalId: 'same-visitor' })).toBe(1);
  });

  it('finds a customer stored without an identity entry (an earlier version) instead of creating a second one', async () => {
    const old = await customerModel(connection).create({ channel: 'messenger', externalId: 'psid-old', name: 'Aicha', firstSeenAt: new Date('2025-05-01'), lastSeenAt: new Date('2025-05-01') });
    const found = await touchCustomer(connection, 'messenger', 'psid-old', new Date('2026-01-02T10:00:00Z'));
    expect(String(found._id)).toBe(String(old._id));
    expect(found).toMatchObject({ name: 'Aicha', lastSeenAt: new Date('2026-01-02T10:00:00Z') });
    expect(await customerModel(connection).countDocuments({ externalId: 'psid-old' })).toBe(1);
  });

  it('stores a first-time customer with the schema defaults', async () => {
    const fresh = await touchCustomer(connection, 'whatsapp', '212611111111', new Date('2026-01-03T10:00:00Z'));
    const stored = await customerModel(connection).findById(fresh._id).lean();
    expect(stored).toMatchObject({ channel: 'whatsapp', externalId: '212611111111', tags: [], languageChosen: false, ratingOptOut: false, fallbacks: 0, lastRatingRequestAt: null, firstSeenAt: new Date('2026-01-03T10:00:00Z') });
    expect(fresh).toEqual(stored);
  });

  it('keeps the first-seen time and moves the last-seen time', async () => {
    const first = await touchCustomer(connection, 'web', 'v2', new Date('2026-01-01T10:00:00Z'));
    const again = await touchCustomer(connection, 'web', 'v2', new Date('2026-01-02T10:00:00Z'));
    expect(again.firstSeenAt).toEqual(first.firstSeenAt);
    expect(again.lastSeenAt).toEqual(new Date('2026-01-02T10:00:00Z'));
  });

  it('keeps one identity per channel apart from the same id on another channel', async () => {
    const web = await touchCustomer(connection, 'web', '212600000000');
    const wa = await touchCustomer(connection, 'whatsapp', '212600000000');
    expect(String(web._id)).not.toBe(String(wa._id));
  });

  it('lists messages oldest first, in insertion order within one millisecond, paginated', async () => {
    const customer = await touchCustomer(connection, 'web', 'v3');
    const at = new Date('2026-03-01T12:00:00Z');
    for (const text of ['one', 'two', 'three', 'four']) await recordMessage(connection, { customer: customer._id, channel: 'web', direction: 'in', text, at });
    const page1 = await listMessages(connection, customer._id, { limit: 3, offset: 0 });
    const page2 = await listMessages(connection, customer._id, { limit: 3, offset: 3 });
    expect(page1.total).toBe(4);
    expect(page1.items.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(page2.items.map((m) => m.text)).toEqual(['four']);
    expect(page1.items[0]).toMatchObject({ direction: 'in', channel: 'web', language: null, intent: null, product: null, flow: null, step: null });
    expect((await recentMessages(connection, customer._id, 2)).map((m) => m.text)).toEqual(['three', 'four']);
  });

  it('has the unique indexes everywhere, and the others where the engine uses them (not FerretDB, where they only slow writes)', async () => {
    const customerIndexes = await customerModel(connection).collection.indexes();
    expect(customerIndexes.find((i) => i.key.channel === 1 && i.key.externalId === 1)?.unique).toBe(true);
    const ferretdb = await isFerretdb(connection);
    const Message = messageModel(connection);
    expect(Message.schema.indexes().some(([key]) => key.customer === 1 && key.at === 1)).toBe(true);
    const historyIndex = async () => (await Message.collection.indexes()).some((i) => i.key.customer === 1 && i.key.at === 1);
    expect(await historyIndex()).toBe(!ferretdb);
    // An index an earlier version built goes on FerretDB, stays elsewhere.
    await Message.collection.createIndex({ customer: 1, at: 1, _id: 1 });
    await buildIndexes(Message, ferretdb);
    expect(await historyIndex()).toBe(!ferretdb);
    expect((await customerModel(connection).collection.indexes()).some((i) => i.unique)).toBe(true);
  });
});
