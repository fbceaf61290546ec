import type { Connection } from 'mongoose';
import { customerModel } from '../../db/models/customer';
import { recentMessages } from '../../history/messages';
import type { QuickReply } from '../../bot/quick-replies';
import type { OutboundFrame } from './frames';

const HISTORY_ON_CONNECT = 50;

/** The last messages of a web visitor, sent when a tab connects so a reopened chat shows its past. */
export async function historyFrame(connection: Connection, user: string): Promise<OutboundFrame> {
  // Looked up, not created: a customer exists from their first message, not from a page view.
  const customer = await customerModel(connection).findOne({ channel: 'web', externalId: user }, { _id: 1 }).lean();
  const messages = customer ? await recentMessages(connection, customer._id, HISTORY_ON_CONNECT) : [];
  return {
    type: 'history',
    messages: messages.map((m) => {
      const quickReplies = (m.payload as { quick_replies?: QuickReply[] } | undefined)?.quick_replies;
      return { direction: m.direction as 'in' | 'out', text: m.text ?? '', ...(quickReplies ? { quick_replies: quickReplies } : {}), at: m.at.toISOString() };
    }),
  };
}
