import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const ORDER_STATUSES = ['pending', 'confirmed', 'shipped', 'delivered', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** One line of an order, with the price at order time. */
export interface OrderLine {
  product: string;
  name: string;
  quantity: number;
  unitPrice: number;
  total: number;
}

/** A stored order. */
export interface OrderDoc {
  _id: string;
  request: string;
  customer: Types.ObjectId;
  channel: string;
  language: string;
  name: string | null;
  phone: string;
  lines: OrderLine[];
  subtotal: number;
  deliveryFee: number;
  total: number;
  currency: string;
  delivery: { mode: 'delivery' | 'pickup'; city: string; address: string; zone: string; location?: { latitude: number; longitude: number } | null };
  payment: 'cod' | 'transfer';
  /** The WhatsApp cart the order came from (the catalog's id and the cart message's id). */
  whatsappCart?: { catalogId: string; message: string } | null;
  status: OrderStatus;
  history: { status: OrderStatus; at: Date; note: string; by: string }[];
  createdAt: Date;
}

const orderSchema = new Schema<OrderDoc>(
  {
    // The human-readable number ("TIF-000123") is the _id: a direct lookup on every engine,
    // and a unique insert decides it when two processes take a number at once.
    _id: { type: String, required: true },
    // The conversation's order draft: the same confirmation handled twice finds this order.
    request: { type: String, required: true },
    customer: { type: Schema.Types.ObjectId, required: true, ref: 'Customer' },
    channel: { type: String, required: true },
    language: { type: String, required: true },
    name: { type: String, default: null },
    phone: { type: String, required: true },
    lines: {
      type: [{ _id: false, product: String, name: String, quantity: Number, unitPrice: Number, total: Number }],
      required: true,
    },
    subtotal: { type: Number, required: true },
    deliveryFee: { type: Number, required: true },
    total: { type: Number, required: true },
    currency: { type: String, required: true },
    // A shared location's coordinates, when the address came as one.
    delivery: { type: new Schema({ mode: String, city: String, address: String, zone: String, location: { type: new Schema({ latitude: Number, longitude: Number }, { _id: false }), default: undefined } }, { _id: false }), required: true },
    payment: { type: String, enum: ['cod', 'transfer'], required: true },
    whatsappCart: { type: new Schema({ catalogId: String, message: String }, { _id: false }), default: undefined },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    history: { type: [{ _id: false, status: String, at: Date, note: String, by: String }], default: [] },
    createdAt: { type: Date, required: true },
  },
  { collection: 'orders', versionKey: false },
);

orderSchema.index({ createdAt: -1, _id: -1 });
orderSchema.index({ customer: 1, createdAt: -1 });
orderSchema.index({ request: 1 });

/** The orders model bound to a connection. */
export function orderModel(connection: Connection): Model<OrderDoc> {
  return (connection.models.Order as Model<OrderDoc>) ?? connection.model('Order', orderSchema);
}
