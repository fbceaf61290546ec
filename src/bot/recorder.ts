import type { Activity, TurnContext } from 'botbuilder';
import type { BotkitMessage, BotWorker } from 'botkit';
import type { DialogContext } from 'botbuilder-dialogs';
import type { Connection } from 'mongoose';
import { flowPosition } from '../flows/compile-flow';
import { touchCustomer } from '../history/customers';
import { recordMessage, type MessageRecord } from '../history/messages';
import { quickRepliesOf } from './quick-replies';
import type { Logger } from '../logger';
import { turnInfo, type TurnInfo } from './turn-info';

type Next = (err?: Error) => void;

/**
 * Botkit ingest middleware: finds or creates the customer, stores the inbound message
 * before anything else can fail, and stores every outbound message once the channel
 * has accepted it. Channel-agnostic: it sees only botbuilder activities.
 */
export function conversationRecorder(
  connection: Connection,
  log: Logger,
  /** Understanding of the text, run before the message is stored so the labels go in with it. */
  understand: (info: TurnInfo, text: string) => Promise<Partial<MessageRecord>> = async () => ({}),
) {
  return async (bot: BotWorker, message: BotkitMessage, next: Next): Promise<void> => {
    try {
      const context = bot.getConfig('context') as TurnContext;
      const info = turnInfo(context);
      const customer = await touchCustomer(connection, info.channel, message.user);
      info.customer = customer;
      if (message.type === 'message') {
        // The flow and step this message answers, if a flow is waiting for it.
        const stack = (bot.getConfig('dialogContext') as DialogContext | undefined)?.stack;
        const labels = typeof message.text === 'string' && message.text.trim() ? await understand(info, message.text) : {};
        info.inboundId = await recordMessage(connection, {
          customer: customer._id,
          channel: info.channel,
          direction: 'in',
          text: message.text ?? '',
          payload: message.value ?? undefined,
          ...flowPosition(stack),
          ...labels,
        });
      }
      // Stored before it is sent, so nothing the bot said is lost if sending fails; the
      // message id rides on the activity, for channels that report delivery.
      context.onSendActivities(async (_ctx, activities, sendNext) => {
        await storeOutbound(connection, customer._id, info.channel, activities).catch((err: Error) =>
          log.error({ customer: String(customer._id), err: err.message }, 'could not store an outbound message'),
        );
        return sendNext();
      });
      next();
    } catch (err) {
      next(err as Error);
    }
  };
}

/** Stores outbound message activities before they go out, marking each with its stored id. */
export async function storeOutbound(connection: Connection, customer: Parameters<typeof recordMessage>[1]['customer'], channel: string, activities: Partial<Activity>[]) {
  for (const activity of activities) {
    if (activity.type !== 'message' || activity.channelData?.taawunNoRecord) continue;
    const quickReplies = quickRepliesOf(activity);
    const at = activity.channelData?.taawun as { flow?: string; step?: string } | undefined;
    const id = await recordMessage(connection, {
      customer,
      channel,
      direction: 'out',
      text: activity.text ?? '',
      payload: quickReplies ? { quick_replies: quickReplies } : undefined,
      flow: at?.flow ?? null,
      step: at?.step ?? null,
    });
    activity.channelData = { ...(activity.channelData ?? {}), taawunMessageId: String(id) };
  }
}
