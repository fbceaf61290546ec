import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One version of a product's stock: `_id` is "<product>#<version>". A reservation inserts
 * the next version; two customers taking the same version collide on `_id` and the loser
 * reads again, so the level can never go below zero (FerretDB 1.24 has no atomic
 * conditional update to do this with).
 */
export interface StockMovementDoc {
  _id: string;
  product: string;
  version: number;
  /** Units on hand after this movement. */
  level: number;
  /** The count the catalog file gave when this level was set, to notice the next edit. */
  declared: number;
  change: number;
  reason: 'catalog' | 'order' | 'release';
  /** The order or draft the movement is for. */
  ref: string | null;
  at: Date;
}

const stockMovementSchema = new Schema<StockMovementDoc>(
  {
    _id: { type: String, required: true },
    product: { type: String, required: true },
    version: { type: Number, required: true },
    level: { type: Number, required: true, min: 0 },
    declared: { type: Number, required: true },
    change: { type: Number, required: true },
    reason: { type: String, required: true },
    ref: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { collection: 'stock_movements', versionKey: false },
);

/** The stock-movements model bound to a connection. */
export function stockMovementModel(connection: Connection): Model<StockMovementDoc> {
  return (connection.models.StockMovement as Model<StockMovementDoc>) ?? connection.model('StockMovement', stockMovementSchema);
}

/** Where to start reading a product's versions: a hint, never ahead of the newest version. */
export interface StockHeadDoc {
  _id: string;
  version: number;
}

const stockHeadSchema = new Schema<StockHeadDoc>(
  { _id: { type: String, required: true }, version: { type: Number, required: true } },
  { collection: 'stock_heads', versionKey: false },
);

/** The stock-heads model bound to a connection. */
export function stockHeadModel(connection: Connection): Model<StockHeadDoc> {
  return (connection.models.StockHead as Model<StockHeadDoc>) ?? connection.model('StockHead', stockHeadSchema);
}
