import fs from 'node:fs';
import path from 'node:path';
import { DatabaseError } from '../../errors';
import { freePort, inspectDataDir, startAndWaitForPort, stopChild, type RunningEngine } from './child-process';

/** Runs a local `mongod` binary with its files in `dataDir`. */
export async function startMongod(binary: string, dataDir: string, options: { share?: boolean } = {}): Promise<RunningEngine> {
  const dbPath = path.join(dataDir, 'db');
  fs.mkdirSync(dbPath, { recursive: true });
  const inUse = await inspectDataDir(dataDir, 'mongod');
  if (inUse.state === 'owned') {
    if (!options.share) throw new DatabaseError(`another Taawun (pid ${inUse.ownerPid}) is using the database in ${dataDir}; stop it, or give this one its own DATA_DIR`);
    return { engine: 'mongod', uri: `mongodb://127.0.0.1:${inUse.port}/taawun`, dataDir, stop: async () => undefined };
  }
  const port = await freePort();
  const child = await startAndWaitForPort(
    binary,
    ['--dbpath', dbPath, '--port', String(port), '--bind_ip', '127.0.0.1', '--logpath', path.join(dataDir, 'mongod.log'), '--logappend'],
    { port, logFile: path.join(dataDir, 'mongod.stdout.log'), dataDir, timeoutMs: 60_000 },
  );
  return { engine: 'mongod', uri: `mongodb://127.0.0.1:${port}/taawun`, dataDir, stop: () => stopChild(child, dataDir) };
}
