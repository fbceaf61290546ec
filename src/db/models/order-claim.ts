import { Schema, type Connection, type Model } from 'mongoose';

/**
 * Once-only decisions about orders, each taken by inserting a unique `_id` (the one write
 * FerretDB 1.24 makes atomic): `request:<draft>` claims the placing of a conversation's
 * order, `status:<number>#<n>` the n-th status change of an order.
 */
export interface OrderClaimDoc {
  _id: string;
  order: string | null;
  status?: string;
  note?: string | null;
  by?: string;
  /** What asked for a status change (a customer's message): the same request again finds its change made. */
  op?: string | null;
  /** Who claimed a placing (a lease holder's name): a successor carries on a gone one's at once. */
  holder?: string | null;
  at: Date;
}

const orderClaimSchema = new Schema<OrderClaimDoc>(
  {
    _id: { type: String, required: true },
    order: { type: String, default: null },
    status: { type: String },
    note: { type: String, default: null },
    by: { type: String },
    op: { type: String, default: null },
    holder: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { collection: 'order_claims', versionKey: false },
);

/** The order-claims model bound to a connection. */
export function orderClaimModel(connection: Connection): Model<OrderClaimDoc> {
  return (connection.models.OrderClaim as Model<OrderClaimDoc>) ?? connection.model('OrderClaim', orderClaimSchema);
}
