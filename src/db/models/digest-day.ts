import { Schema, type Connection, type Model } from 'mongoose';

/**
 * What one closed day (in the cooperative's time zone) adds to a digest, summed once so
 * that a digest reads a document a day by `_id` instead of scanning the ratings and
 * orders (FerretDB 1.24 reads ~30 000 documents a second for any filter but `_id`).
 * Lists are kept as JSON text: they hold names and texts that may contain dots.
 */
export interface DigestDayDoc {
  /** The day, "2026-11-26". */
  _id: string;
  /** JSON of DayFigures (see satisfaction/digest-days.ts). */
  figures: string;
  computedAt: Date;
}

const digestDaySchema = new Schema<DigestDayDoc>(
  {
    _id: { type: String, required: true },
    figures: { type: String, required: true },
    computedAt: { type: Date, required: true },
  },
  { collection: 'digest_days', versionKey: false },
);

/** The digest-days model bound to a connection. */
export function digestDayModel(connection: Connection): Model<DigestDayDoc> {
  return (connection.models.DigestDay as Model<DigestDayDoc>) ?? connection.model('DigestDay', digestDaySchema);
}
