import type { Activity, TurnContext } from 'botbuilder';
import type { BotkitMessage, BotWorker } from 'botkit';
import type { DialogContext } from 'botbuilder-dialogs';
import { Types, type Connection } from 'mongoose';
import { flowPosition } from '../flows/compile-flow';
import { touchCustomer } from '../history/customers';
import { recordMessage, type MessageRecord } from '../history/messages';
import { quickRepliesOf } from './quick-replies';
import type { Logger } from '../logger';
import { turnInfo, type TurnInfo } from './turn-info';
import { currentTurn } from './turn-scope';

type Next = (err?: Error) => void;

/**
 * Botkit ingest middleware: finds or creates the customer, stores the inbound message
 * before anything else can fail (or hands it to an adapter that stores on delivery), and
 * stores every outbound message. Channel-agnostic: it sees only botbuilder activities.
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
      const scope = currentTurn();
      if (scope) scope.customer = String(customer._id);
      if (message.type === 'message') {
        // The flow and step this message answers, if a flow is waiting for it.
        const stack = (bot.getConfig('dialogContext') as DialogContext | undefined)?.stack;
        const labels = typeof message.text === 'string' && message.text.trim() ? await understand(info, message.text) : {};
        const record: MessageRecord = {
          customer: customer._id,
          channel: info.channel,
          direction: 'in',
          text: message.text ?? '',
          payload: message.value ?? undefined,
          ...flowPosition(stack),
          ...labels,
          at: info.receivedAt ?? new Date(),
          ...(info.externalId ? { externalId: info.externalId } : {}),
          ...(info.content ? { content: info.content } : {}),
          ...(info.voice ? { voice: info.voice } : {}),
        };
        if (recordsOnDelivery(context.adapter)) {
          // Goes in with the turn's replies, in one insert, whatever becomes of the turn; an
          // inbox turn's id is made from its event, so a turn run again stores it once.
          info.inboundId ??= new Types.ObjectId();
          context.turnState.set(INBOUND_RECORD, { ...record, _id: info.inboundId });
        } else info.inboundId = await recordMessage(connection, record);
      }
      // Stored before it is sent, so nothing the bot said is lost if sending fails (Meta's
      // adapters store it with the channel's answer instead); the message id rides on the
      // activity, for channels that report delivery.
      context.onSendActivities(async (_ctx, activities, sendNext) => {
        if (info.forgotten) return sendNext();
        await storeOutbound(connection, customer._id, info.channel, activities, context.adapter).catch((err: Error) =>
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

/** An adapter that stores the outbound messages it was given (see storeOutbound) once the channel answered. */
export interface RecordsOnDelivery {
  readonly recordsOnDelivery: true;
}

/** A message an adapter that stores on delivery is to insert: an outbound one rides on its activity, the inbound one on the turn. */
export type PendingRecord = MessageRecord & { _id: Types.ObjectId };

const INBOUND_RECORD = Symbol('taawun.inboundRecord');

function recordsOnDelivery(adapter: unknown): boolean {
  return (adapter as Partial<RecordsOnDelivery> | undefined)?.recordsOnDelivery === true;
}

/** The turn's inbound message not stored yet, handed over once (to an adapter that stores on delivery); none when the turn is forgotten. */
export function takeInboundRecord(context: TurnContext): PendingRecord | undefined {
  const record = context.turnState.get(INBOUND_RECORD) as PendingRecord | undefined;
  context.turnState.delete(INBOUND_RECORD);
  return turnInfo(context).forgotten ? undefined : record;
}

/**
 * Stores outbound message activities before they go out, marking each with its stored id.
 * When `adapter` stores on delivery, the record rides on the activity instead: one insert
 * after sending, with the platform's id and the delivery state, instead of an insert and
 * an update; the records are in the turn's journal meanwhile, so a crash loses none.
 */
export async function storeOutbound(connection: Connection, customer: Types.ObjectId, channel: string, activities: Partial<Activity>[], adapter?: unknown) {
  const deferred = recordsOnDelivery(adapter);
  for (const activity of activities) {
    if (activity.type !== 'message') continue;
    const quickReplies = quickRepliesOf(activity);
    const at = activity.channelData?.taawun as { flow?: string; step?: string } | undefined;
    const record: MessageRecord = {
      customer,
      channel,
      direction: 'out',
      text: activity.text ?? '',
      payload: quickReplies ? { quick_replies: quickReplies } : undefined,
      flow: at?.flow ?? null,
      step: at?.step ?? null,
      at: new Date(),
    };
    const id = deferred ? new Types.ObjectId() : await recordMessage(connection, record);
    const pending: PendingRecord | undefined = deferred ? { ...record, _id: id } : undefined;
    activity.channelData = { ...(activity.channelData ?? {}), taawunMessageId: String(id), ...(pending ? { taawunRecord: pending } : {}) };
  }
}
