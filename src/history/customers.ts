import { Types, type Connection } from 'mongoose';
import { customerIdModel, customerModel, type CustomerDoc } from '../db/models/customer';
import { insertOnce, isDuplicateKey } from '../db/duplicate-key';
import { insertPlain } from '../db/plain-insert';

export type Customer = CustomerDoc & { _id: Types.ObjectId };

// How stale `lastSeenAt` may be: within a conversation it is written once a minute, not once a
// message (what reads it, Meta's 24-hour window and the rating requests' quiet time, counts in minutes or more).
const SEEN_EVERY_MS = 60_000;

/**
 * Finds the customer behind a channel identity, creating them on their first message,
 * and marks them seen now (to the minute). An identity seen here before is one _id read (and
 * a write a minute), a known one two (FerretDB scans for anything else); a first message
 * inserts, and the unique (channel, externalId) index sends a concurrent first message that
 * loses the race to the winner's document.
 */
export async function touchCustomer(connection: Connection, channel: string, externalId: string, now = new Date()): Promise<Customer> {
  const Customer = customerModel(connection);
  const Ids = customerIdModel(connection);
  const key = `${channel}:${externalId}`;
  const ids = knownIds(connection);
  const id = await customerIdOf(connection, channel, externalId);
  if (id) {
    // Through the driver: every message reads it (mongoose's query costs more than the read).
    const doc = await Customer.collection.findOne<Customer>({ _id: id });
    if (doc) {
      if (now.getTime() - doc.lastSeenAt.getTime() >= SEEN_EVERY_MS) {
        await Customer.updateOne({ _id: id }, { $set: { lastSeenAt: now } });
        doc.lastSeenAt = now;
      }
      return remember(ids, key, doc);
    }
    // Erased (here or by another process): found or created again below.
    ids.delete(key);
  }
  const upsert = () =>
    Customer.findOneAndUpdate(
      { channel, externalId },
      { $set: { lastSeenAt: now }, $setOnInsert: { firstSeenAt: now, tags: [] } },
      { upsert: true, returnDocument: 'after', setDefaultsOnInsert: false },
    ).lean<Customer>();
  // A new identity is inserted at once: an upsert by (channel, externalId) would read every
  // customer on FerretDB. The unique index refuses the insert when the customer exists after
  // all (a concurrent first message, or one stored before customer_ids), found by the upsert.
  let doc: Customer | null = null;
  const inserting = insertPlain(Customer, [{ channel, externalId, tags: [], firstSeenAt: now, lastSeenAt: now }]);
  if (await insertOnce(inserting)) doc = (await inserting)[0] as unknown as Customer;
  for (let attempt = 0; !doc && attempt < 2; attempt += 1) {
    try {
      doc = await upsert();
    } catch (err) {
      // Two upserts raced to insert: the second attempt finds the winner's document.
      if (!isDuplicateKey(err)) throw err;
    }
  }
  if (!doc) throw new Error(`customer ${key} could not be stored`);
  await Ids.updateOne({ _id: key }, { $set: { customer: doc._id } }, { upsert: true }).catch((err: { code?: number }) => {
    if (!isDuplicateKey(err)) throw err;
  });
  return remember(ids, key, doc);
}

// Identities this process has seen, to their customer's _id: one query a message instead of two.
const MAX_KNOWN_IDS = 100_000;
const knownIdsByConnection = new WeakMap<Connection, Map<string, Types.ObjectId>>();

function knownIds(connection: Connection): Map<string, Types.ObjectId> {
  let ids = knownIdsByConnection.get(connection);
  if (!ids) knownIdsByConnection.set(connection, (ids = new Map()));
  return ids;
}

function remember(ids: Map<string, Types.ObjectId>, key: string, doc: Customer): Customer {
  // The oldest entry goes first when full (a Map iterates in insertion order).
  if (ids.size >= MAX_KNOWN_IDS) ids.delete(ids.keys().next().value!);
  ids.set(key, doc._id);
  return doc;
}

