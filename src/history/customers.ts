import type { Connection, Types } from 'mongoose';
import { customerIdModel, customerModel, type CustomerDoc } from '../db/models/customer';
import { isDuplicateKey } from '../db/duplicate-key';

export type Customer = CustomerDoc & { _id: Types.ObjectId };

/**
 * Finds the customer behind a channel identity, creating them on their first message,
 * and marks them seen now. A known identity is two direct _id operations (FerretDB scans
 * for anything else); a first message upserts on the unique (channel, externalId) index,
 * where a concurrent first message that loses the race reads the winner's document.
 */
export async function touchCustomer(connection: Connection, channel: string, externalId: string, now = new Date()): Promise<Customer> {
  const Customer = customerModel(connection);
  const Ids = customerIdModel(connection);
  const key = `${channel}:${externalId}`;
  const known = await Ids.findById(key).lean();
  if (known) {
    const doc = await Customer.findOneAndUpdate({ _id: known.customer }, { $set: { lastSeenAt: now } }, { returnDocument: 'after' }).lean<Customer>();
    if (doc) return doc;
  }
  const upsert = () =>
    Customer.findOneAndUpdate(
      { channel, externalId },
      { $set: { lastSeenAt: now }, $setOnInsert: { firstSeenAt: now, tags: [] } },
      { upsert: true, returnDocument: 'after', setDefaultsOnInsert: false },
    ).lean<Customer>();
  let doc: Customer | null = null;
  try {
    doc = await upsert();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  doc ??= await upsert();
  if (!doc) throw new Error(`customer ${key} could not be stored`);
  await Ids.updateOne({ _id: key }, { $set: { customer: doc._id } }, { upsert: true }).catch((err: { code?: number }) => {
    if (!isDuplicateKey(err)) throw err;
  });
  return doc;
}

/** Sets profile fields that a conversation learned (name, phone, language). */
export async function updateCustomerProfile(
  connection: Connection,
  id: Types.ObjectId,
  fields: Partial<Pick<CustomerDoc, 'name' | 'phone' | 'city' | 'address' | 'language' | 'languageChosen'>>,
): Promise<void> {
  await customerModel(connection).updateOne({ _id: id }, { $set: fields });
}
