import mongoose from 'mongoose';
import { DatabaseError } from '../errors';
import { registerModels } from './models';
import { redactUri } from './redact-uri';

/** Opens a mongoose connection and makes sure every model's indexes exist. */
export async function connectDatabase(uri: string): Promise<mongoose.Connection> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: 10_000,
    // Indexes are built explicitly below, once, so that a failure stops the start.
    autoIndex: false,
  });
  try {
    await connection.asPromise();
  } catch (err) {
    throw new DatabaseError(
      `cannot reach MongoDB at ${redactUri(uri)}: ${(err as Error).message}. Check MONGODB_URI, or unset it to use the embedded database`,
      { cause: err },
    );
  }
  return connection;
}

/** Registers every model and creates the indexes they declare; safe to call on every start. */
export async function ensureIndexes(connection: mongoose.Connection): Promise<void> {
  registerModels(connection);
  for (const model of Object.values(connection.models)) await model.createIndexes();
}

/** Answers whether the database responds within the given time. */
export async function pingDatabase(connection: mongoose.Connection, timeoutMs = 2000): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (connection.readyState !== 1 || !connection.db) return { ok: false, reason: `connection is ${mongoose.STATES[connection.readyState]}` };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connection.db.admin().ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