/**
 * The `_id` of the customer behind a channel identity, or null when there is none: a
 * filter FerretDB answers without reading every customer, unlike (channel, externalId).
 */
export async function customerIdOf(connection: Connection, channel: string, externalId: string): Promise<Types.ObjectId | null> {
  const key = `${channel}:${externalId}`;
  const remembered = knownIds(connection).get(key);
  if (remembered) return remembered;
  const known = await customerIdModel(connection).findById(key).lean();
  return known?.customer ?? null;
}

/** Some fields of the customer behind a channel identity, read by `_id`; null when there is none. */
export async function customerFieldsOf<K extends keyof CustomerDoc>(connection: Connection, channel: string, externalId: string, fields: K[]): Promise<Pick<CustomerDoc, K> | null> {
  const id = await customerIdOf(connection, channel, externalId);
  if (!id) return null;
  return customerModel(connection)
    .findById(id, Object.fromEntries(fields.map((f) => [f, 1])))
    .lean<Pick<CustomerDoc, K>>();
}

/** Sets fields on the customer behind a channel identity, by `_id`; nothing when there is none. */
export async function setCustomerFieldsOf(connection: Connection, channel: string, externalId: string, fields: { [K in keyof CustomerDoc]?: unknown }): Promise<void> {
  const id = await customerIdOf(connection, channel, externalId);
  if (id) await customerModel(connection).updateOne({ _id: id }, { $set: fields });
}

/** Sets profile fields that a conversation learned (name, phone, language). */
export async function updateCustomerProfile(
  connection: Connection,
  id: Types.ObjectId,
  fields: Partial<Pick<CustomerDoc, 'name' | 'phone' | 'city' | 'address' | 'language' | 'languageChosen'>>,
): Promise<void> {
  await customerModel(connection).updateOne({ _id: id }, { $set: fields });
}

/**
 * Points a channel identity ("whatsapp:<BSUID>") at a customer: in customer_ids and in this
 * process's memory. `replace` takes it from whoever had it (a phone now someone else's);
 * without it an identity already linked elsewhere is left, and false returned.
 */
export async function linkIdentity(connection: Connection, channel: string, externalId: string, customer: Types.ObjectId, options: { replace?: boolean } = {}): Promise<boolean> {
  const key = `${channel}:${externalId}`;
  const Ids = customerIdModel(connection);
  if (options.replace) await Ids.updateOne({ _id: key }, { $set: { customer } }, { upsert: true });
  else if (!(await insertOnce(insertPlain(Ids, [{ _id: key, customer }])))) {
    const known = await Ids.findById(key).lean();
    if (!known?.customer.equals(customer)) return false;
  }
  remember(knownIds(connection), key, { _id: customer } as Customer);
  return true;
}

/** Takes a channel identity away from its customer (a number they left), here and in this process's memory. */
export async function unlinkIdentity(connection: Connection, channel: string, externalId: string): Promise<void> {
  const key = `${channel}:${externalId}`;
  await customerIdModel(connection).deleteOne({ _id: key });
  knownIds(connection).delete(key);
}

const forgetListeners = new WeakMap<Connection, Set<(customer: Types.ObjectId) => void>>();

/** Calls `listener` whenever a customer's identities are forgotten (what a channel keeps of them in memory goes too). */
export function onIdentitiesForgotten(connection: Connection, listener: (customer: Types.ObjectId) => void): void {
  let set = forgetListeners.get(connection);
  if (!set) forgetListeners.set(connection, (set = new Set()));
  set.add(listener);
}

/** Forgets every identity of a customer that this process remembers (an erasure, a move). */
export function forgetIdentitiesOf(connection: Connection, customer: Types.ObjectId): void {
  const ids = knownIds(connection);
  for (const [key, id] of ids) if (id.equals(customer)) ids.delete(key);
  for (const listener of forgetListeners.get(connection) ?? []) listener(customer);
}
