import type { Connection, Types } from 'mongoose';
import { insertOnce, isDuplicateKey } from '../db/duplicate-key';
import { messageRefModel } from '../db/models/message-ref';
import { insertPlain, insertPlainGrouped } from '../db/plain-insert';

/** A stored message as a reference needs it. */
interface Referenced {
  _id: Types.ObjectId;
  customer: Types.ObjectId;
  channel: string;
  externalId?: string | null;
  at?: Date;
}

/** Keeps a reference for each platform id the messages have (one for the messages a platform message carried); one a replay stored before is kept once. */
export async function keepMessageRefs(connection: Connection, messages: Referenced[]): Promise<void> {
  const byKey = new Map<string, { _id: string; messages: Types.ObjectId[]; customer: Types.ObjectId; at: Date }>();
  for (const m of messages) {
    if (!m.externalId) continue;
    const key = `${m.channel}:${m.externalId}`;
    const ref = byKey.get(key) ?? { _id: key, messages: [], customer: m.customer, at: m.at ?? new Date() };
    ref.messages.push(m._id);
    byKey.set(key, ref);
  }
  const refs = [...byKey.values()];
  if (refs.length === 0) return;
  const Ref = messageRefModel(connection);
  try {
    await insertPlainGrouped(Ref, refs);
  } catch (err) {
    if (!isDuplicateKey(err) && !(err as { writeErrors?: unknown[] }).writeErrors) throw err;
    for (const ref of refs) await insertOnce(insertPlain(Ref, [ref]));
  }
}

/** The stored messages (and their customer) the platform knows by `externalId`; null when none is known. */
export async function messagesByExternalId(connection: Connection, channel: string, externalId: string): Promise<{ messages: Types.ObjectId[]; customer: Types.ObjectId } | null> {
  return messageRefModel(connection).findById(`${channel}:${externalId}`, { messages: 1, customer: 1 }).lean();
}
