import type { Connection } from 'mongoose';
import { GroupedInserts } from '../../src/db/grouped-insert';
import { isDuplicateKey } from '../../src/db/duplicate-key';
import { dropDatabase, freshDatabase } from '../support/database';

describe('grouped inserts (real database)', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await freshDatabase('grouped');
  });
  afterAll(() => dropDatabase(connection));

  it('sends the inserts asked for while one runs in one command, each caller told of its own documents', async () => {
    const collection = connection.collection('g1');
    await collection.insertOne({ _id: 'taken' } as never);
    const group = new GroupedInserts(collection);
    const many = jest.spyOn(collection, 'insertMany');
    const one = jest.spyOn(collection, 'insertOne');
    const results = await Promise.allSettled([
      group.insert([{ _id: 'a' }]),
      group.insert([{ _id: 'b' }, { _id: 'taken' }, { _id: 'c' }]),
      group.insert([{ _id: 'd' }]),
      group.insert([{ _id: 'e' }, { _id: 'f' }]),
    ]);
    const commands = one.mock.calls.length + many.mock.calls.length;
    many.mockRestore();
    one.mockRestore();
    // The first goes at once; the three asked for meanwhile go together.
    expect(commands).toBe(2);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const refused = (results[1] as PromiseRejectedResult).reason;
    expect(isDuplicateKey(refused)).toBe(true);
    expect(refused.indexes).toEqual([1]);
    expect((await collection.find({}, { sort: { _id: 1 } }).toArray()).map((d) => d._id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'taken']);
  });

  it('rejects a lone duplicate as a duplicate, and every caller of a group that failed otherwise', async () => {
    const collection = connection.collection('g2');
    const group = new GroupedInserts(collection);
    await group.insert([{ _id: 'x' }]);
    await expect(group.insert([{ _id: 'x' }])).rejects.toMatchObject({ code: 11000 });
    const failing = jest.spyOn(collection, 'insertMany').mockImplementation(() => Promise.reject(new Error('connection reset')));
    const pending = [group.insert([{ _id: 'p' }]), group.insert([{ _id: 'q' }]), group.insert([{ _id: 'r' }])];
    const results = await Promise.allSettled(pending);
    failing.mockRestore();
    // The first went alone (insertOne, not failing); the two grouped behind it share the failure.
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual(['ok', 'connection reset', 'connection reset']);
  });
});
