import type { Connection, Types } from 'mongoose';
import { customerIdModel, customerModel } from '../db/models/customer';
import { dialogStateModel } from '../db/models/dialog-state';
import { forgetConversations } from '../db/mongo-storage';
import { lidChat, phoneChat } from '../channels/whatsapp-web/web-ids';
import { forgetIdentitiesOf } from '../history/customers';
import { messageModel } from '../db/models/message';
import { messageRefModel } from '../db/models/message-ref';
import { orderModel } from '../db/models/order';
import { ratingModel } from '../db/models/rating';
import { ratingRequestModel } from '../db/models/rating-request';
import { stockAlertModel } from '../db/models/stock-alert';
import { suggestionModel } from '../db/models/suggestion';
import { unansweredModel } from '../db/models/unanswered';

/** Everything kept about one customer, for an export (law 09-08: a customer may take their data). */
export async function exportCustomer(connection: Connection, id: Types.ObjectId): Promise<Record<string, unknown> | undefined> {
  const customer = await customerModel(connection).findById(id).lean();
  if (!customer) return undefined;
  const [messages, orders, ratings, suggestions, unanswered] = await Promise.all([
    messageModel(connection).find({ customer: id }).sort({ at: 1, _id: 1 }).lean(),
    orderModel(connection).find({ customer: id }).sort({ createdAt: 1 }).lean(),
    ratingModel(connection).find({ customer: id }).sort({ answeredAt: 1 }).lean(),
    suggestionModel(connection).find({ customer: id }).lean(),
    unansweredModel(connection).find({ customer: id }).lean(),
  ]);
  return { exportedAt: new Date(), customer, messages, orders, ratings, suggestions, unansweredQuestions: unanswered };
}

/**
 * Erases a customer: their messages, profile and everything said in their words go;
 * their orders stay for the accounts, with name, phone and address removed. Returns
 * what was removed, for the log.
 */
export async function eraseCustomer(
  connection: Connection,
  id: Types.ObjectId,
  forgetDigestDay: (instant: Date) => Promise<void>,
  /** Deletes the channel's archived webhook events of these senders (the inbox's, on its own database). */
  forgetEvents?: (channel: string, senders: string[]) => Promise<number>,
  /** Deletes the voice notes' audio files of these senders (src/voice). */
  forgetVoiceFiles?: (channel: string, senders: string[]) => Promise<number>,
): Promise<Record<string, number>> {
  const customer = await customerModel(connection).findById(id, { channel: 1, externalId: 1, whatsapp: 1 }).lean();
  if (!customer) return {};
  // Every id the channel knew them by: their events in the inbox's archive are filed under them.
  const w = customer.whatsapp;
  const phones = [...(w?.phone ? [w.phone] : []), ...(w?.formerPhones ?? [])];
  // WhatsApp Web files events under chat ids ("…@c.us", "…@lid"), WhatsApp Cloud under the bare ids.
  const web = customer.channel === 'whatsapp-web';
  const ids = web ? [...phones.map(phoneChat), ...(w?.lid ? [lidChat(w.lid)] : [])] : [...phones, ...(w?.bsuid ? [w.bsuid] : [])];
  const senders = [...new Set([customer.externalId, ...ids])];
  // The digest's kept days quote comments, suggestions and questions: those days are summed again without them.
  const quoted = await Promise.all([
    ratingModel(connection).find({ customer: id, comment: { $ne: null } }, { answeredAt: 1 }).lean(),
    suggestionModel(connection).find({ customer: id }, { at: 1 }).lean(),
    unansweredModel(connection).find({ customer: id }, { at: 1 }).lean(),
  ]);
  const instants = [...quoted[0].map((r) => r.answeredAt), ...quoted[1].map((s) => s.at), ...quoted[2].map((u) => u.at)];
  const removed: Record<string, number> = {};
  const count = async (name: string, work: Promise<{ deletedCount?: number; modifiedCount?: number }>) => {
    const result = await work;
    removed[name] = result.deletedCount ?? result.modifiedCount ?? 0;
  };
  await count('messages', messageModel(connection).deleteMany({ customer: id }));
  await count('messageRefs', messageRefModel(connection).deleteMany({ customer: id }));
  await count('unanswered', unansweredModel(connection).deleteMany({ customer: id }));
  await count('suggestions', suggestionModel(connection).deleteMany({ customer: id }));
  await count('ratingRequests', ratingRequestModel(connection).deleteMany({ customer: id }));
  await count('stockAlerts', stockAlertModel(connection).deleteMany({ customer: id }));
  // Ratings count in the digest; their comments are the customer's words.
  await count('ratingComments', ratingModel(connection).updateMany({ customer: id }, { $set: { comment: null } }));
  await count('ordersAnonymised', orderModel(connection).updateMany({ customer: id }, { $set: { name: null, phone: '', 'delivery.address': '', 'delivery.city': '' } }));
  // The saved dialogs hold answers (name, phone, address); the turn that erases saves an empty one after.
  // Botkit's key is "<channel>/conversations/<the conversation's fields>-<user id>/": this
  // customer's id ends it (merely containing it would take other customers' dialogs too).
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const key = `^${escape(customer.channel)}/conversations/(.*-)?${escape(customer.externalId)}/$`;
  await count('dialogVersions', dialogStateModel(connection).deleteMany({ key: { $regex: key } }));
  forgetConversations(connection, (k) => new RegExp(key).test(k));
  // Every id the customer was known by (WhatsApp: phone and BSUID or @lid), here and in this process's memory.
  await customerIdModel(connection).deleteOne({ _id: `${customer.channel}:${customer.externalId}` });
  await count('identities', customerIdModel(connection).deleteMany({ customer: id }));
  forgetIdentitiesOf(connection, id);
  await count('profile', customerModel(connection).deleteOne({ _id: id }));
  if (forgetEvents) removed.webhookEvents = await forgetEvents(customer.channel, senders);
  if (forgetVoiceFiles) removed.voiceFiles = await forgetVoiceFiles(customer.channel, senders);
  for (const instant of instants) await forgetDigestDay(instant);
  removed.digestDays = instants.length;
  return removed;
}
