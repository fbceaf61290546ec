import { ActivityTypes, BotAdapter, TurnContext, type Activity, type ConversationReference, type ResourceResponse } from 'botbuilder';
import type { Connection } from 'mongoose';
import { customerModel } from '../../db/models/customer';
import type { Logger } from '../../logger';
import type { ChannelEvent } from '../inbox';
import { GraphApiError, type GraphClient } from '../meta/graph-api';
import { toSendApiMessages } from './send-api-messages';

/** The channel id of Messenger activities and customers. */
export const MESSENGER_CHANNEL = 'messenger';
const OUTBOX = Symbol('taawun.messenger.outbox');
const WINDOW_MS = 24 * 60 * 60 * 1000;

type TurnLogic = (context: TurnContext) => Promise<boolean>;

/**
 * Messenger as a botbuilder adapter of ours (botkit's Facebook adapter checks only SHA-1,
 * swallows Send API errors and has a fixed Graph URL). A turn's replies are gathered and
 * sent when it ends, combined where Messenger allows, through a GraphClient that retries
 * what may pass later; errors that sending again cannot fix are kept on the customer.
 */
export class MessengerAdapter extends BotAdapter {
  constructor(
    private readonly graph: GraphClient,
    private readonly connection: Connection,
    private readonly log: Logger,
    private readonly logic: TurnLogic,
  ) {
    super();
  }

  /** Runs one recorded event through the bot and sends the replies; false asks the inbox to retry. */
  async processEvent(event: ChannelEvent): Promise<boolean> {
    const payload = event.payload ?? (await this.numberedChoice(event));
    const activity: Partial<Activity> = {
      type: ActivityTypes.Message,
      id: event.id,
      timestamp: new Date(event.timestamp),
      channelId: MESSENGER_CHANNEL,
      conversation: { id: event.sender, isGroup: false, conversationType: 'personal', name: '' },
      from: { id: event.sender, name: '' },
      recipient: { id: 'page', name: 'page' },
      text: event.text,
      value: payload,
      channelData: { ...(event.attachments ? { attachments: event.attachments } : {}) },
    };
    const context = new TurnContext(this, activity);
    context.turnState.set(OUTBOX, []);
    let ok = false;
    await this.runMiddleware(context, async (c) => {
      ok = await this.logic(c);
    });
    await this.flush(context, event.sender);
    return ok;
  }

  /** Gathers the turn's replies; outside a turn (a proactive message) sends at once. */
  override async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const outbox = context.turnState.get(OUTBOX) as Partial<Activity>[] | undefined;
    if (outbox) outbox.push(...activities);
    else await this.send(activities[0]?.recipient?.id ?? context.activity.from.id, activities, { proactive: true });
    return activities.map(() => ({ id: '' }));
  }

  /** Messenger cannot edit a sent message. */
  override async updateActivity(): Promise<void> {
    throw new Error('Messenger cannot update a sent message');
  }

  /** Messenger cannot delete a sent message. */
  override async deleteActivity(): Promise<void> {
    throw new Error('Messenger cannot delete a sent message');
  }

  /** Sends outside a customer's turn (a notification), within Messenger's 24-hour window only. */
  override async continueConversation(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    const request = TurnContext.applyConversationReference({ type: 'event', name: 'continueConversation' }, reference, true);
    await this.runMiddleware(new TurnContext(this, request), logic);
  }

  private async flush(context: TurnContext, sender: string): Promise<void> {
    const outbox = context.turnState.get(OUTBOX) as Partial<Activity>[];
    if (outbox.length > 0) await this.send(sender, outbox, { proactive: false });
  }

  private async send(recipient: string, activities: Partial<Activity>[], options: { proactive: boolean }): Promise<void> {
    const Customer = customerModel(this.connection);
    if (options.proactive) {
      const customer = await Customer.findOne({ channel: MESSENGER_CHANNEL, externalId: recipient }, { lastSeenAt: 1 }).lean();
      if (!customer || Date.now() - customer.lastSeenAt.getTime() > WINDOW_MS) {
        await this.recordError(recipient, 10, 'outside the 24-hour window: Messenger accepts no message until the customer writes again');
        return;
      }
    }
    for (const { message, numbered } of toSendApiMessages(activities)) {
      try {
        await this.graph.post('me/messages', { recipient: { id: recipient }, messaging_type: options.proactive ? 'UPDATE' : 'RESPONSE', message });
      } catch (err) {
        if (err instanceof GraphApiError && err.permanent) {
          await this.recordError(recipient, err.graphCode ?? err.status, err.message);
          return;
        }
        this.log.error({ channel: MESSENGER_CHANNEL, err: (err as Error).message }, 'Messenger send failed');
        throw err;
      }
      if (numbered) await Customer.updateOne({ channel: MESSENGER_CHANNEL, externalId: recipient }, { $set: { offeredChoices: numbered } });
    }
  }

  /** A bare number answers the numbered choices last offered, when buttons could not carry them. */
  private async numberedChoice(event: ChannelEvent): Promise<string | undefined> {
    if (!/^\d{1,2}$/.test(event.text.trim())) return undefined;
    const customer = await customerModel(this.connection).findOne({ channel: MESSENGER_CHANNEL, externalId: event.sender }, { offeredChoices: 1 }).lean();
    return customer?.offeredChoices?.[Number(event.text.trim()) - 1]?.payload ?? undefined;
  }

  private async recordError(recipient: string, code: number, message: string): Promise<void> {
    this.log.warn({ channel: MESSENGER_CHANNEL, code, err: message }, 'Messenger cannot reach this customer now');
    await customerModel(this.connection).updateOne({ channel: MESSENGER_CHANNEL, externalId: recipient }, { $set: { channelError: { code, message, at: new Date() } } });
  }
}
