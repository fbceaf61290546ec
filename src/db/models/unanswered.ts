import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

const unansweredSchema = new Schema(
  {
    customer: { type: Schema.Types.ObjectId, required: true, ref: 'Customer' },
    message: { type: Schema.Types.ObjectId, ref: 'Message' },
    channel: { type: String, required: true },
    text: { type: String, required: true },
    language: { type: String, default: null },
    at: { type: Date, required: true },
    answered: { type: Boolean, default: false },
  },
  { collection: 'unanswered_questions', versionKey: false },
);

// The staff's list: open questions, newest first.
unansweredSchema.index({ answered: 1, at: -1 });

export type UnansweredDoc = InferSchemaType<typeof unansweredSchema>;

/** The unanswered-questions model: messages no flow understood, for the cooperative to read and to improve the flows. */
export function unansweredModel(connection: Connection): Model<UnansweredDoc> {
  return (connection.models.Unanswered as Model<UnansweredDoc>) ?? connection.model('Unanswered', unansweredSchema);
}
