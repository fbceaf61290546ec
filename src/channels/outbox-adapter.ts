import { ActivityTypes, BotAdapter, TurnContext, type Activity, type ConversationReference, type ResourceResponse } from 'botbuilder';
import { mongo, type Connection } from 'mongoose';
import { quickRepliesOf, type QuickReply } from '../bot/quick-replies';
import { takeInboundRecord, type PendingRecord, type RecordsOnDelivery } from '../bot/recorder';
import type { TurnCommits } from '../bot/turn-commits';
import { APOLOGY_FLAG } from '../bot/turn-handler';
import { turnInfo } from '../bot/turn-info';
import { customerFieldsOf, customerIdOf, setCustomerFieldsOf } from '../history/customers';
import { applyNotice, keepReferral } from './notices';
import { derivedObjectId } from '../db/derived-id';
import { insertOnce, isDuplicateKey } from '../db/duplicate-key';
import { messageModel } from '../db/models/message';
import { keepMessageRefs } from '../history/message-refs';
import { insertPlain, insertPlainGrouped } from '../db/plain-insert';
import type { Logger } from '../logger';
import type { Attempt, ChannelEvent } from './inbox';
import { faultPoint } from '../faults';
import { GraphApiError } from './meta/graph-api';
import { VOICE_CONFIRMED, type VoiceSource } from '../voice/voice-notes';

const OUTBOX = Symbol('taawun.outbox');
/** Meta's customer-service window: free-form messages only within 24 hours of the customer's last message. */
export const WINDOW_MS = 24 * 60 * 60 * 1000;
// Storing a turn's messages once they went out is tried this many times, after these waits,
// before the event is tried again (a failure after sending must not send again).
const STORE_RETRY_MS = [200, 1000];

/** The bot's turn logic, with how its inbox turns are committed (createTurnHandler's). */
export type TurnLogic = ((context: TurnContext) => Promise<boolean>) & { commits?: TurnCommits };

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

/** The customer cannot be reached by any id the channel has for them: sending again will not help. */
export class UnreachableError extends Error {
  constructor(
    /** A code for the customer's `channelError` (0 where the platform gives none). */
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'UnreachableError';
  }
}

/** One message a channel sent: its platform id, the stored messages it carried, and numbered choices it offered. */
export interface Delivered {
  externalId: string | undefined;
  messageIds: string[];
  numbered?: QuickReply[];
}

/** Where a turn's sending starts (the messages a previous try sent are skipped), and who hears of each message that went out. */
export interface Resume {
  skip: number;
  sent?(count: number): Promise<void>;
}

/** What a committed turn leaves for its replay to finish: its replies, with their message records, and the customer's message. */
interface TurnJournal {
  recipient: string;
  activities: Partial<Activity>[];
  inbound: PendingRecord | null;
}

/** A reply as a journal keeps it: its message record, or (a turn that keeps nothing, an erasure) only what is sent. */
type JournalReply = PendingRecord | { text: string; payload?: unknown; flow?: string | null; step?: string | null };

/**
 * The journal as stored, as small as sending and storing allow, since every turn's
 * conversation version carries it: each reply once, as its record (the renderers read only
 * an activity's text and choices, which the record has).
 */
function storedJournal(journal: TurnJournal): string {
  const replies: JournalReply[] = journal.activities
    .filter((a) => a.type === 'message')
    .map((a) => {
      const record = a.channelData?.taawunRecord as PendingRecord | undefined;
      if (record) return record;
      const quickReplies = quickRepliesOf(a);
      const at = a.channelData?.taawun as { flow?: string; step?: string } | undefined;
      return { text: a.text ?? '', ...(quickReplies ? { payload: { quick_replies: quickReplies } } : {}), flow: at?.flow ?? null, step: at?.step ?? null };
    });
  return mongo.BSON.EJSON.stringify({ recipient: journal.recipient, inbound: journal.inbound, replies });
}

