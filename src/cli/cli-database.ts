import type { Connection } from 'mongoose';
import type { Config } from '../config';
import { connectDatabase } from '../db/connection';
import { startEmbeddedDatabase, type RunningEngine } from '../db/embedded/start-embedded';

/**
 * Runs `work` on the real database: MONGODB_URI, else the embedded engine (shared with a
 * server already running on the same DATA_DIR), which is stopped after.
 */
export async function withCliDatabase<T>(config: Config, work: (connection: Connection) => Promise<T>): Promise<T> {
  let engine: RunningEngine | undefined;
  let uri = config.mongodbUri;
  if (!uri) {
    engine = await startEmbeddedDatabase({ dataDir: config.dataDir, ferretdbBin: config.ferretdbBin, progress: (line) => console.error(line), share: true });
    uri = engine.uri;
  }
  try {
    const connection = await connectDatabase(uri);
    try {
      return await work(connection);
    } finally {
      await connection.close();
    }
  } finally {
    await engine?.stop();
  }
}
