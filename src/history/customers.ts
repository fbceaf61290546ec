import type { Connection, Types } from 'mongoose';
import { customerModel, type CustomerDoc } from '../db/models/customer';

export type Customer = CustomerDoc & { _id: Types.ObjectId };
const DUPLICATE_KEY = 11000;

/**
 * Finds the customer behind a channel identity, creating them on their first message,
 * and marks them seen now. One atomic upsert; a concurrent first message that loses the
 * unique-index race reads the winner's document.
 */
export async function touchCustomer(connection: Connection, channel: string, externalId: string, now = new Date()): Promise<Customer> {
  const Customer = customerModel(connection);
  const upsert = () =>
    Customer.findOneAndUpdate(
      { channel, externalId },
      { $set: { lastSeenAt: now }, $setOnInsert: { firstSeenAt: now, tags: [] } },
      { upsert: true, returnDocument: 'after', setDefaultsOnInsert: false },
    ).lean<Customer>();
  try {
    const doc = await upsert();
    if (doc) return doc;
  } catch (err) {
    if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
  }
  const doc = await upsert();
  if (!doc) throw new Error(`customer ${channel}:${externalId} could not be stored`);
  return doc;
}

/** Sets profile fields that a conversation learned (name, phone, language). */
export async function updateCustomerProfile(
  connection: Connection,
  id: Types.ObjectId,
  fields: Partial<Pick<CustomerDoc, 'name' | 'phone' | 'language' | 'languageChosen'>>,
): Promise<void> {
  await customerModel(connection).updateOne({ _id: id }, { $set: fields });
}
