import { Schema, type Connection, type Model } from 'mongoose';

/**
 * A customer's turn whose replies a Meta channel could not take for now (Meta down or
 * slowing us). The turn itself happened (its state, orders and ratings are kept); its
 * replies wait here, with the customer's message, until the inbox's next try of the same
 * event sends them. `_id` is the inbox event's: "messenger:<mid>".
 */
export interface HeldReplyDoc {
  _id: string;
  recipient: string;
  /** The turn's activities as the adapter gathered them (their message records ride on them). */
  activities: Record<string, unknown>[];
  /** The customer's message, stored with the replies once they went out. */
  inbound: Record<string, unknown> | null;
  /** How many of the turn's messages went out before Meta stopped taking them: not sent again. */
  sent: number;
  at: Date;
}

const heldReplySchema = new Schema<HeldReplyDoc>(
  {
    _id: { type: String, required: true },
    recipient: { type: String, required: true },
    activities: { type: Schema.Types.Mixed, required: true },
    inbound: { type: Schema.Types.Mixed, default: null },
    sent: { type: Number, default: 0 },
    at: { type: Date, required: true },
  },
  { collection: 'held_replies', versionKey: false },
);

/** The held-replies model bound to a connection. */
export function heldReplyModel(connection: Connection): Model<HeldReplyDoc> {
  return (connection.models.HeldReply as Model<HeldReplyDoc>) ?? connection.model('HeldReply', heldReplySchema);
}
