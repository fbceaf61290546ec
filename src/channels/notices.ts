import type { Connection, Types } from 'mongoose';
import { customerModel } from '../db/models/customer';
import { messageModel } from '../db/models/message';
import { derivedObjectId } from '../db/derived-id';
import { insertOnce } from '../db/duplicate-key';
import { insertPlain } from '../db/plain-insert';
import type { Logger } from '../logger';
import { keepMessageRefs, messagesByExternalId } from '../history/message-refs';
import type { ChannelEvent, ChannelReferral } from './inbox';

/** What applying a notice came to: done (or dropped, logged), or a reaction that answers a question and is run as the customer's message. */
export type NoticeOutcome = { done: true } | { answer: string };

// Reactions that answer a rating question as a thumb would (the rating step reads 👍 and 👎).
const RATING_REACTIONS = new Set(['👍', '👎']);

/**
 * Applies a channel event that is not a message to answer, for a known customer: a reaction
 * kept on its message (a 👍 or 👎 to a rating question is that question's answer), an edit
 * (the earlier wording kept), a deletion (marked), a message a person of the cooperative sent
 * from the WhatsApp Business app (kept as staff's; the bot pauses as in a handoff). Each is
 * idempotent: a replayed event changes nothing more. What names an unknown message is a logged drop.
 */
export async function applyNotice(
  connection: Connection,
  channel: string,
  event: ChannelEvent,
  customer: Types.ObjectId,
  options: { log: Logger; handoffMs: number; receivedAt: Date },
): Promise<NoticeOutcome> {
  const Message = messageModel(connection);
  const log = options.log;
  const about = async () => {
    if (!event.about) return null;
    const fields = { _id: 1, text: 1, direction: 1, flow: 1, step: 1, at: 1, edits: 1, customer: 1 };
    const ref = await messagesByExternalId(connection, channel, event.about);
    // The last of the messages it carried (a question's buttons ride on the last); one stored
    // before references were kept is looked for the slow way (a scan on FerretDB).
    const found = ref ? await Message.findById(ref.messages.at(-1), fields).lean() : await Message.findOne({ channel, externalId: event.about, customer }, fields).sort({ at: -1, _id: -1 }).lean();
    const target = found?.customer.equals(customer) ? found : null;
    if (!target) log.warn({ channel, event: event.id, kind: event.kind, about: event.about }, 'notice about a message this server does not know: dropped');
    return target;
  };
  switch (event.kind) {
    case 'reaction': {
      const target = await about();
      if (!target) return { done: true };
      await Message.updateOne({ _id: target._id }, event.emoji ? { $set: { reaction: { emoji: event.emoji, at: new Date(event.timestamp) } } } : { $unset: { reaction: 1 } });
      // A thumb on the rating question the bot asked last is its answer.
      const emoji = (event.emoji ?? '').replace(/[\u{1F3FB}-\u{1F3FF}\uFE0F]/gu, '');
      if (RATING_REACTIONS.has(emoji) && target.direction === 'out' && target.flow === 'satisfaction' && target.step?.startsWith('score')) {
        const later = await Message.exists({ customer, direction: 'out', at: { $gt: target.at } });
        if (!later) return { answer: emoji };
      }
      return { done: true };
    }
    case 'edit': {
      const target = await about();
      // Applied once: each kept wording names the edit that replaced it, and a replay (after a
      // crash, several in a row) finds its own name there.
      // (Read here, not in the update's filter: FerretDB 1.24 matches $ne on an array's field as MongoDB does not.)
      if (target && target.text !== event.text && !target.edits?.some((e) => e.event === event.id)) {
        await Message.updateOne({ _id: target._id }, { $set: { text: event.text }, $push: { edits: { text: target.text, at: new Date(event.timestamp), event: event.id } } });
      }
      return { done: true };
    }
    case 'delete': {
      const target = await about();
      if (target) await Message.updateOne({ _id: target._id, deletedAt: { $exists: false } }, { $set: { deletedAt: new Date(event.timestamp) } });
      return { done: true };
    }
    case 'echo': {
      const at = new Date(event.timestamp);
      const eventKey = `${channel}:${event.id}`;
      const id = derivedObjectId(eventKey, options.receivedAt);
      await insertOnce(insertPlain(Message, [{ _id: id, customer, channel, direction: 'out', text: event.text, externalId: event.id, staff: true, flow: 'staff', delivery: { status: 'sent', at }, at }]));
      await keepMessageRefs(connection, [{ _id: id, customer, channel, externalId: event.id, at }]);
      const until = new Date(Math.max(Date.now(), at.getTime()) + options.handoffMs);
      // A person answers from the Business app: the bot keeps quiet for this customer, as in a handoff.
      await customerModel(connection).updateOne({ _id: customer }, { $set: { handoff: { since: at, until, reason: 'business_app' }, fallbacks: 0 } });
      log.info({ channel, customer: String(customer) }, 'a person answered from the WhatsApp Business app: the bot pauses for this customer');
      return { done: true };
    }
    default:
      return { done: true };
  }
}

/** Keeps a referral on the customer: the first as where they came from, the latest beside it. */
export async function keepReferral(connection: Connection, channel: string, customer: Types.ObjectId, referral: ChannelReferral, at: Date): Promise<void> {
  const kept = { ...referral, channel, at };
  const Customer = customerModel(connection);
  await Customer.updateOne({ _id: customer, origin: { $exists: false } }, { $set: { origin: kept } });
  await Customer.updateOne({ _id: customer }, { $set: { lastReferral: kept } });
}
