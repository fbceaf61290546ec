import type { Connection } from 'mongoose';
import { forgetConversations, MongoStorage } from '../../src/db/mongo-storage';
import { dialogStateModel } from '../../src/db/models/dialog-state';
import { ETagConflictError } from '../../src/errors';
import { dropDatabase, freshDatabase } from '../support/database';

describe('MongoStorage (real database)', () => {
  let connection: Connection;
  let storage: MongoStorage;

  beforeAll(async () => {
    connection = await freshDatabase('storage');
    storage = new MongoStorage(connection);
  });
  afterAll(() => dropDatabase(connection));

  it('reads back what it wrote, with a new eTag, and leaves missing keys out', async () => {
    await storage.write({ a: { count: 1, nested: { 'dotted.key': true, $dollar: 1 } } });
    const items = await storage.read(['a', 'missing']);
    expect(Object.keys(items)).toEqual(['a']);
    expect(items.a).toMatchObject({ count: 1, nested: { 'dotted.key': true, $dollar: 1 } });
    expect(typeof items.a!.eTag).toBe('string');
  });

  it('writes when the eTag is the stored one, and changes the eTag', async () => {
    await storage.write({ b: { v: 1 } });
    const { b } = await storage.read(['b']);
    await storage.write({ b: { ...b, v: 2 } });
    const after = await storage.read(['b']);
    expect(after.b).toMatchObject({ v: 2 });
    expect(after.b!.eTag).not.toBe(b!.eTag);
  });

  it('refuses a write with a stale eTag and keeps the newer item', async () => {
    await storage.write({ c: { v: 1 } });
    const { c: first } = await storage.read(['c']);
    await storage.write({ c: { ...first, v: 2 } });
    await expect(storage.write({ c: { ...first, v: 3 } })).rejects.toBeInstanceOf(ETagConflictError);
    expect((await storage.read(['c'])).c).toMatchObject({ v: 2 });
  });

  it('lets exactly one of several concurrent writers with the same eTag win, every time', async () => {
    for (let round = 0; round < 20; round += 1) {
      await storage.write({ d: { round, v: 'start' } });
      const { d } = await storage.read(['d']);
      const results = await Promise.allSettled(['x', 'y', 'z', 'w'].map((v) => storage.write({ d: { ...d, v } })));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ETagConflictError);
      // The stored item is the winner's, and its eTag moved on.
      const stored = (await storage.read(['d'])).d!;
      expect(stored.eTag).not.toBe(d!.eTag);
      expect(['x', 'y', 'z', 'w']).toContain(stored.v);
    }
  });

  it('refuses a writer whose eTag is several versions old', async () => {
    await storage.write({ h: { v: 0 } });
    const { h: old } = await storage.read(['h']);
    for (let i = 1; i <= 4; i += 1) await storage.write({ h: { v: i } });
    await expect(storage.write({ h: { ...old, v: 'stale' } })).rejects.toMatchObject({ code: 'TAAWUN_ETAG_CONFLICT' });
    expect((await storage.read(['h'])).h).toMatchObject({ v: 4 });
  });

  it('refuses a writer that read the item before it was deleted and written again', async () => {
    await storage.write({ i: { v: 'before' } });
    const { i: old } = await storage.read(['i']);
    await storage.delete(['i']);
    await storage.write({ i: { v: 'after' } });
    await expect(storage.write({ i: { ...old, v: 'stale' } })).rejects.toBeInstanceOf(ETagConflictError);
    expect((await storage.read(['i'])).i).toMatchObject({ v: 'after' });
  });

  it('keeps every unconditional write of concurrent writers, the last one readable', async () => {
    await Promise.all(Array.from({ length: 6 }, (_, n) => storage.write({ j: { n } })));
    const { j } = await storage.read(['j']);
    expect(j).toHaveProperty('n');
    await storage.write({ j: { ...j, n: 'next' } });
    expect((await storage.read(['j'])).j).toMatchObject({ n: 'next' });
  });

  it('overwrites unconditionally with "*" or no eTag, as botbuilder state does', async () => {
    await storage.write({ e: { v: 1 } });
    await storage.write({ e: { v: 2, eTag: '*' } });
    await storage.write({ e: { v: 3 } });
    expect((await storage.read(['e'])).e).toMatchObject({ v: 3 });
  });

  it('creates an item written with an eTag that was never stored', async () => {
    await storage.write({ f: { v: 1, eTag: 'from-elsewhere' } });
    expect((await storage.read(['f'])).f).toMatchObject({ v: 1 });
  });

  it('reads what another process wrote after this one last saw the item', async () => {
    const other = new MongoStorage(connection);
    await storage.write({ k: { v: 'mine' } });
    expect((await storage.read(['k'])).k).toMatchObject({ v: 'mine' });
    await other.write({ k: { v: 'theirs 1' } });
    await other.write({ k: { v: 'theirs 2' } });
    expect((await storage.read(['k'])).k).toMatchObject({ v: 'theirs 2' });
  });

  it('alone, reads its own latest version from memory, a restarted one with one lookup, and forgets a conversation erased', async () => {
    const alone = new MongoStorage(connection, { alone: true });
    const key = 'ch/conversations/id-42/';
    await alone.write({ [key]: { v: 1 } });
    await alone.write({ [key]: { v: 2 } });
    const model = dialogStateModel(connection);
    const findOne = model.collection.findOne.bind(model.collection) as (...args: unknown[]) => Promise<unknown>;
    const finds: string[] = [];
    const spy = jest.spyOn(model.collection, 'findOne').mockImplementation(((filter: { _id: string }, ...rest: unknown[]) => (finds.push(filter._id), findOne(filter, ...rest))) as never);
    expect((await alone.read([key]))[key]).toMatchObject({ v: 2 });
    expect(finds).toEqual([]);
    // A process started after it knows nothing yet: it looks the latest up once, then keeps it.
    const restarted = new MongoStorage(connection, { alone: true });
    expect((await restarted.read([key]))[key]).toMatchObject({ v: 2 });
    expect((await restarted.read([key]))[key]).toMatchObject({ v: 2 });
    spy.mockRestore();
    // Its first read asks whether the conversation has versions (then finds the latest); its second, none.
    expect(finds).toEqual([`${key}#1`]);
    // The erasure deletes every version (src/privacy/customer-data.ts) and says so: nothing is read back.
    await dialogStateModel(connection).deleteMany({ key });
    forgetConversations(connection, (k) => k === key);
    expect(await alone.read([key])).toEqual({});
    expect(await restarted.read([key])).toEqual({});
  });

  it('keeps no old version for good: only the first, the previous and the latest stay', async () => {
    for (let i = 1; i <= 40; i += 1) await storage.write({ m: { i } });
    const model = dialogStateModel(connection);
    // The cleaning runs off the write's path.
    for (let i = 0; i < 100 && (await model.countDocuments({ key: 'm' })) > 3; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect((await model.find({ key: 'm' }).lean()).map((d) => d.v).sort((a, b) => a - b)).toEqual([1, 39, 40]);
  });

  it("commits a turn once with its event, and knows the event applied on the next read, even when the commit's answer was lost", async () => {
    const alone = new MongoStorage(connection, { alone: true });
    const key = 'ch/conversations/turns-1/';
    await alone.read([key]);
    const v1 = await alone.commit(key, { step: 'name' }, alone.versionOf(key), 'messenger:mid.1', '{"replies":[]}');
    expect(alone.appliedAt(key, 'messenger:mid.1')).toBe(v1);
    await expect(alone.commit(key, { step: 'other' }, 0, 'messenger:mid.2', '{}')).rejects.toMatchObject({ code: 'TAAWUN_TURN_CONFLICT' });
    // The insert lands, but its answer does not come back (the database was killed at that moment).
    const collection = dialogStateModel(connection).collection;
    const insertOne = collection.insertOne.bind(collection);
    const lost = jest.spyOn(collection, 'insertOne').mockImplementationOnce((async (doc: never) => {
      await insertOne(doc);
      throw new Error('connection reset');
    }) as never);
    await alone.read([key]);
    await expect(alone.commit(key, { step: 'phone' }, alone.versionOf(key), 'messenger:mid.3', '{"replies":[]}')).rejects.toThrow('connection reset');
    lost.mockRestore();
    // The retry's read finds the version it wrote: the event is known, not applied again.
    expect((await alone.read([key]))[key]).toMatchObject({ step: 'phone' });
    expect(alone.appliedAt(key, 'messenger:mid.3')).toBe(v1 + 1);
    expect(await alone.turnAt(key, v1 + 1)).toEqual({ journal: '{"replies":[]}', sent: 0 });
  });

  it('deletes, and deleting a missing key is not an error', async () => {
    await storage.write({ g: { v: 1 } });
    await storage.delete(['g', 'never']);
    expect(await storage.read(['g'])).toEqual({});
  });
});
