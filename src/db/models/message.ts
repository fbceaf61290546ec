import { Schema, Types, type Connection, type InferSchemaType, type Model } from 'mongoose';

const messageSchema = new Schema(
  {
    customer: { type: Schema.Types.ObjectId, required: true, ref: 'Customer' },
    channel: { type: String, required: true },
    direction: { type: String, required: true, enum: ['in', 'out'] },
    text: { type: String, default: '' },
    // Quick replies, attachments: what the text alone does not carry.
    payload: { type: Schema.Types.Mixed },
    // Filled by understanding and flows (later capabilities); null until then.
    language: { type: String, default: null },
    intent: { type: String, default: null },
    product: { type: String, default: null },
    // How sure understanding was of the intent, 0-1.
    confidence: { type: Number, default: null },
    // For channels that report delivery: the platform's id of the sent message, and its fate.
    externalId: { type: String, default: null },
    delivery: { type: { _id: false, status: String, at: Date, error: String }, default: undefined },
    flow: { type: String, default: null },
    step: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { collection: 'messages', versionKey: false },
);

// A customer's history in time order; _id breaks ties within one millisecond.
messageSchema.index({ customer: 1, at: 1, _id: 1 });
// Delivery statuses find their message by the platform's id.
messageSchema.index({ channel: 1, externalId: 1 });

export type MessageDoc = InferSchemaType<typeof messageSchema> & { _id: Types.ObjectId };

/** The messages model bound to a connection. */
export function messageModel(connection: Connection): Model<MessageDoc> {
  return (connection.models.Message as Model<MessageDoc>) ?? connection.model('Message', messageSchema);
}