/** A stored journal as the activities it sends again. */
function journalOf(stored: string): TurnJournal {
  const { recipient, inbound, replies } = mongo.BSON.EJSON.parse(stored) as { recipient: string; inbound: PendingRecord | null; replies: JournalReply[] };
  const activities = replies.map((r): Partial<Activity> => {
    const quickReplies = (r.payload as { quick_replies?: unknown } | undefined)?.quick_replies;
    return {
      type: 'message',
      text: r.text,
      channelData: {
        ...(quickReplies ? { quick_replies: quickReplies } : {}),
        taawun: { flow: r.flow ?? undefined, step: r.step ?? undefined },
        ...('_id' in r ? { taawunMessageId: String(r._id), taawunRecord: r } : {}),
      },
    };
  });
  return { recipient, activities, inbound };
}

/**
 * What the Messenger, WhatsApp Cloud and WhatsApp Web adapters share: a recorded event becomes
 * a turn applied exactly once (TurnCommits), whose replies are sent when it ends; a digit answers
 * choices offered as a numbered list; sent messages get their platform id and delivery state;
 * errors that sending again cannot fix are kept on the customer; proactive messages respect the window.
 */
export abstract class OutboxAdapter extends BotAdapter implements RecordsOnDelivery {
  readonly recordsOnDelivery = true;
  // Turns whose messages all went out but could not be stored yet, by event: a retry in this
  // process stores them without sending again.
  private readonly unstored = new Map<string, Delivered[]>();

  /** How long a person answering from elsewhere (the WhatsApp Business app) keeps the bot quiet; the server sets the handoff timeout. */
  handoffMs = 24 * 3_600_000;

  constructor(
    readonly channel: string,
    protected readonly connection: Connection,
    protected readonly log: Logger,
    private readonly logic: TurnLogic,
  ) {
    super();
  }

  /** Sends one turn's activities to a recipient from `resume.skip` on; `proactive` means outside a customer's turn. */
  protected abstract deliver(recipient: string, activities: Partial<Activity>[], proactive: boolean, inWindow: boolean, resume: Resume): Promise<Delivered[]>;

  /** Sends a turn's messages one after the other from `resume.skip`, saying how many went out after each; a failure says it too (PartlySentError). */
  protected async sendEach<T>(messages: T[], resume: Resume, sendOne: (message: T, last: boolean) => Promise<Delivered>): Promise<Delivered[]> {
    const out: Delivered[] = [];
    for (let i = resume.skip; i < messages.length; i += 1) {
      try {
        out.push(await sendOne(messages[i]!, i === messages.length - 1));
      } catch (err) {
        throw i > 0 ? new PartlySentError(i, err as Error) : err;
      }
      // The last one is told by the stored messages themselves.
      if (i < messages.length - 1) await resume.sent?.(i + 1);
    }
    return out;
  }

