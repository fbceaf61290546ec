import { Schema, type Connection, type Model } from 'mongoose';

/** A flow version as it was compiled, kept so that a customer in the middle of it can finish it after a restart. */
export interface FlowVersionDoc {
  _id: string;
  // JSON text: a flow's keys (such as "customer.phone" in a set) are not valid BSON field names everywhere.
  flow: string;
  savedAt: Date;
}

const flowVersionSchema = new Schema<FlowVersionDoc>(
  {
    _id: { type: String, required: true },
    flow: { type: String, required: true },
    savedAt: { type: Date, required: true },
  },
  { collection: 'flow_versions', versionKey: false },
);

/** The flow-versions model bound to a connection. */
export function flowVersionModel(connection: Connection): Model<FlowVersionDoc> {
  return (connection.models.FlowVersion as Model<FlowVersionDoc>) ?? connection.model('FlowVersion', flowVersionSchema);
}
