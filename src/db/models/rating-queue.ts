import { Schema, type Connection, type Model } from 'mongoose';

/**
 * The rating requests still to send: `_id` and `dueAt` of each request whose status is
 * "due". The minute job reads this short list instead of every request ever made (FerretDB
 * reads a whole collection for such a query); an entry leaves when its request is handled.
 */
export interface RatingQueueDoc {
  _id: string;
  dueAt: Date;
}

const ratingQueueSchema = new Schema<RatingQueueDoc>(
  { _id: { type: String, required: true }, dueAt: { type: Date, required: true } },
  { collection: 'rating_queue', versionKey: false },
);

/** The rating-queue model bound to a connection. */
export function ratingQueueModel(connection: Connection): Model<RatingQueueDoc> {
  return (connection.models.RatingQueue as Model<RatingQueueDoc>) ?? connection.model('RatingQueue', ratingQueueSchema);
}
