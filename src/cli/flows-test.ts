import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { loadConfig } from '../config';
import { formatDiagnostic } from '../flows/diagnostics';
import { readFlowTests, runFlowTest } from '../flows/flow-tests';
import { createLogger } from '../logger';
import { startServer } from '../server';
import { webhookCustomer } from './webhook-client';

/**
 * `flows test [dir]`: runs the test conversations in <dir>/tests against the flows of
 * <dir>, on a throwaway database (a new one on MONGODB_URI's server, or a private
 * embedded engine), each test as a new customer. Returns the exit code.
 */
export async function flowsTestCommand(root: string, dir?: string, print: (line: string) => void = console.log): Promise<number> {
  const flowsDir = path.resolve(dir ?? path.join(root, 'flows'));
  const { tests, diagnostics } = readFlowTests(path.join(flowsDir, 'tests'), process.cwd());
  for (const d of diagnostics) print(formatDiagnostic(d));
  if (diagnostics.length > 0) return 1;
  if (tests.length === 0) {
    print(`no test conversations in ${path.join(flowsDir, 'tests')}; see flows/README.md`);
    return 1;
  }

  const base = loadConfig();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-flows-test-'));
  const mongodbUri = base.mongodbUri ? withDatabase(base.mongodbUri, `taawun_flows_test_${path.basename(scratch).slice(-6)}`) : undefined;
  const server = await startServer(
    { ...base, port: 0, host: '127.0.0.1', flowsDir, mongodbUri, dataDir: scratch, adminToken: undefined, logLevel: 'error', logFormat: 'pretty' },
    createLogger('error', 'pretty'),
  );
  let failed = 0;
  try {
    for (const test of tests) {
      const customer = await webhookCustomer(server.url);
      const failures = await runFlowTest(test, customer.say).catch((err: Error) => [`${test.file} ${err.message}`]);
      print(`${failures.length ? 'FAIL' : 'PASS'}  ${test.file}  ${test.name}`);
      for (const f of failures) print(`  ${f}`);
      if (failures.length) failed += 1;
    }
  } finally {
    await server.stop();
    // Dropped after the stop: FerretDB can crash when a database in use is dropped.
    if (mongodbUri) {
      const connection = await mongoose.createConnection(mongodbUri).asPromise();
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    }
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  print(`${tests.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

function withDatabase(uri: string, name: string): string {
  const url = new URL(uri);
  url.pathname = `/${name}`;
  return url.toString();
}
