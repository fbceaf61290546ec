import fs from 'node:fs';
import path from 'node:path';
import type { RunningEngine } from './child-process';

/** Runs MongoDB through mongodb-memory-server, which downloads a mongod on first use; files stay in `dataDir`. */
export async function startMemoryServer(dataDir: string): Promise<RunningEngine> {
  const dbPath = path.join(dataDir, 'db');
  fs.mkdirSync(dbPath, { recursive: true });
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const server = await MongoMemoryServer.create({
    instance: { dbPath, storageEngine: 'wiredTiger', ip: '127.0.0.1' },
    binary: { downloadDir: path.join(dataDir, 'binaries') },
  });
  return {
    engine: 'mongodb-memory-server',
    uri: server.getUri('taawun'),
    dataDir,
    // doCleanup false: the data folder is the customer history; it must outlive the process.
    stop: async () => {
      await server.stop({ doCleanup: false });
    },
  };
}
