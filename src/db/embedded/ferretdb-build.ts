import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { whichSync } from './child-process';

export const FERRETDB_VERSION = 'v1.24.2';
// Names Taawun's build of that version (its fix below): a binary cached by an earlier Taawun, built without it, is not reused.
const BUILD = `${FERRETDB_VERSION}-idfix1`;
const MODULE = 'github.com/FerretDB/FerretDB';
const run = promisify(execFile);

/** Where the built binary is kept, shared by every checkout of this user. */
export function ferretdbCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'taawun', `ferretdb-${BUILD}`);
}

/** The cached binary's path (it may not exist yet). */
export function cachedFerretdbPath(): string {
  return path.join(ferretdbCacheDir(), 'ferretdb');
}

/**
 * Builds FerretDB from the Go module proxy into the cache and returns the binary's path.
 * A plain `go install …@v1.24.2` builds a binary that panics at start: the module lacks
 * build/version/version.txt, which FerretDB's own build generates. So the module's source
 * is copied, that file is written, the `_id` lookup is fixed (see fixIdLookups), and the
 * copy is built the way FerretDB's Taskfile does.
 */
export async function buildFerretdb(progress: (line: string) => void): Promise<string> {
  const go = whichSync('go');
  if (!go) throw new Error('Go is not installed (needed once to build FerretDB)');
  const cacheDir = ferretdbCacheDir();
  const target = cachedFerretdbPath();
  fs.mkdirSync(cacheDir, { recursive: true });

  progress(`Building FerretDB ${FERRETDB_VERSION} with ${go} (first run only; about 2 minutes on 2 cores)`);
  const { stdout } = await run(go, ['mod', 'download', '-json', `${MODULE}@${FERRETDB_VERSION}`], {
    cwd: os.tmpdir(),
    maxBuffer: 1 << 20,
  });
  const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!moduleDir) throw new Error(`go mod download gave no folder for ${MODULE}@${FERRETDB_VERSION}`);

  const srcDir = fs.mkdtempSync(path.join(cacheDir, 'src-'));
  try {
    fs.cpSync(moduleDir, srcDir, { recursive: true });
    makeWritable(srcDir);
    fs.writeFileSync(path.join(srcDir, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    fixIdLookups(srcDir);
    const partial = `${target}.partial-${process.pid}`;
    try {
      await goBuild(go, srcDir, partial, [], progress);
    } catch (err) {
      // Newer Go refuses some //go:linkname uses in FerretDB's dependencies.
      if (!/linkname/.test((err as Error).message)) throw err;
      progress('Retrying the build with -ldflags=-checklinkname=0');
      await goBuild(go, srcDir, partial, ['-ldflags=-checklinkname=0'], progress);
    }
    // Rename is atomic: a concurrent start never sees a half-written binary.
    fs.renameSync(partial, target);
  } finally {
    fs.rmSync(srcDir, { recursive: true, force: true });
  }
  progress(`FerretDB built: ${target}`);
  return target;
}

// FerretDB 1.24's SQLite backend finds a document by `_id` with `_ferretdb_sjson->'$._id'`, while
// its unique `_id` index is on `_ferretdb_sjson->"_id"`. SQLite uses an expression index only
// for the same expression, so every find, update and delete by `_id` read and parsed the whole
// collection (EXPLAIN QUERY PLAN: SCAN); with `->'_id'` (the same path, and what its PostgreSQL
// backend writes) it is an index search. Nothing else changes: the stored data is the same.
const ID_COLUMN_BEFORE = `IDColumn = DefaultColumn + "->'$._id'"`;
const ID_COLUMN_AFTER = `IDColumn = DefaultColumn + "->'_id'"`;

/** Makes FerretDB's SQLite `_id` lookups use the `_id` index; throws when the source is not the one this fix was written for. */
export function fixIdLookups(srcDir: string): void {
  const file = path.join(srcDir, 'internal', 'backends', 'sqlite', 'metadata', 'metadata.go');
  const source = fs.readFileSync(file, 'utf8');
  if (!source.includes(ID_COLUMN_BEFORE)) throw new Error(`${file}: no ${ID_COLUMN_BEFORE} to fix; is this FerretDB ${FERRETDB_VERSION}?`);
  fs.writeFileSync(file, source.replace(ID_COLUMN_BEFORE, ID_COLUMN_AFTER));
}

function goBuild(go: string, srcDir: string, output: string, extra: string[], progress: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(go, ['build', '-v', '-trimpath', ...extra, '-o', output, './cmd/ferretdb'], {
      cwd: srcDir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const started = Date.now();
    let packages = 0;
    let errors = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (/^[\w.\-/]+$/.test(line.trim())) packages += 1;
        else if (line.trim()) errors += `${line}\n`;
      }
    });
    const ticker = setInterval(() => {
      progress(`  … ${packages} packages compiled, ${Math.round((Date.now() - started) / 1000)} s`);
    }, 10_000);
    child.on('error', (err) => {
      clearInterval(ticker);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`go build failed (exit ${code}):\n${errors.split('\n').slice(-20).join('\n')}`));
    });
  });
}

function makeWritable(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(full);
    else fs.chmodSync(full, 0o644);
  }
}
