import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

const ratingSchema = new Schema(
  {
    customer: { type: Schema.Types.ObjectId, required: true, ref: 'Customer' },
    order: { type: String, default: null },
    // The request that asked for it (null when the customer rated on their own), and what it is about.
    request: { type: String, default: null },
    products: { type: [String], default: [] },
    score: { type: Number, required: true, min: 1, max: 5 },
    comment: { type: String, default: null },
    channel: { type: String, required: true },
    askedAt: { type: Date, default: null },
    answeredAt: { type: Date, required: true },
  },
  { collection: 'ratings', versionKey: false },
);

// The digest reads ratings by time.
ratingSchema.index({ answeredAt: -1 });
ratingSchema.index({ customer: 1, answeredAt: -1 });

export type RatingDoc = InferSchemaType<typeof ratingSchema>;

/** The ratings model bound to a connection. */
export function ratingModel(connection: Connection): Model<RatingDoc> {
  return (connection.models.Rating as Model<RatingDoc>) ?? connection.model('Rating', ratingSchema);
}
