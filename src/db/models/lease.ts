import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey } from '../duplicate-key';

/** A short lease on a name (a customer's inbox, a scheduled job) held by one process at a time. */
export interface LeaseDoc {
  _id: string;
  holder: string;
  expiresAt: Date;
}

const leaseSchema = new Schema<LeaseDoc>(
  {
    _id: { type: String, required: true },
    holder: { type: String, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'leases', versionKey: false },
);

/** The leases model bound to a connection. */
export function leaseModel(connection: Connection): Model<LeaseDoc> {
  return (connection.models.Lease as Model<LeaseDoc>) ?? connection.model('Lease', leaseSchema);
}

/**
 * Takes the lease on `name` for `ms`, or says it is held. Decided by inserting `_id`, the
 * one write FerretDB 1.24 and MongoDB both make atomic; an expired lease is removed first.
 */
export async function takeLease(connection: Connection, name: string, holder: string, ms: number): Promise<boolean> {
  const Lease = leaseModel(connection);
  const insert = async () => {
    try {
      await Lease.create({ _id: name, holder, expiresAt: new Date(Date.now() + ms) });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  };
  if (await insert()) return true;
  // Held: by a live holder, or left by one that died. Only an expired lease is taken over.
  const removed = await Lease.deleteOne({ _id: name, expiresAt: { $lt: new Date() } });
  return removed.deletedCount === 1 && (await insert());
}

/** Extends a lease this holder still has by `ms` from now; false when it was lost (expired and taken). */
export async function renewLease(connection: Connection, name: string, holder: string, ms: number): Promise<boolean> {
  const renewed = await leaseModel(connection).updateOne({ _id: name, holder }, { $set: { expiresAt: new Date(Date.now() + ms) } });
  return renewed.matchedCount === 1;
}

/** Gives the lease back, if this holder still has it. */
export async function releaseLease(connection: Connection, name: string, holder: string): Promise<void> {
  await leaseModel(connection).deleteOne({ _id: name, holder });
}
