import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOrBuildFerretdb, startFerretdb } from '../../src/db/embedded/ferretdb';
import type { RunningEngine } from '../../src/db/embedded/child-process';

declare global {
  // eslint-disable-next-line no-var
  var __TAAWUN_ENGINE__: RunningEngine | undefined;
}

/** Starts one FerretDB for the suite unless MONGODB_URI names a database to use instead. */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) {
    process.env.TAAWUN_TEST_MONGODB_URI = process.env.MONGODB_URI;
    return;
  }
  const binary = await findOrBuildFerretdb(process.env.FERRETDB_BIN, (line) => process.stderr.write(`${line}\n`));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-test-db-'));
  const engine = await startFerretdb(binary, dataDir);
  globalThis.__TAAWUN_ENGINE__ = engine;
  process.env.TAAWUN_TEST_MONGODB_URI = engine.uri;
  process.env.TAAWUN_TEST_FERRETDB_BIN = binary;
}
