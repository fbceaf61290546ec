import { Types, type Connection } from 'mongoose';
import { takeLease } from '../../src/db/models/lease';
import { messageModel } from '../../src/db/models/message';
import { messageRefModel } from '../../src/db/models/message-ref';
import { keepMessageRefs } from '../../src/history/message-refs';
import { pruneOldMessages } from '../../src/jobs/message-retention';
import { createLogger } from '../../src/logger';
import { dropDatabase, freshDatabase } from '../support/database';

const log = createLogger('silent');
const DAY = 86_400_000;

describe('message retention (real database)', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await freshDatabase('msgretention');
  });
  afterAll(() => dropDatabase(connection));

  it('deletes messages older than the setting, keeps the rest, and lets one process do it at a time', async () => {
    const now = new Date('2026-06-15T12:00:00Z');
    const customer = new Types.ObjectId();
    const message = (daysAgo: number, text: string) => ({ customer, channel: 'web', direction: 'in' as const, text, at: new Date(now.getTime() - daysAgo * DAY) });
    for (const m of [message(200, 'old'), message(91, 'just too old'), message(89, 'kept'), message(1, 'new')]) {
      const doc = await messageModel(connection).create({ ...m, externalId: `wamid.${m.text}` });
      await keepMessageRefs(connection, [doc]);
    }
    expect(await takeLease(connection, 'job:message-retention', 'other', 60_000)).toBe(true);
    expect(await pruneOldMessages(connection, 90, 'me', log, now)).toBe(0);
    await connection.collection('leases').deleteOne({ _id: 'job:message-retention' as never });
    expect(await pruneOldMessages(connection, 90, 'me', log, now)).toBe(2);
    expect((await messageModel(connection).find({}, { text: 1 }).lean()).map((m) => m.text).sort()).toEqual(['kept', 'new']);
    // Their platform ids go with them.
    expect((await messageRefModel(connection).find({}).lean()).map((r) => r._id).sort()).toEqual(['web:wamid.kept', 'web:wamid.new']);
  });
});
