import path from 'node:path';
import { ActivityTypes, BotAdapter, MemoryStorage, TurnContext, type Activity, type ResourceResponse } from 'botbuilder';
import { Botkit } from 'botkit';
import { Router } from 'express';
import { TurnCommits } from '../../src/bot/turn-commits';
import { createTurnHandler } from '../../src/bot/turn-handler';
import { currentTurn } from '../../src/bot/turn-scope';
import type { TurnStore } from '../../src/db/mongo-storage';
import { Locales } from '../../src/i18n/locales';
import { createLogger } from '../../src/logger';

/** The smallest adapter a turn needs: it keeps what the bot says. */
class Keeping extends BotAdapter {
  readonly said: string[] = [];
  async sendActivities(_c: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    this.said.push(...activities.map((a) => a.text ?? ''));
    return activities.map(() => ({ id: '' }));
  }
  async updateActivity(): Promise<void> {}
  async deleteActivity(): Promise<void> {}
  async continueConversation(): Promise<void> {}
}

const locales = Locales.load(path.join(__dirname, '..', '..', 'locales'));
const apology = locales.text('fr', 'errors.internal');

describe('the turn handler (Botkit turns that end, whatever happens in them)', () => {
  let adapter: Keeping;
  let controller: Botkit;

  beforeAll(async () => {
    adapter = new Keeping();
    controller = new Botkit({ adapter, storage: new MemoryStorage(), webserver: Router(), disable_console: true });
    await new Promise<void>((resolve) => controller.ready(() => resolve()));
    controller.hears('rejects later', 'message', async () => {
      // A database call failing inside Botkit's chain: Botkit's own handleTurn dropped this promise and never settled.
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('read ECONNRESET');
    });
    controller.hears('hangs', 'message', () => new Promise(() => undefined));
    controller.hears('whose turn', 'message', async (bot) => {
      await bot.say(JSON.stringify(currentTurn()));
    });
    controller.hears('hello', 'message', async (bot) => {
      await bot.say('hi');
    });
  });

  const handler = (timeLimitMs = 300) => createTurnHandler(controller, new TurnCommits(controller, {} as TurnStore), () => locales, 'fr', createLogger('silent'), { timeLimitMs });
  const turn = (text: string, from = 'c1') =>
    new TurnContext(adapter, { type: ActivityTypes.Message, text, channelId: 'test', conversation: { id: from, isGroup: false, conversationType: 'personal', name: '' }, from: { id: from, name: '' }, recipient: { id: 'bot', name: '' } });

  it('ends a turn whose handler rejects inside the middleware chain, telling the customer', async () => {
    // No time limit to save it: a turn that did not settle by itself fails the test by jest's timeout.
    const handle = handler(10 * 60_000);
    adapter.said.length = 0;
    await expect(handle(turn('rejects later'))).resolves.toBe(false);
    expect(adapter.said).toEqual([apology]);
  });

  it('ends a turn that hangs at its time limit, tells the customer, and lets their next message through', async () => {
    const handle = handler();
    adapter.said.length = 0;
    const started = Date.now();
    await expect(handle(turn('hangs', 'c2'))).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(handle(turn('hello', 'c2'))).resolves.toBe(true);
    expect(adapter.said).toEqual([apology, 'hi']);
  });

  it('knows which turn the code running in it belongs to (for a log line far from it)', async () => {
    const handle = handler();
    adapter.said.length = 0;
    await handle(turn('whose turn', 'c3'));
    expect(JSON.parse(adapter.said[0]!)).toEqual({ channel: 'test', sender: 'c3' });
  });
});
