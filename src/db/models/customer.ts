import { Schema, type Connection, type InferSchemaType, type Model, type Types } from 'mongoose';

const customerSchema = new Schema(
  {
    // One document per channel identity: ("web", "w_abc…"), ("whatsapp", "2126…").
    channel: { type: String, required: true },
    externalId: { type: String, required: true },
    name: { type: String },
    phone: { type: String },
    // The last delivery place, offered again on the next order ("same address as last time?").
    city: { type: String },
    address: { type: String },
    language: { type: String },
    // The customer picked their language: understanding no longer changes it.
    languageChosen: { type: Boolean, default: false },
    tags: { type: [String], default: [] },
    consent: { type: Boolean },
    // Said "stop" to a rating request: never asked again.
    ratingOptOut: { type: Boolean, default: false },
    // A person of the cooperative has the conversation: the bot stays quiet until `until`.
    handoff: { type: { _id: false, since: Date, until: Date, reason: String }, default: undefined },
    // Messages in a row that no flow understood: three bring a person.
    fallbacks: { type: Number, default: 0 },
    // The message the count last took in, so a turn run again does not count it twice.
    fallbackMessage: { type: Schema.Types.ObjectId, default: null },
    // The last time a rating was asked for, for the cool-down.
    lastRatingRequestAt: { type: Date, default: null },
    // Choices last offered as a numbered list (where buttons did not fit), so "2" can tap one.
    offeredChoices: { type: [{ _id: false, title: String, payload: String }], default: undefined },
    // The last error a channel gave for this customer that sending again cannot fix.
    channelError: { type: { _id: false, code: Number, message: String, at: Date }, default: undefined },
    // How WhatsApp names them: phone and/or business-scoped user id (both when both came), username and
    // profile name; replies go to the phone when known, else to the BSUID. On WhatsApp Web: the phone
    // and/or the hidden `@lid` id, and the chat id a reply last went out to (sendTo).
    whatsapp: {
      type: { _id: false, phone: String, bsuid: String, lid: String, sendTo: String, parentBsuid: String, username: String, profileName: String, formerPhones: [String], identityChangedAt: Date },
      default: undefined,
    },
    // Where they came from: the first referral (m.me link, ad, click-to-WhatsApp ad) and the latest.
    origin: { type: Schema.Types.Mixed, default: undefined },
    lastReferral: { type: Schema.Types.Mixed, default: undefined },
    // Their choice about marketing messages, as WhatsApp reported it (user_preferences).
    marketing: { type: { _id: false, value: String, category: String, at: Date }, default: undefined },
    firstSeenAt: { type: Date, required: true },
    lastSeenAt: { type: Date, required: true },
  },
  { collection: 'customers', versionKey: false },
);

// Uniqueness of an identity is the database's job: concurrent first messages race here.
customerSchema.index({ channel: 1, externalId: 1 }, { unique: true });
// The admin list: newest first, then by id for a stable order.
customerSchema.index({ firstSeenAt: -1, _id: -1 });

export type CustomerDoc = InferSchemaType<typeof customerSchema>;

/** The customers model bound to a connection. */
export function customerModel(connection: Connection): Model<CustomerDoc> {
  return (connection.models.Customer as Model<CustomerDoc>) ?? connection.model('Customer', customerSchema);
}

/** A channel identity's customer, found by `_id` = "channel:externalId" (a direct lookup on every engine). */
export interface CustomerIdDoc {
  _id: string;
  customer: Types.ObjectId;
}

const customerIdSchema = new Schema<CustomerIdDoc>(
  {
    _id: { type: String, required: true },
    customer: { type: Schema.Types.ObjectId, required: true, ref: 'Customer' },
  },
  { collection: 'customer_ids', versionKey: false },
);

/** The customer-identities model bound to a connection. */
export function customerIdModel(connection: Connection): Model<CustomerIdDoc> {
  return (connection.models.CustomerId as Model<CustomerIdDoc>) ?? connection.model('CustomerId', customerIdSchema);
}
