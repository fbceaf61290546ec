import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A stored message found by the platform's id (a wamid, a mid), by `_id` = "channel:externalId":
 * statuses, reactions and edits name messages so, and FerretDB answers only `_id` lookups
 * without reading the whole collection.
 */
export interface MessageRefDoc {
  _id: string;
  /** The stored messages it carried (the texts of a turn go as one platform message). */
  messages: Types.ObjectId[];
  customer: Types.ObjectId;
  at: Date;
}

const messageRefSchema = new Schema<MessageRefDoc>(
  {
    _id: { type: String, required: true },
    messages: { type: [Schema.Types.ObjectId], required: true },
    customer: { type: Schema.Types.ObjectId, required: true, ref: 'Customer' },
    at: { type: Date, required: true },
  },
  { collection: 'message_refs', versionKey: false },
);

/** The message-references model bound to a connection. */
export function messageRefModel(connection: Connection): Model<MessageRefDoc> {
  return (connection.models.MessageRef as Model<MessageRefDoc>) ?? connection.model('MessageRef', messageRefSchema);
}
