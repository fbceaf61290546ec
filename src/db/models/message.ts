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
    // What an inbound message carried besides its text (a cart, a voice note, contacts, a Flow's
    // answers, a referral, the message it replies to), as the channel sent it.
    content: { type: Schema.Types.Mixed, default: undefined },
    // A voice note: its audio (relative to the voice folder), length and what was heard in it;
    // `waiting` while nobody of the cooperative listened to one the bot could not hear.
    voice: {
      type: {
        _id: false,
        status: String,
        file: String,
        mime: String,
        bytes: Number,
        seconds: Number,
        transcript: String,
        transcribedBy: String,
        avgLogprob: Number,
        language: String,
        error: String,
        waiting: Boolean,
        heardBy: String,
      },
      default: undefined,
    },
    // The customer's reaction to this message (one a person on Meta's channels), and what it replaced.
    reaction: { type: { _id: false, emoji: String, at: Date }, default: undefined },
    // Earlier wordings of a message the customer edited, oldest first (the first is what they wrote).
    edits: { type: [{ _id: false, text: String, at: Date, event: String }], default: undefined },
    deletedAt: { type: Date, default: undefined },
    // Sent by a person of the cooperative from the WhatsApp Business app (coexistence), not by the bot.
    staff: { type: Boolean, default: undefined },
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
// The console's list of voice notes waiting for a person.
messageSchema.index({ 'voice.waiting': 1, at: -1 });

export type MessageDoc = InferSchemaType<typeof messageSchema> & { _id: Types.ObjectId };

/** The messages model bound to a connection. */
export function messageModel(connection: Connection): Model<MessageDoc> {
  return (connection.models.Message as Model<MessageDoc>) ?? connection.model('Message', messageSchema);
}
