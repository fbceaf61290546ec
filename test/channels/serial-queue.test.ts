import { KeyedSerialQueue } from '../../src/channels/serial-queue';

/** A promise resolved from outside, so tests order events without sleeping. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('KeyedSerialQueue', () => {
  it('runs one key in arrival order, each task after the previous has finished', async () => {
    const queue = new KeyedSerialQueue();
    const events: string[] = [];
    const first = gate();
    const a = queue.run('c1', async () => {
      events.push('a start');
      await first.promise;
      events.push('a end');
    });
    const b = queue.run('c1', async () => {
      events.push('b start');
    });
    await Promise.resolve();
    expect(events).toEqual(['a start']);
    first.open();
    await Promise.all([a, b]);
    expect(events).toEqual(['a start', 'a end', 'b start']);
  });

  it('runs different keys in parallel', async () => {
    const queue = new KeyedSerialQueue();
    const blocked = gate();
    const events: string[] = [];
    const slow = queue.run('c1', async () => {
      await blocked.promise;
      events.push('c1');
    });
    await queue.run('c2', async () => {
      events.push('c2');
    });
    expect(events).toEqual(['c2']);
    blocked.open();
    await slow;
    expect(events).toEqual(['c2', 'c1']);
  });

  it('keeps going after a failed task and hands the failure to its caller', async () => {
    const queue = new KeyedSerialQueue();
    const failed = queue.run('c1', async () => {
      throw new Error('boom');
    });
    const next = queue.run('c1', async () => 42);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
  });

  it('forgets keys once their work is done', async () => {
    const queue = new KeyedSerialQueue();
    await Promise.all([queue.run('a', async () => 1), queue.run('b', async () => 2)]);
    await queue.drain();
    expect(queue.activeKeys).toBe(0);
  });
});
