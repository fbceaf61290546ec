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
