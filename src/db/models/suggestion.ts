import { Schema, type Connection, type Model, type Types } from 'mongoose';

/** What a customer asked for that the cooperative does not offer yet ("vous faites du safran ?"). */
export interface SuggestionDoc {
  customer: Types.ObjectId;
  channel: string;
  text: string;
  product: string | null;
  language: string | null;
  at: Date;
}

const suggestionSchema = new Schema<SuggestionDoc>(
  {
    customer: { type: Schema.Types.ObjectId, required: true, ref: 'Customer' },
    channel: { type: String, required: true },
    text: { type: String, required: true },
    product: { type: String, default: null },
    language: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { collection: 'suggestions', versionKey: false },
);

suggestionSchema.index({ at: -1 });

/** The suggestions model bound to a connection. */
export function suggestionModel(connection: Connection): Model<SuggestionDoc> {
  return (connection.models.Suggestion as Model<SuggestionDoc>) ?? connection.model('Suggestion', suggestionSchema);
}
