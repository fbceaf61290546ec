import path from 'node:path';
import { DatabaseError } from '../../errors';
import type { RunningEngine } from './child-process';
import { whichSync } from './child-process';
import { findOrBuildFerretdb, startFerretdb } from './ferretdb';
import { startMemoryServer } from './memory-server';
import { startMongod } from './mongod';

export type { RunningEngine } from './child-process';

/**
 * Starts the embedded database when MONGODB_URI is unset, trying in order: a `mongod`
 * on PATH, FerretDB (found or built with Go), then mongodb-memory-server's download.
 * Data lives under `dataDir` and survives restarts.
 */
export async function startEmbeddedDatabase(options: {
  dataDir: string;
  ferretdbBin?: string;
  progress: (line: string) => void;
  /** Use the engine a running Taawun already has on this folder (the CLI), instead of refusing. */
  share?: boolean;
}): Promise<RunningEngine> {
  const failures: string[] = [];

  const mongod = whichSync('mongod');
  if (mongod) {
    try {
      return await startMongod(mongod, path.join(options.dataDir, 'mongod'), { share: options.share });
    } catch (err) {
      if (err instanceof DatabaseError) throw err;
      failures.push(`mongod (${mongod}): ${(err as Error).message}`);
    }
  } else failures.push('mongod: not on PATH');

  try {
    const binary = await findOrBuildFerretdb(options.ferretdbBin, options.progress);
    return await startFerretdb(binary, path.join(options.dataDir, 'ferretdb'), { share: options.share });
  } catch (err) {
    // The data folder is another Taawun's: no other engine should open it either.
    if (err instanceof DatabaseError) throw err;
    failures.push(`FerretDB: ${(err as Error).message}`);
  }

  try {
    options.progress('Trying mongodb-memory-server (downloads MongoDB on first use)');
    return await startMemoryServer(path.join(options.dataDir, 'mongodb'));
  } catch (err) {
    failures.push(`mongodb-memory-server: ${(err as Error).message}`);
  }

  throw new DatabaseError(
    [
      'No database could be started. Tried:',
      ...failures.map((f) => `  - ${f}`),
      'Fix one of these:',
      '  - set MONGODB_URI to a MongoDB 6+ server (for example mongodb://localhost:27017/taawun);',
      '  - install MongoDB so that `mongod` is on PATH;',
      '  - install Go 1.21+ (Taawun then builds FerretDB once), or set FERRETDB_BIN to a FerretDB 1.24 binary;',
      '  - allow mongodb-memory-server to download MongoDB (network access to fastdl.mongodb.org).',
    ].join('\n'),
  );
}
