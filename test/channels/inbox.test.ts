import type { Connection } from 'mongoose';
import { Inbox, type ChannelEvent } from '../../src/channels/inbox';
import { inboundEventModel, pendingEventModel } from '../../src/db/models/inbound-event';
import { leaseHolderName, leaseModel, processBeatModel } from '../../src/db/models/lease';
import { createLogger } from '../../src/logger';
import { dropDatabase, freshDatabase } from '../support/database';

const log = createLogger('silent');
const event = (sender: string, n: number): ChannelEvent => ({ id: `${sender}-${n}`, sender, text: `m${n}`, timestamp: n });

describe('Inbox (real database)', () => {
  let connection: Connection;
  beforeEach(async () => {
    connection = await freshDatabase('inbox');
  });
  afterEach(() => dropDatabase(connection));

  it('handles one sender in order across two inboxes sharing the database (as two processes would), never two at once', async () => {
    // Named as processes of two machines: one process's two inboxes would be the same pid, which a restart's successor takes back.
    const a = new Inbox(connection, log, { pollMs: 20, holder: 'host-a:101:aa' });
    const b = new Inbox(connection, log, { pollMs: 20, holder: 'host-b:202:bb' });
    const seen: string[] = [];
    let running = 0;
    let overlap = false;
    const handler = async (e: ChannelEvent) => {
      running += 1;
      if (running > 1) overlap = true;
      await new Promise((r) => setTimeout(r, 5));
      seen.push(e.text);
      running -= 1;
      return true;
    };
    a.handle('test', handler);
    b.handle('test', handler);
    a.start();
    b.start();
    // Webhooks for one customer land on both processes, interleaved.
    for (let n = 1; n <= 10; n += 1) await (n % 2 ? a : b).record('test', [event('c1', n)]);
    for (let i = 0; i < 300 && seen.length < 10; i += 1) await new Promise((r) => setTimeout(r, 10));
    await a.stop();
    await b.stop();
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 1}`));
    expect(overlap).toBe(false);
  });

  it('drops a redelivery, retries a failure with backoff, and keeps what never succeeds as failed', async () => {
    const inbox = new Inbox(connection, log, { maxAttempts: 2 });
    let calls = 0;
    inbox.handle('test', async () => {
      calls += 1;
      throw new Error('database hiccup');
    });
    expect(await inbox.record('test', [event('c2', 1)])).toEqual({ recorded: 1, duplicates: 0 });
    expect(await inbox.record('test', [event('c2', 1)])).toEqual({ recorded: 0, duplicates: 1 });
    await inbox.idle();
    const Event = inboundEventModel(connection);
    expect(await Event.findById('test:c2-1').lean()).toMatchObject({ status: 'pending', attempts: 1, lastError: 'database hiccup' });
    // Make the retry due now, instead of waiting for the backoff.
    await pendingEventModel(connection).updateOne({ _id: 'test:c2-1' }, { $set: { nextAttemptAt: new Date(0) } });
    await inbox.record('test', []);
    await (inbox as unknown as { poll(): Promise<void> }).poll();
    await inbox.idle();
    expect(await Event.findById('test:c2-1').lean()).toMatchObject({ status: 'failed', attempts: 2 });
    expect(calls).toBe(2);
    expect(await pendingEventModel(connection).countDocuments()).toBe(0);
  });

  it('alone on its database, keeps a sender in order from memory, behind an event waiting for its retry', async () => {
    const inbox = new Inbox(connection, log, { alone: true });
    const seen: string[] = [];
    let failOnce = true;
    inbox.handle('test', async (e) => {
      seen.push(e.text);
      if (e.text === 'm1' && failOnce) {
        failOnce = false;
        return false;
      }
      return true;
    });
    await inbox.record('test', [event('c4', 1)]);
    await inbox.idle();
    await inbox.record('test', [event('c4', 2)]);
    await inbox.idle();
    // m2 waits behind m1's retry.
    expect(seen).toEqual(['m1']);
    await pendingEventModel(connection).updateOne({ _id: 'test:c4-1' }, { $set: { nextAttemptAt: new Date(0) } });
    await (inbox as unknown as { poll(): Promise<void> }).poll();
    await inbox.idle();
    expect(seen).toEqual(['m1', 'm1', 'm2']);
    for (let n = 3; n <= 6; n += 1) await inbox.record('test', [event('c4', n)]);
    await inbox.idle();
    expect(seen.slice(3)).toEqual(['m3', 'm4', 'm5', 'm6']);
    expect(await pendingEventModel(connection).countDocuments()).toBe(0);
    expect(await inboundEventModel(connection).countDocuments({ status: 'done' })).toBe(6);
    // The only client takes no sender lease: its memory keeps the order.
    expect(await leaseModel(connection).countDocuments()).toBe(0);
    await inbox.stop();
  });

  it('queues again an event archived but never queued (a crash between the two writes)', async () => {
    const inbox = new Inbox(connection, log);
    const handled: string[] = [];
    inbox.handle('test', async (e) => (handled.push(e.id), true));
    const e = event('c3', 1);
    await inboundEventModel(connection).create({ _id: 'test:c3-1', channel: 'test', sender: 'c3', event: JSON.stringify(e), receivedAt: new Date(Date.now() - 120_000), status: 'pending', attempts: 0, nextAttemptAt: new Date() });
    await (inbox as unknown as { sweep(before: Date, limit: number): Promise<void> }).sweep(new Date(Date.now() - 60_000), 100);
    await (inbox as unknown as { poll(): Promise<void> }).poll();
    await inbox.idle();
    expect(handled).toEqual(['c3-1']);
    expect(await inboundEventModel(connection).findById('test:c3-1').lean()).toMatchObject({ status: 'done' });
  });

  it('queues a stranded event once when polls overlap, and not again while its outcome is being written (alone)', async () => {
    const inbox = new Inbox(connection, log, { alone: true, pollMs: 60_000 });
    const handled: string[] = [];
    inbox.handle('test', async (e) => (handled.push(e.id), true));
    const Event = inboundEventModel(connection);
    const insertOne = Event.collection.insertOne.bind(Event.collection);
    const fail = jest.spyOn(Event.collection, 'insertOne').mockImplementationOnce((async (doc: never) => {
      await insertOne(doc);
      throw new Error('connection reset');
    }) as never);
    await expect(inbox.record('test', [event('c9', 1)])).rejects.toThrow('connection reset');
    fail.mockRestore();
    const poll = () => (inbox as unknown as { poll(): Promise<void> }).poll();
    // Overlapping polls (each waits on the database), then more while the outcome is written in the background.
    await Promise.all([poll(), poll(), poll()]);
    await Promise.all([poll(), poll()]);
    await inbox.idle();
    await inbox.stop();
    expect(handled).toEqual(['c9-1']);
    expect(await Event.findById('test:c9-1').lean()).toMatchObject({ status: 'done' });
  });

  it.each([false, true])('queues on its re-send a webhook answered 500 after its archive write, or by the next poll without one (alone: %s)', async (alone) => {
    const inbox = new Inbox(connection, log, { alone, pollMs: 20 });
    const handled: string[] = [];
    inbox.handle('test', async (e) => (handled.push(e.id), true));
    const Event = inboundEventModel(connection);
    // The archive was written, and then the webhook failed (its queue insert, or the answer): Meta sends it again.
    await Event.create({ _id: 'test:c8-1', channel: 'test', sender: 'c8', event: JSON.stringify(event('c8', 1)), receivedAt: new Date(), status: 'pending', attempts: 0, nextAttemptAt: new Date() });
    expect(await inbox.record('test', [event('c8', 1)])).toEqual({ recorded: 1, duplicates: 0 });
    await inbox.idle();
    expect(handled).toEqual(['c8-1']);
    expect(await inbox.record('test', [event('c8', 1)])).toEqual({ recorded: 0, duplicates: 1 });
    // Without a re-send: the recording fails after the archive insert landed; the next poll queues it.
    const Pending = pendingEventModel(connection);
    const model = alone ? Event : Pending;
    const insertOne = model.collection.insertOne.bind(model.collection);
    const fail = jest.spyOn(model.collection, 'insertOne').mockImplementationOnce((async (doc: never) => {
      if (alone) await insertOne(doc);
      throw new Error('connection reset');
    }) as never);
    await expect(inbox.record('test', [event('c8', 2)])).rejects.toThrow('connection reset');
    fail.mockRestore();
    inbox.start();
    for (let i = 0; i < 200 && handled.length < 2; i += 1) await new Promise((r) => setTimeout(r, 10));
    await inbox.stop();
    expect(handled).toEqual(['c8-1', 'c8-2']);
    expect(await Event.countDocuments({ sender: 'c8', status: 'done' })).toBe(2);
  });

  it("takes over at once the sender leases of a process of this machine that is gone, and another machine's once its heartbeat stopped", async () => {
    const Lease = leaseModel(connection);
    const future = new Date(Date.now() + 30_000);
    // A crashed predecessor here (a pid that runs no more), and one elsewhere whose heartbeat is old.
    // This machine and pid namespace (as this process names itself), a pid that runs no more.
    const here = leaseHolderName().split(':').slice(0, 2).join(':');
    await Lease.create({ _id: 'inbox:test:c9', holder: `${here}:999999999:dead`, expiresAt: future });
    await Lease.create({ _id: 'inbox:test:c10', holder: 'elsewhere:42:gone', expiresAt: future });
    await processBeatModel(connection).create({ _id: 'elsewhere:42:gone', beatAt: new Date(Date.now() - 60_000) });
    await Lease.create({ _id: 'inbox:test:c11', holder: 'elsewhere:43:alive', expiresAt: future });
    await processBeatModel(connection).create({ _id: 'elsewhere:43:alive', beatAt: new Date() });
    const inbox = new Inbox(connection, log);
    const handled: string[] = [];
    inbox.handle('test', async (e) => (handled.push(e.sender), true));
    await inbox.record('test', [event('c9', 1), event('c10', 1), event('c11', 1)]);
    await inbox.idle();
    expect(handled.sort()).toEqual(['c10', 'c9']);
    await inbox.stop();
  });

  it("alone, handles at start what a stop left unhandled, before the same sender's new events", async () => {
    // A stopped process's two events: archived, never handled (alone, they were queued only in its memory).
    const Event = inboundEventModel(connection);
    const receivedAt = new Date(Date.now() - 5000);
    for (const n of [1, 2]) await Event.create({ _id: `test:c5-${n}`, channel: 'test', sender: 'c5', event: JSON.stringify(event('c5', n)), receivedAt, status: 'pending', attempts: 0, nextAttemptAt: receivedAt });
    await Event.create({ _id: 'test:c5-0', channel: 'test', sender: 'c5', event: JSON.stringify(event('c5', 0)), receivedAt, status: 'done', attempts: 1, nextAttemptAt: receivedAt });
    const inbox = new Inbox(connection, log, { alone: true, pollMs: 20 });
    const seen: string[] = [];
    inbox.handle('test', async (e) => (seen.push(e.text), true));
    inbox.start();
    await inbox.record('test', [event('c5', 3)]);
    for (let i = 0; i < 200 && seen.length < 3; i += 1) await new Promise((r) => setTimeout(r, 10));
    await inbox.stop();
    expect(seen).toEqual(['m1', 'm2', 'm3']);
    expect(await Event.countDocuments({ status: 'done' })).toBe(4);
    expect(await pendingEventModel(connection).countDocuments()).toBe(0);
  });

  it('alone, keeps trying to queue what a stop left behind when the database fails at start, and new events wait for it', async () => {
    const Event = inboundEventModel(connection);
    const receivedAt = new Date(Date.now() - 5000);
    await Event.create({ _id: 'test:c6-1', channel: 'test', sender: 'c6', event: JSON.stringify(event('c6', 1)), receivedAt, status: 'pending', attempts: 0, nextAttemptAt: receivedAt });
    const find = jest.spyOn(Event, 'find').mockImplementationOnce(() => {
      throw new Error('database unreachable');
    });
    const inbox = new Inbox(connection, log, { alone: true, pollMs: 20 });
    const seen: string[] = [];
    inbox.handle('test', async (e) => (seen.push(e.text), true));
    inbox.start();
    await inbox.record('test', [event('c6', 2)]);
    for (let i = 0; i < 300 && seen.length < 2; i += 1) await new Promise((r) => setTimeout(r, 10));
    find.mockRestore();
    await inbox.stop();
    expect(seen).toEqual(['m1', 'm2']);
  });

  it('alone, marks again an event whose outcome could not be written, without handling it again', async () => {
    const Event = inboundEventModel(connection);
    // Alone, outcomes are written together in the background.
    const update = jest.spyOn(Event.collection, 'bulkWrite').mockImplementationOnce(() => Promise.reject(new Error('database hiccup')));
    const inbox = new Inbox(connection, log, { alone: true, pollMs: 20 });
    let calls = 0;
    inbox.handle('test', async () => (calls += 1, true));
    inbox.start();
    await inbox.record('test', [event('c7', 1)]);
    for (let i = 0; i < 300 && (await Event.countDocuments({ _id: 'test:c7-1', status: 'done' })) === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    const writes = update.mock.calls.length;
    update.mockRestore();
    await inbox.stop();
    expect(await Event.findById('test:c7-1').lean()).toMatchObject({ status: 'done' });
    // The mark is tried again a moment later; the turn is not run again.
    expect(writes).toBeGreaterThanOrEqual(2);
    expect(calls).toBe(1);
  });

  it("alone, keeps a burst in arrival order even when the later event's insert lands first", async () => {
    const collection = inboundEventModel(connection).collection;
    const insertOne = collection.insertOne.bind(collection);
    let calls = 0;
    const slowFirst = jest.spyOn(collection, 'insertOne').mockImplementation((async (doc: never) => {
      calls += 1;
      if (calls === 1) await new Promise((r) => setTimeout(r, 50));
      return insertOne(doc);
    }) as never);
    const inbox = new Inbox(connection, log, { alone: true });
    const seen: string[] = [];
    inbox.handle('test', async (e) => (seen.push(e.text), true));
    await Promise.all([inbox.record('test', [event('c8', 1)]), inbox.record('test', [event('c8', 2)])]);
    await inbox.idle();
    slowFirst.mockRestore();
    await inbox.stop();
    expect(seen).toEqual(['m1', 'm2']);
  });
});
