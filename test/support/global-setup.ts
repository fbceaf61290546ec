import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOrBuildFerretdb, startFerretdb } from '../../src/db/embedded/ferretdb';
import { whichSync, type RunningEngine } from '../../src/db/embedded/child-process';
import { installVoice } from '../../src/voice/install-voice';
import { installedVoiceRuntime } from '../../src/voice/voice-runtime';

declare global {
  // eslint-disable-next-line no-var
  var __TAAWUN_ENGINE__: RunningEngine | undefined;
}

/**
 * Installs the offline speech model once (as the database is built once), where Python can
 * make a virtual environment: the voice tests run the real model. Without Python they are
 * skipped, unless TAAWUN_REQUIRE_VOICE=1 (CI) makes that a failure.
 */
async function voiceRuntime(): Promise<void> {
  if (installedVoiceRuntime()) return;
  if (!whichSync('python3')) return;
  try {
    await installVoice((line) => process.stderr.write(`voice: ${line}\n`));
  } catch (err) {
    if (process.env.TAAWUN_REQUIRE_VOICE === '1') throw err;
    process.stderr.write(`voice: not installed (${(err as Error).message}); the voice tests are skipped\n`);
  }
}

/** Starts one FerretDB for the suite unless MONGODB_URI names a database to use instead. */
export default async function globalSetup(): Promise<void> {
  await voiceRuntime();
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
