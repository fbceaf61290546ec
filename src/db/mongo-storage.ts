import { randomUUID } from 'node:crypto';
import type { Storage, StoreItems } from 'botbuilder';
import type { Connection, Model } from 'mongoose';
import { ETagConflictError } from '../errors';
import { dialogStateModel, type DialogStateDoc } from './models/dialog-state';

const DUPLICATE_KEY = 11000;

/**
 * botbuilder's Storage on MongoDB, so dialog state survives a restart. Writes honour
 * eTags the way MemoryStorage does: no eTag or "*" writes unconditionally; any other
 * eTag writes only if it is still the stored one, else ETagConflictError.
 */
export class MongoStorage implements Storage {
  private readonly model: Model<DialogStateDoc>;

  constructor(connection: Connection) {
    this.model = dialogStateModel(connection);
  }

  /** Reads the items that exist among `keys`; missing keys are absent from the result. */
  async read(keys: string[]): Promise<StoreItems> {
    if (keys.length === 0) return {};
    const docs = await this.model.find({ _id: { $in: keys } }).lean();
    const items: StoreItems = {};
    for (const doc of docs) items[doc._id] = { ...JSON.parse(doc.item), eTag: doc.eTag };
    return items;
  }

  /** Writes each item, checking its eTag; throws ETagConflictError for the first stale one. */
  async write(changes: StoreItems): Promise<void> {
    for (const [key, change] of Object.entries(changes)) {
      const { eTag, ...rest } = (change ?? {}) as { eTag?: string };
      const next = { eTag: randomUUID(), item: JSON.stringify(rest), updatedAt: new Date() };
      if (!eTag || eTag === '*') {
        await this.model.updateOne({ _id: key }, { $set: next }, { upsert: true });
        continue;
      }
      // Conditional on the eTag the writer read: one atomic single-document update.
      const result = await this.model.updateOne({ _id: key, eTag }, { $set: next });
      if (result.matchedCount === 1) continue;
      // No match: either the item was changed since it was read, or it does not exist yet.
      try {
        const exists = await this.model.exists({ _id: key });
        if (exists) throw new ETagConflictError(key);
        await this.model.create({ _id: key, ...next });
      } catch (err) {
        if ((err as { code?: number }).code === DUPLICATE_KEY) throw new ETagConflictError(key);
        throw err;
      }
    }
  }

  /** Deletes the items; deleting a missing key is not an error. */
  async delete(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.model.deleteMany({ _id: { $in: keys } });
  }
}
