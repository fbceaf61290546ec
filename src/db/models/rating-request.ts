import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const RATING_OCCASIONS = ['delivered', 'answered'] as const;
export type RatingOccasion = (typeof RATING_OCCASIONS)[number];

/**
 * A rating to ask for later: after an order is delivered, or after a conversation that
 * answered a question. `_id` is "<customer>:<occasion>:<ref>" (the order number, or the
 * day), so an occasion is asked about once, whichever process notices it. Kept in the
 * database, so a restart loses none.
 */
export interface RatingRequestDoc {
  _id: string;
  customer: Types.ObjectId;
  channel: string;
  occasion: RatingOccasion;
  order: string | null;
  /** The products the rating is about (the order's, or the one asked about). */
  products: string[];
  dueAt: Date;
  status: 'due' | 'sent' | 'answered' | 'skipped';
  /** Why it was skipped: opt_out, cooldown, window, gone. */
  reason: string | null;
  sentAt: Date | null;
  answeredAt: Date | null;
  createdAt: Date;
}

const ratingRequestSchema = new Schema<RatingRequestDoc>(
  {
    _id: { type: String, required: true },
    customer: { type: Schema.Types.ObjectId, required: true, ref: 'Customer' },
    channel: { type: String, required: true },
    occasion: { type: String, required: true },
    order: { type: String, default: null },
    products: { type: [String], default: [] },
    dueAt: { type: Date, required: true },
    status: { type: String, required: true },
    reason: { type: String, default: null },
    sentAt: { type: Date, default: null },
    answeredAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'rating_requests', versionKey: false },
);

// The hourly sweep looks for due requests missing from the queue; the digest counts what was sent in a period.
ratingRequestSchema.index({ status: 1, createdAt: 1 });
ratingRequestSchema.index({ sentAt: 1 });

/** The rating-requests model bound to a connection. */
export function ratingRequestModel(connection: Connection): Model<RatingRequestDoc> {
  return (connection.models.RatingRequest as Model<RatingRequestDoc>) ?? connection.model('RatingRequest', ratingRequestSchema);
}
