import fs from 'node:fs';
import path from 'node:path';
import { buildFerretdb, cachedFerretdbPath } from './ferretdb-build';
import { freePort, startAndWaitForPort, stopChild, stopLeftover, whichSync, type RunningEngine } from './child-process';

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

/** Runs FerretDB with its SQLite handler, keeping its files in `dataDir`. */
export async function startFerretdb(binary: string, dataDir: string): Promise<RunningEngine> {
  fs.mkdirSync(dataDir, { recursive: true });
  const pidFile = path.join(dataDir, 'ferretdb.pid');
  stopLeftover(pidFile, 'ferretdb');
  const port = await freePort();
  const child = await startAndWaitForPort(
    binary,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--state-dir=${dataDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--telemetry=disable',
      '--log-level=error',
      // Its debug/metrics listener defaults to port 8088, which a second instance would collide on.
      '--debug-addr=-',
    ],
    { port, logFile: path.join(dataDir, 'ferretdb.log'), pidFile },
  );
  return {
    engine: 'ferretdb',
    uri: `mongodb://127.0.0.1:${port}/taawun`,
    dataDir,
    stop: () => stopChild(child, pidFile),
  };
}
