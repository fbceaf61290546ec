import fs from 'node:fs';
import path from 'node:path';
import { buildFerretdb, cachedFerretdbPath } from './ferretdb-build';
import { DatabaseError } from '../../errors';
import { freePort, inspectDataDir, startAndWaitForPort, stopChild, whichSync, type RunningEngine } from './child-process';

// At most 16 connections a client: FerretDB gives each its own SQLite connection, and with a
// hundred writers at once (200 customers in `npm run bench`) SQLite starved some past its
// 10 s busy timeout ("database is locked"); beyond 16 nothing ran faster here.
const CLIENT_OPTIONS = 'maxPoolSize=16';

/** Finds a FerretDB binary: the configured path, `ferretdb` on PATH, or the cached build. */
export function findFerretdb(configured?: string): string | undefined {
  if (configured) {
    if (!fs.existsSync(configured)) throw new Error(`FERRETDB_BIN points to ${configured}, which does not exist`);
    return configured;
  }
  const onPath = whichSync('ferretdb');
  if (onPath) return onPath;
  const cached = cachedFerretdbPath();
  return fs.existsSync(cached) ? cached : undefined;
}

/** Finds FerretDB, or builds it when Go is present. */
export async function findOrBuildFerretdb(configured: string | undefined, progress: (line: string) => void): Promise<string> {
  return findFerretdb(configured) ?? (await buildFerretdb(progress));
}

/**
 * Runs FerretDB with its SQLite handler, keeping its files in `dataDir`. When another live
 * Taawun already runs it there, `share` uses that engine (the CLI does); otherwise it is an error.
 */
export async function startFerretdb(binary: string, dataDir: string, options: { share?: boolean; port?: number } = {}): Promise<RunningEngine> {
  fs.mkdirSync(dataDir, { recursive: true });
  const inUse = await inspectDataDir(dataDir, 'ferretdb');
  if (inUse.state === 'owned') {
    if (!options.share) throw new DatabaseError(`another Taawun (pid ${inUse.ownerPid}) is using the database in ${dataDir}; stop it, or give this one its own DATA_DIR`);
    return { engine: 'ferretdb', uri: `mongodb://127.0.0.1:${inUse.port}/taawun?${CLIENT_OPTIONS}`, dataDir, stop: async () => undefined };
  }
  const port = options.port ?? (await freePort());
  const child = await startAndWaitForPort(
    binary,
    [
      '--handler=sqlite',
      // synchronous(normal): a write is acknowledged once in SQLite's write-ahead log, without
      // waiting for the disk to sync it. That is MongoDB's own default (w:1 without j: the journal
      // is synced every 100 ms), survives a crash of the engine or of Taawun, and halves
      // a webhook's acknowledgement time here; only a power cut can take the last writes.
      // _txlock=immediate: a write takes SQLite's write lock when it begins, waiting its turn,
      // instead of failing at once (SQLITE_BUSY) when it finds another writer got there first.
      `--sqlite-url=file:${dataDir}/?_pragma=synchronous(normal)&_txlock=immediate`,
      `--state-dir=${dataDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--telemetry=disable',
      '--log-level=error',
      // Its debug/metrics listener defaults to port 8088, which a second instance would collide on.
      '--debug-addr=-',
    ],
    { port, logFile: path.join(dataDir, 'ferretdb.log'), dataDir },
  );
  return {
    engine: 'ferretdb',
    uri: `mongodb://127.0.0.1:${port}/taawun?${CLIENT_OPTIONS}`,
    dataDir,
    binary,
    pid: child.pid,
    stop: () => stopChild(child, dataDir),
  };
}
