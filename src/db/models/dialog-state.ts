import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One version of a botbuilder storage item. Items are versioned, not updated in place:
 * a write inserts version v+1 with `_id` "<key>#<v+1>", so the unique `_id` decides which
 * of two concurrent writers wins. FerretDB 1.24 (SQLite) does not apply a conditional
 * update atomically, but it does enforce `_id` uniqueness.
 */
export interface DialogStateDoc {
  _id: string;
  key: string;
  v: number;
  // A JSON string: botbuilder keys may hold "$" or "." that BSON field names refuse. Null marks a deletion.
  item: string | null;
  updatedAt: Date;
  /**
   * The inbox events applied by this version and the ones before it ("<hash of the
   * event>@<version>", the latest few), so a replayed event is known for one already applied.
   */
  applied?: string[];
  /** The turn that wrote this version, as EJSON (its replies and message records), for a replay to finish. */
  turn?: string | null;
  /** How many of that turn's messages went out: a replay sends only the rest. */
  sent?: number;
}

const dialogStateSchema = new Schema<DialogStateDoc>(
  {
    _id: { type: String, required: true },
    key: { type: String, required: true },
    v: { type: Number, required: true },
    item: { type: String, default: null },
    updatedAt: { type: Date, required: true },
    applied: { type: [String], default: undefined },
    turn: { type: String, default: null },
    sent: { type: Number, default: 0 },
  },
  { collection: 'dialog_state', versionKey: false },
);

// The latest version of a key: the only query the storage makes.
dialogStateSchema.index({ key: 1, v: -1 });

/** The dialog-state model bound to a connection. */
export function dialogStateModel(connection: Connection): Model<DialogStateDoc> {
  return (connection.models.DialogState as Model<DialogStateDoc>) ?? connection.model('DialogState', dialogStateSchema);
}
