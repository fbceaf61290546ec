import { Schema, type Connection, type Model } from 'mongoose';

/**
 * A channel event, recorded before the webhook answers 200. `_id` is the channel and the
 * platform's message id, so a redelivered webhook finds its event already there and is dropped.
 */
export interface InboundEventDoc {
  _id: string;
  channel: string;
  sender: string;
  /** The event as the channel parser made it, as JSON text (its keys are not always BSON-safe). */
  event: string;
  receivedAt: Date;
  status: 'pending' | 'done' | 'failed';
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  doneAt: Date | null;
}

const inboundEventSchema = new Schema<InboundEventDoc>(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    sender: { type: String, required: true },
    event: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    status: { type: String, required: true, enum: ['pending', 'done', 'failed'] },
    attempts: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, required: true },
    lastError: { type: String, default: null },
    doneAt: { type: Date, default: null },
  },
  { collection: 'inbound_events', versionKey: false },
);

// The processor's two questions: who has work due, and that sender's work in order.
inboundEventSchema.index({ status: 1, nextAttemptAt: 1 });
inboundEventSchema.index({ channel: 1, sender: 1, status: 1, receivedAt: 1 });

/** The inbound-events model bound to a connection. */
export function inboundEventModel(connection: Connection): Model<InboundEventDoc> {
  return (connection.models.InboundEvent as Model<InboundEventDoc>) ?? connection.model('InboundEvent', inboundEventSchema);
}

/**
 * The events still to handle: a copy of each pending event, removed once it is handled
 * (when the inbox is the database's only client, only retries and what a stop left behind).
 * Kept apart from the archive so the processor's queries read a few documents, not every
 * event ever received (FerretDB scans a collection for anything but an _id lookup).
 */
export interface PendingEventDoc {
  _id: string;
  channel: string;
  sender: string;
  event: string;
  receivedAt: Date;
  attempts: number;
  nextAttemptAt: Date;
}

const pendingEventSchema = new Schema<PendingEventDoc>(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    sender: { type: String, required: true },
    event: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    attempts: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, required: true },
  },
  { collection: 'inbox_pending', versionKey: false },
);
pendingEventSchema.index({ channel: 1, sender: 1, receivedAt: 1 });
pendingEventSchema.index({ nextAttemptAt: 1 });

/** The pending-events model bound to a connection. */
export function pendingEventModel(connection: Connection): Model<PendingEventDoc> {
  return (connection.models.PendingEvent as Model<PendingEventDoc>) ?? connection.model('PendingEvent', pendingEventSchema);
}
