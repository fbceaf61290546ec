import { EventEmitter } from 'node:events';
import { WebContactIds } from '../../../src/channels/whatsapp-web/contact-ids';
import type { WebClient } from '../../../src/channels/whatsapp-web/whatsapp-web-client';
import { createLogger } from '../../../src/logger';

/** A client whose lookup answers what `answer` says, counting the calls. */
function clientAnswering(answer: () => Promise<{ lid?: string; pn?: string }[]>): WebClient & { calls: number } {
  const client = Object.assign(new EventEmitter(), {
    calls: 0,
    initialize: async () => undefined,
    sendMessage: async () => undefined,
    destroy: async () => undefined,
    getContactLidAndPhone: async () => {
      client.calls += 1;
      return answer();
    },
  });
  return client;
}

describe('asking whatsapp-web.js for a contact\'s other id', () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', 'json', { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  beforeEach(() => lines.splice(0));

  it('gives both ids when the library knows them, and does not ask when both are known', async () => {
    const client = clientAnswering(async () => [{ lid: '179950657237125@lid', pn: '212612345678@c.us' }]);
    const ids = new WebContactIds(() => client, log, { timeLimitMs: 1000, againMs: 600_000 });
    expect(await ids.of('212612345678@c.us', { phone: '212612345678' })).toEqual({ phone: '212612345678', lid: '179950657237125' });
    expect(await ids.of('212612345678@c.us', { phone: '212612345678', lid: '179950657237125' })).toEqual({ phone: '212612345678', lid: '179950657237125' });
    expect(client.calls).toBe(1);
  });

  it('does not ask again for a while about an id it could not map, nor (for a minute at most) after a failure, and forgets that on clear()', async () => {
    let answer: () => Promise<{ lid?: string; pn?: string }[]> = async () => [{ lid: undefined, pn: '212612345678@c.us' }];
    const client = clientAnswering(() => answer());
    const ids = new WebContactIds(() => client, log, { timeLimitMs: 1000, againMs: 600_000 });
    expect(await ids.of('212612345678@c.us', { phone: '212612345678' })).toEqual({ phone: '212612345678' });
    expect(await ids.of('212612345678@c.us', { phone: '212612345678' })).toEqual({ phone: '212612345678' });
    expect(client.calls).toBe(1);
    expect(lines.some((l) => l.msg === 'WhatsApp Web does not know the other id of this contact (phone or @lid) yet' && l.chat === '…5678@c.us')).toBe(true);
    ids.clear();
    answer = async () => {
      throw new Error('Evaluation failed');
    };
    expect(await ids.of('212612345678@c.us', { phone: '212612345678' })).toEqual({ phone: '212612345678' });
    expect(client.calls).toBe(2);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now');
    try {
      // A failure is asked about again after a minute, not after the ten of an unknown id.
      clock.mockReturnValue(now + 30_000);
      await ids.of('212612345678@c.us', { phone: '212612345678' });
      expect(client.calls).toBe(2);
      clock.mockReturnValue(now + 61_000);
      await ids.of('212612345678@c.us', { phone: '212612345678' });
      expect(client.calls).toBe(3);
    } finally {
      clock.mockRestore();
    }
  });

  it('asks on every message when told to (0), gives up at the time limit, and asks nothing of a client that is not connected or has no such call', async () => {
    const hanging = clientAnswering(() => new Promise(() => undefined));
    const ids = new WebContactIds(() => hanging, log, { timeLimitMs: 50, againMs: 0 });
    const started = Date.now();
    expect(await ids.of('179950657237125@lid', { lid: '179950657237125' })).toEqual({ lid: '179950657237125' });
    expect(Date.now() - started).toBeLessThan(1000);
    await ids.of('179950657237125@lid', { lid: '179950657237125' });
    expect(hanging.calls).toBe(2);
    expect(lines.filter((l) => l.err === 'no answer within 50 ms')).toHaveLength(2);
    expect(await new WebContactIds(() => undefined, log, { timeLimitMs: 50, againMs: 0 }).of('179950657237125@lid', { lid: '179950657237125' })).toEqual({ lid: '179950657237125' });
    const old = clientAnswering(async () => []);
    delete (old as Partial<WebClient>).getContactLidAndPhone;
    const withoutCall = new WebContactIds(() => old, log, { timeLimitMs: 50, againMs: 0 });
    await withoutCall.of('179950657237125@lid', { lid: '179950657237125' });
    await withoutCall.of('179950657237125@lid', { lid: '179950657237125' });
    expect(lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('this whatsapp-web.js has no getContactLidAndPhone'))).toHaveLength(1);
  });

  it('ignores an answer that is no list, an id of the wrong kind, and another person\'s id', async () => {
    for (const answer of [{ lid: '1@lid' }, [{ lid: 'abc@lid', pn: 'x' }], [{ lid: '179950657237125@lid', pn: '212699999999@c.us' }]]) {
      const ids = new WebContactIds(() => clientAnswering(async () => answer as never), log, { timeLimitMs: 50, againMs: 0 });
      expect(await ids.of('212612345678@c.us', { phone: '212612345678' })).toEqual(Array.isArray(answer) && answer[0]!.lid === '179950657237125@lid' ? { phone: '212612345678', lid: '179950657237125' } : { phone: '212612345678' });
    }
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('WhatsApp Web answered getContactLidAndPhone with something else than a list'))).toBe(true);
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('WhatsApp Web gave a phone id that is not one, or another one') && l.pn === '…9999@c.us')).toBe(true);
  });
});
