import { Schema, type Connection, type Model, type Types } from 'mongoose';

/** A customer's "tell me when it's back": `_id` is "<product>:<customer>", so asking twice keeps one. */
export interface StockAlertDoc {
  _id: string;
  product: string;
  customer: Types.ObjectId;
  at: Date;
}

const stockAlertSchema = new Schema<StockAlertDoc>(
  {
    _id: { type: String, required: true },
    product: { type: String, required: true },
    customer: { type: Schema.Types.ObjectId, required: true, ref: 'Customer' },
    at: { type: Date, required: true },
  },
  { collection: 'stock_alerts', versionKey: false },
);

stockAlertSchema.index({ product: 1 });

/** The stock-alerts model bound to a connection. */
export function stockAlertModel(connection: Connection): Model<StockAlertDoc> {
  return (connection.models.StockAlert as Model<StockAlertDoc>) ?? connection.model('StockAlert', stockAlertSchema);
}
