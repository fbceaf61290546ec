import { Schema, type Connection, type Model } from 'mongoose';

/** A signed-in staff session: `_id` is the secret the cookie carries, found by a direct lookup. */
export interface AdminSessionDoc {
  _id: string;
  /** The token forms and scripts send back, so another site cannot act in the session. */
  csrf: string;
  createdAt: Date;
  expiresAt: Date;
}

const adminSessionSchema = new Schema<AdminSessionDoc>(
  {
    _id: { type: String, required: true },
    csrf: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'admin_sessions', versionKey: false },
);

/** The admin-sessions model bound to a connection. */
export function adminSessionModel(connection: Connection): Model<AdminSessionDoc> {
  return (connection.models.AdminSession as Model<AdminSessionDoc>) ?? connection.model('AdminSession', adminSessionSchema);
}
