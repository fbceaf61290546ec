import type { Connection } from 'mongoose';
import { inboundEventModel } from '../../src/db/models/inbound-event';
import { takeLease } from '../../src/db/models/lease';
import { pruneHandledEvents } from '../../src/jobs/inbox-retention';
import { createLogger } from '../../src/logger';
import { dropDatabase, freshDatabase } from '../support/database';

const log = createLogger('silent');
const DAY = 86_400_000;

describe('inbox retention (real database)', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await freshDatabase('retention');
  });
  afterAll(() => dropDatabase(connection));

  it('deletes handled events older than the retention, and keeps recent, failed and pending ones', async () => {
    const now = new Date('2026-06-15T12:00:00Z');
    const at = (days: number) => new Date(now.getTime() - days * DAY);
    const base = { channel: 'messenger', sender: 's', event: '{}', attempts: 1, nextAttemptAt: now, lastError: null };
    await inboundEventModel(connection).create([
      { ...base, _id: 'old-done', receivedAt: at(9), status: 'done', doneAt: at(9) },
      { ...base, _id: 'new-done', receivedAt: at(1), status: 'done', doneAt: at(1) },
      { ...base, _id: 'old-failed', receivedAt: at(30), status: 'failed', doneAt: null },
      { ...base, _id: 'old-pending', receivedAt: at(30), status: 'pending', doneAt: null },
    ]);
    expect(await pruneHandledEvents(connection, log, 'p1', now)).toBe(1);
    expect((await inboundEventModel(connection).find({}, { _id: 1 }).lean()).map((d) => d._id).sort()).toEqual(['new-done', 'old-failed', 'old-pending']);
  });

  it('does nothing while another process runs it', async () => {
    expect(await takeLease(connection, 'job:inbox-retention', 'other-process', 60_000)).toBe(true);
    expect(await pruneHandledEvents(connection, log, 'p1')).toBe(0);
  });
});
