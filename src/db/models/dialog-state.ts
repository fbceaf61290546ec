import { Schema, type Connection, type Model } from 'mongoose';

/** One botbuilder storage item: its key is the _id, its eTag guards concurrent writes. */
export interface DialogStateDoc {
  _id: string;
  eTag: string;
  // Stored as a JSON string: botbuilder keys may hold "$" or "." that BSON field names refuse.
  item: string;
  updatedAt: Date;
}

const dialogStateSchema = new Schema<DialogStateDoc>(
  {
    _id: { type: String, required: true },
    eTag: { type: String, required: true },
    item: { type: String, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'dialog_state', versionKey: false },
);

/** The dialog-state model bound to a connection. */
export function dialogStateModel(connection: Connection): Model<DialogStateDoc> {
  return (connection.models.DialogState as Model<DialogStateDoc>) ?? connection.model('DialogState', dialogStateSchema);
}
