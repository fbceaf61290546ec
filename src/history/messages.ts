import type { VoiceNote } from '../voice/voice-notes';
import type { Connection, Types } from 'mongoose';
import { messageModel, type MessageDoc } from '../db/models/message';
import { insertPlain } from '../db/plain-insert';

/** What is known of a message when it is stored; understanding and flows add the rest later. */
export interface MessageRecord {
  customer: Types.ObjectId;
  channel: string;
  direction: 'in' | 'out';
  text: string;
  payload?: unknown;
  language?: string | null;
  intent?: string | null;
  product?: string | null;
  confidence?: number | null;
  flow?: string | null;
  step?: string | null;
  at?: Date;
  /** The platform's id (an inbound message's wamid or mid: reactions and edits find it by it). */
  externalId?: string | null;
  content?: Record<string, unknown>;
  staff?: boolean;
  voice?: VoiceNote;
}

/** Stores one message and returns its id. */
export async function recordMessage(connection: Connection, record: MessageRecord): Promise<Types.ObjectId> {
  const [doc] = await insertPlain(messageModel(connection), [{ ...record, at: record.at ?? new Date() }]);
  return doc!._id;
}

/** A customer's messages, oldest first. */
export async function listMessages(
  connection: Connection,
  customer: Types.ObjectId,
  page: { limit: number; offset: number },
): Promise<{ items: MessageDoc[]; total: number }> {
  const Message = messageModel(connection);
  const [items, total] = await Promise.all([
    Message.find({ customer }).sort({ at: 1, _id: 1 }).skip(page.offset).limit(page.limit).lean<MessageDoc[]>(),
    Message.countDocuments({ customer }),
  ]);
  return { items, total };
}

/** The last `limit` messages of a customer, oldest first: what a reopened chat shows. */
export async function recentMessages(connection: Connection, customer: Types.ObjectId, limit: number): Promise<MessageDoc[]> {
  const newestFirst = await messageModel(connection).find({ customer }).sort({ at: -1, _id: -1 }).limit(limit).lean<MessageDoc[]>();
  return newestFirst.reverse();
}
