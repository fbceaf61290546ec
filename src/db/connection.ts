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
  const ferretdb = await isFerretdb(connection);
  for (const model of Object.values(connection.models)) await buildIndexes(model, ferretdb);
}

// Asked once a client: the main database and the inbox's share it.
const ferretdbByClient = new WeakMap<object, Promise<boolean>>();

/** Whether the server is FerretDB (its buildInfo names its own version). */
export function isFerretdb(connection: mongoose.Connection): Promise<boolean> {
  const client = connection.getClient();
  let answer = ferretdbByClient.get(client);
  if (!answer) {
    answer = connection.db!.admin().command({ buildInfo: 1 }).then((info) => 'ferretdbVersion' in info);
    ferretdbByClient.set(client, answer);
  }
  return answer;
}

/**
 * Creates a model's declared indexes. FerretDB 1.x (SQLite) answers every query but an `_id`
 * lookup by reading the whole collection, indexes or not, while each index makes every write
 * parse the document once more: there only the unique ones are kept, for what they enforce,
 * and the others (left by an earlier version) are dropped.
 */
export async function buildIndexes(model: { schema: mongoose.Schema; collection: mongoose.Collection; createIndexes(): Promise<unknown> }, ferretdb: boolean): Promise<void> {
  if (!ferretdb) {
    await model.createIndexes();
    return;
  }
  const declared = model.schema.indexes().filter(([, options]) => options?.unique);
  for (const [fields, options] of declared) await model.collection.createIndex(fields as Record<string, 1 | -1>, options as object);
  const existing = await model.collection.indexes().catch(() => []);
  for (const index of existing) if (index.name && index.name !== '_id_' && !index.unique) await model.collection.dropIndex(index.name);
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
