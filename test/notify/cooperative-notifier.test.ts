import type { Connection } from 'mongoose';
import { notificationModel } from '../../src/db/models/notification';
import { createLogger } from '../../src/logger';
import { ChannelDirectory } from '../../src/notify/channel-directory';
import { CooperativeNotifier } from '../../src/notify/cooperative-notifier';
import { startCoopWebhook } from '../support/coop-webhook';
import { dropDatabase, freshDatabase } from '../support/database';

describe("the cooperative's notices, each sent once (real database, COOP_NOTIFY a webhook on loopback)", () => {
  let connection: Connection;
  let hook: Awaited<ReturnType<typeof startCoopWebhook>>;
  const log = createLogger('silent');

  beforeAll(async () => {
    connection = await freshDatabase('notifier');
    hook = await startCoopWebhook();
  });
  afterAll(async () => {
    await hook.close();
    await dropDatabase(connection);
  });

  const notifier = (holder: string, alone = false) => new CooperativeNotifier({ kind: 'webhook', url: hook.url }, new ChannelDirectory(), log, { connection, holder, alone, delays: [] });

  it('sends a named notice once however often it is asked for (a turn run again after a crash)', async () => {
    const a = notifier('host:1:1:a');
    await a.notify('order.placed', 'Nouvelle commande TIF-000001', { order: { number: 'TIF-000001' } }, 'order.placed:TIF-000001');
    await a.notify('order.placed', 'Nouvelle commande TIF-000001', { order: { number: 'TIF-000001' } }, 'order.placed:TIF-000001');
    await notifier('host:2:2:b').notify('order.placed', 'Nouvelle commande TIF-000001', {}, 'order.placed:TIF-000001');
    await a.flush();
    expect(hook.received.filter((r) => r.event === 'order.placed')).toHaveLength(1);
    expect(await notificationModel(connection).findById('order.placed:TIF-000001').lean()).toMatchObject({ status: 'sent' });
  });

  it('sends what a stopped process left unsent: at once at the start of the only process, after a while by another one', async () => {
    hook.received.length = 0;
    const Notification = notificationModel(connection);
    const now = new Date();
    await Notification.create({ _id: 'handoff:left-1', event: 'handoff', text: 'Un client attend', data: '{}', status: 'pending', at: new Date(now.getTime() - 5000), doneAt: null });
    // Another process running beside a live sender would send it twice: it waits until no live try can be under way.
    expect(await notifier('host:3:3:c').resumeLeftBehind(now)).toBe(0);
    // Alone, a later pass is the same: the pending ones may be this process's own, being sent.
    expect(await notifier('host:4:4:d', true).resumeLeftBehind(now, false)).toBe(0);
    const successor = notifier('host:5:5:e', true);
    expect(await successor.resumeLeftBehind(now, true)).toBe(1);
    await successor.flush();
    expect(hook.received.map((r) => r.text)).toEqual(['Un client attend']);
    expect(await Notification.findById('handoff:left-1').lean()).toMatchObject({ status: 'sent' });
    expect(await notifier('host:6:6:f').resumeLeftBehind(new Date(now.getTime() + 10 * 60_000))).toBe(0);
  });
});
