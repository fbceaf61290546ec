import fs from 'node:fs';
import path from 'node:path';
import { freePort, startAndWaitForPort, stopChild, stopLeftover, type RunningEngine } from './child-process';

/** Runs a local `mongod` binary with its files in `dataDir`. */
export async function startMongod(binary: string, dataDir: string): Promise<RunningEngine> {
  const dbPath = path.join(dataDir, 'db');
  fs.mkdirSync(dbPath, { recursive: true });
  const pidFile = path.join(dataDir, 'mongod.pid');
  stopLeftover(pidFile, 'mongod');
  const port = await freePort();
  const child = await startAndWaitForPort(
    binary,
    ['--dbpath', dbPath, '--port', String(port), '--bind_ip', '127.0.0.1', '--logpath', path.join(dataDir, 'mongod.log'), '--logappend'],
    { port, logFile: path.join(dataDir, 'mongod.stdout.log'), pidFile, timeoutMs: 60_000 },
  );
  return { engine: 'mongod', uri: `mongodb://127.0.0.1:${port}/taawun`, dataDir, stop: () => stopChild(child, pidFile) };
}
