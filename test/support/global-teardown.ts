import fs from 'node:fs';

/** Stops the suite's FerretDB and removes its files. */
export default async function globalTeardown(): Promise<void> {
  const engine = globalThis.__TAAWUN_ENGINE__;
  if (!engine) return;
  await engine.stop();
  fs.rmSync(engine.dataDir, { recursive: true, force: true });
}
