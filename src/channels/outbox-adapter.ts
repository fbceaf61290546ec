import { ActivityTypes, BotAdapter, TurnContext, type Activity, type ConversationReference, type ResourceResponse } from 'botbuilder';
import type { Connection } from 'mongoose';
import type { QuickReply } from '../bot/quick-replies';
import { takeInboundRecord, type PendingRecord, type RecordsOnDelivery } from '../bot/recorder';
import { turnInfo } from '../bot/turn-info';
import { customerFieldsOf, setCustomerFieldsOf } from '../history/customers';
import { messageModel } from '../db/models/message';
import { insertPlain } from '../db/plain-insert';
import type { Logger } from '../logger';
import { heldReplyModel } from '../db/models/held-reply';
import type { Attempt, ChannelEvent } from './inbox';
import { GraphApiError } from './meta/graph-api';

const OUTBOX = Symbol('taawun.outbox');
/** Meta's customer-service window: free-form messages only within 24 hours of the customer's last message. */
export const WINDOW_MS = 24 * 60 * 60 * 1000;

type TurnLogic = (context: TurnContext) => Promise<boolean>;

/** Sending stopped part-way: `sent` of a turn's messages went out (counting those a previous try sent). */
export class PartlySentError extends Error {
  constructor(
    readonly sent: number,
    readonly reason: Error,
  ) {
    super(reason.message, { cause: reason });
    this.name = 'PartlySentError';
  }
}

/** One message a channel sent: its platform id, the stored messages it carried, and numbered choices it offered. */
export interface Delivered {
  externalId: string | undefined;
  messageIds: string[];
  numbered?: QuickReply[];
}

/**
 * What the Messenger, WhatsApp Cloud and WhatsApp Web adapters share: a recorded event becomes a turn whose
 * replies are gathered and sent when it ends; a digit answers choices offered as a
 * numbered list; sent messages get their platform id and delivery state; errors that
 * sending again cannot fix are kept on the customer; proactive messages respect the window.
 */
export abstract class OutboxAdapter extends BotAdapter implements RecordsOnDelivery {
  readonly recordsOnDelivery = true;

  constructor(
    readonly channel: string,
    protected readonly connection: Connection,
    protected readonly log: Logger,
    private readonly logic: TurnLogic,
  ) {
    super();
  }

  /** Sends one turn's activities to a recipient, but the first `skip` of its messages (a previous try sent them); `proactive` means outside a customer's turn. */
  protected abstract deliver(recipient: string, activities: Partial<Activity>[], proactive: boolean, inWindow: boolean, skip: number): Promise<Delivered[]>;

  /** Sends a turn's messages one after the other from `skip`; a failure says how many went out (PartlySentError). */
  protected async sendEach<T>(messages: T[], skip: number, sendOne: (message: T, last: boolean) => Promise<Delivered>): Promise<Delivered[]> {
    const out: Delivered[] = [];
    for (let i = skip; i < messages.length; i += 1) {
      try {
        out.push(await sendOne(messages[i]!, i === messages.length - 1));
      } catch (err) {
        throw i > 0 ? new PartlySentError(i, err as Error) : err;
      }
    }
    return out;
  }

  /** Runs one recorded event through the bot and sends the replies; false asks the inbox to retry. */
  async processEvent(event: ChannelEvent, attempt: Attempt = { number: 1, last: true }): Promise<boolean> {
    const held = `${this.channel}:${event.id}`;
    // A later try of a turn whose replies Meta could not take: they go out now, and the turn
    // is not run again (its state, orders and ratings were kept the first time).
    if (attempt.number > 1) {
      const waiting = await heldReplyModel(this.connection).findById(held).lean();
      if (waiting) {
        await this.send(waiting.recipient, waiting.activities as Partial<Activity>[], false, (waiting.inbound as PendingRecord | null) ?? undefined, { held, attempt, fromHeld: true, skip: waiting.sent });
        return true;
      }
    }
    const payload = event.payload ?? (await this.numberedChoice(event));
    const activity: Partial<Activity> = {
      type: ActivityTypes.Message,
      id: event.id,
      timestamp: new Date(event.timestamp),
      channelId: this.channel,
      conversation: { id: event.sender, isGroup: false, conversationType: 'personal', name: '' },
      from: { id: event.sender, name: '' },
      recipient: { id: 'business', name: 'business' },
      text: event.text,
      value: payload,
      channelData: event.attachments ? { attachments: event.attachments } : {},
    };
    const context = new TurnContext(this, activity);
    context.turnState.set(OUTBOX, []);
    let ok = false;
    try {
      await this.runMiddleware(context, async (c) => {
        ok = await this.logic(c);
      });
      const outbox = context.turnState.get(OUTBOX) as Partial<Activity>[];
      // A turn that erased the customer keeps none of its messages.
      if (turnInfo(context).forgotten) for (const activity of outbox) delete activity.channelData?.taawunRecord;
      if (outbox.length > 0) await this.send(event.sender, outbox, false, takeInboundRecord(context), { held, attempt, fromHeld: false, skip: 0 });
    } finally {
      // No replies, or the turn failed: the customer's message is kept all the same.
      const inbound = takeInboundRecord(context);
      if (inbound) await insertPlain(messageModel(this.connection), [inbound]);
    }
    return ok;
  }

