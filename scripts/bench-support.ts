// What the benchmarks share: their options, the database they run on, and the line that says on what machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOrBuildFerretdb, startFerretdb } from '../src/db/embedded/ferretdb';

/** A numeric `--name N` option of the command line, or its default. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The database a benchmark runs on: MONGODB_URI, else a FerretDB of its own in a scratch folder. */
export interface BenchDatabase {
  /** The address of a database of that name on the engine. */
  uri(name: string): string;
  /** The machine and engine, for the first line a benchmark prints. */
  machine: string;
  /** The CPU the engine's process has spent so far, when it runs here (FerretDB; not MONGODB_URI). */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

// Engines this run started: stopped however it ends (each runs in its own process group, so
// neither a failure nor Ctrl-C would otherwise stop it).
const started = new Set<BenchDatabase>();

/** Stops every engine a benchmark started; for its failure path. */
export async function stopBenchDatabases(): Promise<void> {
  for (const database of [...started]) await database.stop().catch(() => undefined);
}

process.once('SIGINT', () => void stopBenchDatabases().then(() => process.exit(130)));

/** Starts (or finds) the benchmark's database; FerretDB's log is kept in the temp folder when the run fails. */
export async function benchDatabase(label: string): Promise<BenchDatabase> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `taawun-${label}-`));
  let engine: Awaited<ReturnType<typeof startFerretdb>> | undefined;
  let base = process.env.MONGODB_URI;
  if (!base) {
    engine = await startFerretdb(await findOrBuildFerretdb(process.env.FERRETDB_BIN, (l) => console.error(l)), path.join(scratch, 'db'));
    base = engine.uri;
    const log = path.join(scratch, 'db', 'ferretdb.log');
    process.on('exit', () => fs.existsSync(log) && fs.copyFileSync(log, path.join(os.tmpdir(), `taawun-${label}-last-ferretdb.log`)));
  }
  const root = base;
  const database: BenchDatabase = {
    uri: (name) => {
      const url = new URL(root);
      url.pathname = `/${name}`;
      return url.toString();
    },
    machine: `machine: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; database: ${engine ? 'FerretDB 1.24 (SQLite), local' : 'MONGODB_URI'}`,
    cpuMs: () => (engine?.pid ? processCpuMs(engine.pid) : undefined),
    stop: async () => {
      started.delete(database);
      await engine?.stop();
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
  started.add(database);
  return database;
}

/** The user and system CPU a process has spent, from /proc (Linux), in milliseconds. */
function processCpuMs(pid: number): number | undefined {
  try {
    // Fields 14 and 15 after the command name (which may hold spaces, so counted from its closing parenthesis).
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}
