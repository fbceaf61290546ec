import { Types, type Collection, type Schema } from 'mongoose';
import { GroupedInserts } from './grouped-insert';

/** What of a model a plain insert needs: its schema's defaults and its collection. */
interface Target {
  schema: Schema;
  collection: Collection;
}

// The schema's constant defaults per model, worked out once.
const defaultsByModel = new WeakMap<object, Record<string, unknown>>();

function constantDefaults(model: Target): Record<string, unknown> {
  let defaults = defaultsByModel.get(model);
  if (!defaults) {
    defaults = {};
    for (const [path, type] of Object.entries(model.schema.paths)) {
      const value = (type as { defaultValue?: unknown }).defaultValue;
      // Top-level constants only (null, strings, numbers); _id and computed defaults are the caller's.
      if (path !== '_id' && !path.includes('.') && value !== undefined && typeof value !== 'function' && (value === null || typeof value !== 'object')) defaults[path] = value;
    }
    defaultsByModel.set(model, defaults);
  }
  return defaults;
}

/**
 * Inserts documents the code builds itself through the driver, with the schema's constant
 * defaults, skipping mongoose's per-document casting and validation. For the writes of every
 * message (about a millisecond of CPU each through mongoose documents on this machine);
 * the caller gives values of the schema's types. Returns the documents as stored, with
 * their `_id` (an ObjectId unless the document brought its own) and the defaults.
 */
export async function insertPlain(model: Target, docs: object[]): Promise<Array<Record<string, unknown> & { _id: Types.ObjectId }>> {
  const full = withDefaults(model, docs);
  if (full.length === 1) await model.collection.insertOne(full[0]!);
  else if (full.length > 1) await model.collection.insertMany(full);
  return full as Array<Record<string, unknown> & { _id: Types.ObjectId }>;
}

const groups = new WeakMap<object, GroupedInserts>();

/**
 * insertPlain for the writes of every turn (a conversation version, a turn's messages, a
 * webhook's event): inserts asked for at the same moment go in one command (GroupedInserts).
 * A duplicate `_id` rejects with code 11000, the caller's other documents being stored.
 */
export async function insertPlainGrouped(model: Target, docs: object[]): Promise<Array<Record<string, unknown> & { _id: Types.ObjectId }>> {
  const full = withDefaults(model, docs);
  let group = groups.get(model.collection);
  if (!group) groups.set(model.collection, (group = new GroupedInserts(model.collection)));
  await group.insert(full);
  return full as Array<Record<string, unknown> & { _id: Types.ObjectId }>;
}

function withDefaults(model: Target, docs: object[]): Record<string, unknown>[] {
  const defaults = constantDefaults(model);
  // Like mongoose, an undefined field is left out (the driver would store null).
  return docs.map((doc) => Object.fromEntries(Object.entries({ ...defaults, _id: new Types.ObjectId(), ...doc }).filter(([, v]) => v !== undefined)));
}
