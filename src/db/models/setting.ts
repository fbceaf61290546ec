import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey } from '../duplicate-key';

/** A named value the server generates once and keeps, such as the web chat signing secret. */
export interface SettingDoc {
  _id: string;
  value: string;
  createdAt: Date;
}

const settingSchema = new Schema<SettingDoc>(
  {
    _id: { type: String, required: true },
    value: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'settings', versionKey: false },
);

/** The settings model bound to a connection. */
export function settingModel(connection: Connection): Model<SettingDoc> {
  return (connection.models.Setting as Model<SettingDoc>) ?? connection.model('Setting', settingSchema);
}

/** Returns the stored value for a key, storing `create()` first if there is none; concurrent callers agree. */
export async function settingOnce(connection: Connection, key: string, create: () => string): Promise<string> {
  const Setting = settingModel(connection);
  try {
    const doc = await Setting.findOneAndUpdate(
      { _id: key },
      { $setOnInsert: { value: create(), createdAt: new Date() } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    if (doc) return doc.value;
  } catch (err) {
    // Two processes upserting the same new key: one wins, the other reads the winner.
    if (!isDuplicateKey(err)) throw err;
  }
  const doc = await Setting.findById(key).lean();
  if (!doc) throw new Error(`setting "${key}" could not be stored`);
  return doc.value;
}