  /** Gathers the turn's replies; outside a turn (a proactive message) sends at once. */
  override async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const outbox = context.turnState.get(OUTBOX) as Partial<Activity>[] | undefined;
    if (outbox) outbox.push(...activities);
    else await this.send(activities[0]?.recipient?.id ?? context.activity.from.id, activities, true);
    return activities.map(() => ({ id: '' }));
  }

  /** A sent message cannot be edited on Meta's channels. */
  override async updateActivity(): Promise<void> {
    throw new Error(`${this.channel} cannot update a sent message`);
  }

  /** A sent message cannot be deleted on Meta's channels. */
  override async deleteActivity(): Promise<void> {
    throw new Error(`${this.channel} cannot delete a sent message`);
  }

  /** Runs logic outside a customer's turn, for a notification. */
  override async continueConversation(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    const request = TurnContext.applyConversationReference({ type: 'event', name: 'continueConversation' }, reference, true);
    await this.runMiddleware(new TurnContext(this, request), logic);
  }

  /** Keeps an error that sending again cannot fix on the customer, for the staff. */
  protected async recordError(recipient: string, code: number, message: string): Promise<void> {
    this.log.warn({ channel: this.channel, code, err: message }, 'cannot reach this customer now');
    await setCustomerFieldsOf(this.connection, this.channel, recipient, { channelError: { code, message, at: new Date() } });
  }

  /** The stored message ids an activity carries (set by the recorder). */
  protected static messageIdOf(activity: Partial<Activity>): string[] {
    const id = activity.channelData?.taawunMessageId;
    return typeof id === 'string' ? [id] : [];
  }

  /**
   * Delivers and stores a turn's activities. `turn` (a customer's turn, from the inbox): when
   * Meta cannot take them for now and another try comes, they are held for it (held_replies)
   * and the error thrown, so the inbox tries the event again; the turn is not run again.
   */
  private async send(recipient: string, activities: Partial<Activity>[], proactive: boolean, inbound?: PendingRecord, turn?: { held: string; attempt: Attempt; fromHeld: boolean; skip: number }): Promise<void> {
    // A reply inside the customer's own turn is in the window by definition; only a
    // proactive message needs the last time they wrote.
    let inWindow = !proactive;
    if (proactive) {
      const customer = await customerFieldsOf(this.connection, this.channel, recipient, ['lastSeenAt']);
      inWindow = Boolean(customer && Date.now() - customer.lastSeenAt.getTime() <= WINDOW_MS);
    }
    let delivered: Delivered[];
    try {
      delivered = await this.deliver(recipient, activities, proactive, inWindow, turn?.skip ?? 0);
    } catch (failure) {
      // What went out before the failure is not sent again.
      const sentBefore = failure instanceof PartlySentError ? failure.sent : (turn?.skip ?? 0);
      const err = failure instanceof PartlySentError ? failure.reason : (failure as Error);
      const permanent = err instanceof GraphApiError && err.permanent;
      const hold = !permanent && turn && !turn.attempt.last;
      this.log.error({ channel: this.channel, err: err.message, held: Boolean(hold), sentBefore }, 'sending failed');
      if (hold) {
        const Held = heldReplyModel(this.connection);
        if (!turn.fromHeld) await insertPlain(Held, [{ _id: turn.held, recipient, activities, inbound: inbound ?? null, sent: sentBefore, at: new Date() }]);
        else if (sentBefore !== turn.skip) await Held.updateOne({ _id: turn.held }, { $set: { sent: sentBefore } });
        throw err;
      }
      await this.storeDelivery(activities, new Map(), { status: 'failed', at: new Date(), error: (err as Error).message }, inbound);
      if (turn?.fromHeld) await heldReplyModel(this.connection).deleteOne({ _id: turn.held });
      if (permanent) {
        await this.recordError(recipient, (err as GraphApiError).graphCode ?? (err as GraphApiError).status, (err as Error).message);
        return;
      }
      throw err;
    }
    const sent = new Map<string, string | null>();
    for (const d of delivered) for (const id of d.messageIds) sent.set(id, d.externalId ?? null);
    await this.storeDelivery(activities, sent, { status: 'sent', at: new Date() }, inbound);
    if (turn?.fromHeld) await heldReplyModel(this.connection).deleteOne({ _id: turn.held });
    const numbered = delivered.filter((d) => d.numbered).at(-1)?.numbered;
    if (numbered) await setCustomerFieldsOf(this.connection, this.channel, recipient, { offeredChoices: numbered });
  }

  /**
   * Stores the turn's messages with what became of them, in one insert: the customer's
   * message and the records that ride on the activities (storeOutbound gives every activity
   * sent through this adapter one). `sent` holds the messages the channel took, with its id
   * for them; when sending failed, all get `outcome`.
   */
  private async storeDelivery(activities: Partial<Activity>[], sent: Map<string, string | null>, outcome: { status: 'sent' | 'failed'; at: Date; error?: string }, inbound?: PendingRecord): Promise<void> {
    const inserts: object[] = inbound ? [inbound] : [];
    for (const activity of activities) {
      const record = activity.channelData?.taawunRecord as PendingRecord | undefined;
      if (!record) continue;
      const id = String(record._id);
      const taken = sent.has(id);
      // Not taken while others were: the channel sent nothing (outside the window); no delivery to tell.
      const delivery = taken || outcome.status === 'failed' ? outcome : undefined;
      inserts.push({ ...record, ...(taken ? { externalId: sent.get(id) } : {}), ...(delivery ? { delivery } : {}) });
    }
    await insertPlain(messageModel(this.connection), inserts);
  }

  /** A bare number answers the numbered choices last offered, when buttons could not carry them. */
  private async numberedChoice(event: ChannelEvent): Promise<string | undefined> {
    if (!/^\d{1,2}$/.test(event.text.trim())) return undefined;
    const customer = await customerFieldsOf(this.connection, this.channel, event.sender, ['offeredChoices']);
    return customer?.offeredChoices?.[Number(event.text.trim()) - 1]?.payload ?? undefined;
  }
}
