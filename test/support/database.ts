import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { connectDatabase, ensureIndexes } from '../../src/db/connection';

/** The address of a fresh database on the suite's engine, unique to the caller. */
export function freshDatabaseUri(label: string): string {
  const base = process.env.TAAWUN_TEST_MONGODB_URI;
  if (!base) throw new Error('TAAWUN_TEST_MONGODB_URI is unset: run the tests through jest (globalSetup starts the database)');
  const url = new URL(base);
  url.pathname = `/t_${label.replace(/\W/g, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  return url.toString();
}

/** Connects to a fresh database with every model's indexes built, as the server does; drop it with `dropDatabase`. */
export async function freshDatabase(label: string): Promise<Connection> {
  const connection = await connectDatabase(freshDatabaseUri(label));
  await ensureIndexes(connection);
  return connection;
}

/** Drops the database and closes the connection. */
export async function dropDatabase(connection: Connection): Promise<void> {
  await connection.dropDatabase();
  await connection.close();
}
