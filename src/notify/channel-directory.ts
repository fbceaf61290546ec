import { ActivityTypes, type Activity, type BotAdapter, type TurnContext } from 'botbuilder';

/**
 * The adapters by channel name, for messages that start outside a customer's turn: an
 * order's status change, a stock alert, a note to the cooperative. Each adapter keeps its
 * own rules (the 24-hour window, templates, rate limits).
 */
export class ChannelDirectory {
  private readonly adapters = new Map<string, BotAdapter>();

  /** Makes a channel reachable. */
  add(channel: string, adapter: BotAdapter): this {
    this.adapters.set(channel, adapter);
    return this;
  }

  /** The adapter of a channel, if it is on in this process. */
  adapter(channel: string): BotAdapter | undefined {
    return this.adapters.get(channel);
  }

  /** Whether a channel is on in this process. */
  has(channel: string): boolean {
    return this.adapters.has(channel);
  }

  /**
   * Sends texts to someone on a channel; `beforeSend` sees the activities first (the
   * recorder stores them in the customer's history). Throws when the channel is off.
   */
  async send(channel: string, recipient: string, texts: string[], beforeSend?: (activities: Partial<Activity>[]) => Promise<void>): Promise<void> {
    const adapter = this.adapters.get(channel);
    if (!adapter) throw new Error(`the ${channel} channel is off in this server; turn it on to reach ${recipient}`);
    const reference = {
      channelId: channel,
      conversation: { id: recipient, isGroup: false, conversationType: 'personal', name: '' },
      user: { id: recipient, name: '' },
      bot: { id: 'business', name: 'business' },
      serviceUrl: '',
    };
    await adapter.continueConversation(reference, async (context: TurnContext) => {
      if (beforeSend) context.onSendActivities(async (_ctx, activities, next) => {
        await beforeSend(activities);
        return next();
      });
      await context.sendActivities(texts.map((text) => ({ type: ActivityTypes.Message, text })));
    });
  }
}
