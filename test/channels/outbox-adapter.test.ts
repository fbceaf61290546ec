import type { Activity, TurnContext } from 'botbuilder';
import type { Connection } from 'mongoose';
import { createLogger } from '../../src/logger';
import { OutboxAdapter, PartlySentError, type Delivered } from '../../src/channels/outbox-adapter';

/** The shared sending loop, through the smallest adapter that has it. */
class Adapter extends OutboxAdapter {
  constructor() {
    super('test', {} as Connection, createLogger('silent'), async (_: TurnContext) => true);
  }
  protected async deliver(_r: string, _a: Partial<Activity>[]): Promise<Delivered[]> {
    return [];
  }
  each<T>(messages: T[], skip: number, sendOne: (m: T, last: boolean) => Promise<Delivered>, sent?: (count: number) => Promise<void>) {
    return this.sendEach(messages, { skip, sent }, sendOne);
  }
}

describe("a turn's messages sent one after the other", () => {
  const adapter = new Adapter();
  const ok = (m: string, last: boolean): Promise<Delivered> => Promise.resolve({ externalId: `id-${m}`, messageIds: last ? ['stored'] : [] });

  it('sends from `skip` on, the stored ids riding on the last', async () => {
    const sent: string[] = [];
    const out = await adapter.each(['a', 'b', 'c'], 1, (m, last) => (sent.push(m), ok(m, last)));
    expect(sent).toEqual(['b', 'c']);
    expect(out).toEqual([{ externalId: 'id-b', messageIds: [] }, { externalId: 'id-c', messageIds: ['stored'] }]);
  });

  it('says how many went out after each message but the last (whose stored messages tell it)', async () => {
    const counts: number[] = [];
    await adapter.each(['a', 'b', 'c'], 0, ok, async (n) => void counts.push(n));
    expect(counts).toEqual([1, 2]);
  });

  it('says how many went out when one fails part-way, and gives the error itself when none did', async () => {
    const failOn = (bad: string) => (m: string, last: boolean) => (m === bad ? Promise.reject(new Error(`Graph API down at ${m}`)) : ok(m, last));
    const partly = await adapter.each(['a', 'b', 'c'], 0, failOn('c')).catch((e: unknown) => e);
    expect(partly).toBeInstanceOf(PartlySentError);
    expect(partly).toMatchObject({ sent: 2, message: 'Graph API down at c' });
    const resumed = await adapter.each(['a', 'b', 'c'], 1, failOn('b')).catch((e: unknown) => e);
    expect(resumed).toMatchObject({ sent: 1 });
    const none = await adapter.each(['a', 'b'], 0, failOn('a')).catch((e: unknown) => e);
    expect(none).not.toBeInstanceOf(PartlySentError);
    expect(none).toMatchObject({ message: 'Graph API down at a' });
  });
});
