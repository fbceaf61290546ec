import { Schema, type Connection, type Model } from 'mongoose';

/**
 * A notice to the cooperative that must go out once: `_id` names what it is about
 * ("order.placed:TIF-000001"), so a turn run again after a crash records it once, and a
 * notice a stopped process left `pending` is sent by the next one.
 */
export interface NotificationDoc {
  _id: string;
  event: string;
  text: string;
  /** What a webhook receives besides the text, as JSON. */
  data: string;
  status: 'pending' | 'sent' | 'failed';
  at: Date;
  doneAt: Date | null;
}

const notificationSchema = new Schema<NotificationDoc>(
  {
    _id: { type: String, required: true },
    event: { type: String, required: true },
    text: { type: String, required: true },
    data: { type: String, default: '{}' },
    status: { type: String, required: true, enum: ['pending', 'sent', 'failed'] },
    at: { type: Date, required: true },
    doneAt: { type: Date, default: null },
  },
  { collection: 'notifications', versionKey: false },
);

/** The notifications model bound to a connection. */
export function notificationModel(connection: Connection): Model<NotificationDoc> {
  return (connection.models.Notification as Model<NotificationDoc>) ?? connection.model('Notification', notificationSchema);
}