  /**
   * Runs one recorded event through the bot and sends the replies, applying it exactly once:
   * a replay of an event whose turn was committed (a retry, a redelivery, a restart) runs
   * nothing again and only sends and stores what is left. False asks the inbox to retry.
   */
  async processEvent(event: ChannelEvent, attempt: Attempt = { number: 1, last: true }): Promise<boolean> {
    const commits = this.logic.commits;
    if (!commits) throw new Error(`${this.channel}: processEvent needs the bot's turn handler (createBot's), which commits turns`);
    if (event.kind) {
      const customer = await customerIdOf(this.connection, this.channel, event.sender);
      if (!customer) {
        this.log.warn({ channel: this.channel, event: event.id, kind: event.kind }, 'notice for a customer this server does not know: dropped');
        return true;
      }
      const outcome = await applyNotice(this.connection, this.channel, event, customer, { log: this.log, handoffMs: this.handoffMs, receivedAt: attempt.receivedAt ?? new Date() });
      if ('done' in outcome) return true;
      // A reaction that answers the question asked: the customer's message, as if they had typed it.
      const { kind: _kind, about: _about, emoji: _emoji, identity: _identity, ...message } = event;
      return OutboxAdapter.prototype.processEvent.call(this, { ...message, text: outcome.answer }, attempt);
    }
    // "Yes, that's it" to a voice note the bot was unsure of: what it heard, as if typed.
    if (event.payload === VOICE_CONFIRMED) event = await this.confirmedVoice(event);
    const eventKey = `${this.channel}:${event.id}`;
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
      channelData: {
        ...(event.attachments ? { attachments: event.attachments } : {}),
        ...(event.short ? { short: event.short } : {}),
        ...(event.content?.flowResponse ? { flowResponse: event.content.flowResponse } : {}),
        // A WhatsApp cart (catalog_id, product_items): the order flow starts with its lines.
        ...(event.content?.order ? { cart: event.content.order } : {}),
        // A shared location: a location ask keeps its coordinates.
        ...(event.content?.location ? { location: event.content.location } : {}),
        // A voice note not heard well enough to act on: the engine says what became of it.
        ...(event.voice ? { voice: { status: event.voice.status, transcript: event.voice.transcript ?? '' } } : {}),
      },
    };
    const context = new TurnContext(this, activity);
    context.turnState.set(OUTBOX, []);
    const info = turnInfo(context);
    const receivedAt = attempt.receivedAt ?? new Date();
    const content = { ...(event.content ?? {}), ...(event.attachments ? { attachments: event.attachments } : {}), ...(event.referral ? { referral: event.referral } : {}) };
    Object.assign(info, { event: eventKey, attempt: attempt.number, receivedAt, inboundId: derivedObjectId(eventKey, receivedAt), externalId: event.id, ...(Object.keys(content).length > 0 ? { content } : {}), ...(event.voice ? { voice: event.voice } : {}) });
    let journal: TurnJournal | undefined;
    // Taken once from the turn: by the journal, or on failure by the last try, which keeps it.
    let inbound: PendingRecord | undefined;
    const inboundOf = () => (inbound ??= takeInboundRecord(context));
    info.journal = () => {
      const activities = context.turnState.get(OUTBOX) as Partial<Activity>[];
      // A turn that erased the customer keeps none of its messages.
      if (info.forgotten) for (const a of activities) delete a.channelData?.taawunRecord;
      journal = { recipient: event.sender, activities, inbound: (info.forgotten ? undefined : inboundOf()) ?? null };
      return storedJournal(journal);
    };
    let ok = false;
    await this.runMiddleware(context, async (c) => {
      ok = await this.logic(c);
    });
    // Where they came from, whatever became of the turn (a replay sets the same).
    if (event.referral && info.customer && !info.forgotten) {
      await keepReferral(this.connection, this.channel, info.customer._id, event.referral, new Date(event.timestamp)).catch((err: Error) =>
        this.log.warn({ channel: this.channel, event: eventKey, err: err.message }, 'could not keep where the customer came from'),
      );
    }
    if (info.replayed !== undefined) {
      const left = await commits.turnAt(context, info.replayed);
      // Its version cleaned up long ago: that turn was finished then.
      if (!left) return true;
      return this.finish(context, eventKey, info.replayed, journalOf(left.journal), left.sent, attempt, true);
    }
    if (ok && info.committed !== undefined && journal) {
      faultPoint('turn-committed');
      return this.finish(context, eventKey, info.committed, journal, 0, attempt, false);
    }
    // Not committed (failed, out of time, or its conversation moved on): it runs again on the
    // next try. Nothing it said goes out but its apology (the first try's), and the customer's
    // message is kept once no try is left.
    const apology = (context.turnState.get(OUTBOX) as Partial<Activity>[]).filter((a) => a.channelData?.[APOLOGY_FLAG] === true);
    const kept = attempt.last && !info.forgotten ? inboundOf() : undefined;
    if (apology.length > 0 || kept) {
      await this.send(event.sender, apology, false, kept).catch((err: Error) => this.log.error({ channel: this.channel, event: eventKey, err: err.message }, 'could not tell the customer that their message failed'));
    }
    return false;
  }

  /** Where this channel fetches a voice note's audio (none: the channel has no voice notes). */
  voiceSource(_event: ChannelEvent): VoiceSource | undefined {
    return undefined;
  }

  /** The event with the transcript of the customer's last voice note the bot was unsure of, as their words. */
  private async confirmedVoice(event: ChannelEvent): Promise<ChannelEvent> {
    const customer = await customerIdOf(this.connection, this.channel, event.sender);
    const last = customer ? await messageModel(this.connection).findOne({ customer, direction: 'in', 'voice.status': 'unsure' }, { voice: 1 }).sort({ at: -1, _id: -1 }).lean() : null;
    const heard = last?.voice?.transcript?.trim();
    // Nothing to confirm (erased, or confirmed long ago): the button's title is the message.
    if (!heard) return { ...event, payload: undefined };
    return { ...event, text: heard, payload: undefined };
  }

  /**
   * Sends and stores what a committed turn left: all of it the first time; on a replay, only
   * what the stored messages and the version's count say did not go out yet.
   */
  private async finish(context: TurnContext, eventKey: string, v: number, journal: TurnJournal, sentBefore: number, attempt: Attempt, replay: boolean): Promise<boolean> {
    const records = [journal.inbound, ...journal.activities.map((a) => a.channelData?.taawunRecord as PendingRecord | undefined)].filter((r): r is PendingRecord => Boolean(r));
    const Message = messageModel(this.connection);
    if (replay && records.length > 0) {
      const stored = await Promise.all(records.map((r) => Message.exists({ _id: r._id })));
      // Stored after every message went out: a replay of a finished turn, or one whose done-mark was lost.
      if (stored.some(Boolean)) {
        for (const [i, record] of records.entries()) if (!stored[i]) await insertOnce(insertPlain(Message, [record]));
        this.unstored.delete(eventKey);
        return true;
      }
    }
    const delivered = this.unstored.get(eventKey);
    if (delivered) {
      await this.offerChoices(journal.recipient, delivered);
      await this.storeDelivery(journal.activities, sentMap(delivered), { status: 'sent', at: new Date() }, journal.inbound ?? undefined);
      this.unstored.delete(eventKey);
      return true;
    }
    const resume: Resume = {
      skip: sentBefore,
      sent: (count) =>
        this.logic.commits!.markSent(context, v, count).catch((err: Error) => this.log.warn({ channel: this.channel, event: eventKey, err: err.message }, 'could not note a sent message; a replay may send it again')),
    };
    await this.send(journal.recipient, journal.activities, false, journal.inbound ?? undefined, { attempt, resume, eventKey });
    // A turn that keeps no message (an erasure) has none to tell a replay that it went out.
    if (records.length === 0 && journal.activities.length > 0) await resume.sent?.(Number.MAX_SAFE_INTEGER);
    return true;
  }

  /** Keeps the numbered choices the replies offered, so that "2" taps one; a failure is logged, not the turn's. */
  private async offerChoices(recipient: string, delivered: Delivered[]): Promise<void> {
    const numbered = delivered.filter((d) => d.numbered).at(-1)?.numbered;
    if (!numbered) return;
    await setCustomerFieldsOf(this.connection, this.channel, recipient, { offeredChoices: numbered }).catch((err: Error) =>
      this.log.warn({ channel: this.channel, err: err.message }, 'could not keep the choices offered; a digit will be read as words'),
    );
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
   * Delivers and stores a turn's activities. `turn` (a committed turn of the inbox's): when
   * Meta cannot take them for now and another try comes, the error is thrown so the inbox
   * tries the event again, which sends the rest (the version counts what went out).
   */
  private async send(recipient: string, activities: Partial<Activity>[], proactive: boolean, inbound?: PendingRecord, turn?: { attempt: Attempt; resume: Resume; eventKey: string }): Promise<void> {
    // A reply inside the customer's own turn is in the window by definition; only a
    // proactive message needs the last time they wrote.
    let inWindow = !proactive;
    if (proactive) {
      const customer = await customerFieldsOf(this.connection, this.channel, recipient, ['lastSeenAt']);
      inWindow = Boolean(customer && Date.now() - customer.lastSeenAt.getTime() <= WINDOW_MS);
    }
    let delivered: Delivered[] = [];
    try {
      if (activities.length > 0) delivered = await this.deliver(recipient, activities, proactive, inWindow, turn?.resume ?? { skip: 0 });
    } catch (failure) {
      const err = failure instanceof PartlySentError ? failure.reason : (failure as Error);
      const permanent = (err instanceof GraphApiError && err.permanent) || err instanceof UnreachableError;
      const again = !permanent && turn && !turn.attempt.last;
      this.log.error({ channel: this.channel, event: turn?.eventKey, err: err.message, retried: Boolean(again), sentBefore: failure instanceof PartlySentError ? failure.sent : (turn?.resume.skip ?? 0) }, 'sending failed');
      if (again) {
        // What went out before the failure is not sent again.
        if (failure instanceof PartlySentError) await turn.resume.sent?.(failure.sent);
        throw err;
      }
      await this.storeDelivery(activities, new Map(), { status: 'failed', at: new Date(), error: err.message }, inbound);
      if (permanent) {
        const code = err instanceof UnreachableError ? err.code : ((err as GraphApiError).graphCode ?? (err as GraphApiError).status);
        await this.recordError(recipient, code, err.message);
        return;
      }
      throw err;
    }
    if (turn) {
      this.unstored.set(turn.eventKey, delivered);
      faultPoint('reply-sent');
    }
    // Before the messages are stored: a replay that finds them stored sends nothing, and so
    // would not offer the choices again ("3" read as words after a crash).
    await this.offerChoices(recipient, delivered);
    try {
      await this.storeDelivery(activities, sentMap(delivered), { status: 'sent', at: new Date() }, inbound);
    } catch (err) {
      // No try is left to store them: the error is the inbox's to keep.
      if (turn?.attempt.last) this.unstored.delete(turn.eventKey);
      throw err;
    }
    if (turn) {
      this.unstored.delete(turn.eventKey);
      faultPoint('messages-stored');
    }
  }

  /**
   * Stores the turn's messages with what became of them, in one insert: the customer's
   * message and the records that ride on the activities (storeOutbound gives every activity
   * sent through this adapter one). `sent` holds the messages the channel took, with its id
   * for them; when sending failed, all get `outcome`. Tried again a moment later when the
   * database fails; a record stored by an earlier try is kept once.
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
    if (inserts.length === 0) return;
    const Message = messageModel(this.connection);
    for (let attempt = 0; ; attempt += 1) {
      try {
        // First the references by which statuses, reactions and edits find them (their ids are
        // known already): a replay that finds the messages stored stops there.
        await keepMessageRefs(this.connection, inserts as PendingRecord[]);
        await insertPlainGrouped(Message, inserts);
        return;
      } catch (err) {
        // Some landed before the failure: the others one by one.
        if (isDuplicateKey(err) || (err as { writeErrors?: unknown[] }).writeErrors) {
          for (const doc of inserts) await insertOnce(insertPlain(Message, [doc]));
          return;
        }
        const wait = STORE_RETRY_MS[attempt];
        if (wait === undefined) throw err;
        this.log.warn({ channel: this.channel, err: (err as Error).message, retryInMs: wait }, 'could not store the messages of a turn; trying again');
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** A bare number answers the numbered choices last offered, when buttons could not carry them. */
  private async numberedChoice(event: ChannelEvent): Promise<string | undefined> {
    if (!/^\d{1,2}$/.test(event.text.trim())) return undefined;
    const customer = await customerFieldsOf(this.connection, this.channel, event.sender, ['offeredChoices']);
    return customer?.offeredChoices?.[Number(event.text.trim()) - 1]?.payload ?? undefined;
  }
}

// A sent message's states in the order they come; failed ends it.
const DELIVERY_ORDER = ['sent', 'delivered', 'read'];

/** The delivery states a report of `status` must not overwrite (it came late). */
export function laterThan(status: string): string[] {
  if (status === 'failed') return [];
  const i = DELIVERY_ORDER.indexOf(status);
  return i < 0 ? [] : [...DELIVERY_ORDER.slice(i + 1), 'failed'];
}

/** The stored message ids the channel took, with its id for each. */
function sentMap(delivered: Delivered[]): Map<string, string | null> {
  const sent = new Map<string, string | null>();
  for (const d of delivered) for (const id of d.messageIds) sent.set(id, d.externalId ?? null);
  return sent;
}
