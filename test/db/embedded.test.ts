import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { processAlive } from '../../src/db/embedded/child-process';
import { fixIdLookups } from '../../src/db/embedded/ferretdb-build';
import { startEmbeddedDatabase } from '../../src/db/embedded/start-embedded';
import { DatabaseError } from '../../src/errors';

const ferretdbBin = process.env.TAAWUN_TEST_FERRETDB_BIN;
const onlyWithFerretdb = ferretdbBin ? describe : describe.skip;

onlyWithFerretdb('embedded database (FerretDB)', () => {
  let dataDir: string;
  const PATH = process.env.PATH;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-embedded-'));
    // The order tries mongod first; keep it off PATH so this machine's answer does not vary.
    process.env.PATH = (PATH ?? '').split(path.delimiter).filter((d) => !fs.existsSync(path.join(d, 'mongod'))).join(path.delimiter);
  });
  afterEach(() => {
    process.env.PATH = PATH;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("finds a document by _id through the _id index, not by reading the whole collection (Taawun's build)", async () => {
    const engine = await startEmbeddedDatabase({ dataDir, ferretdbBin, progress: () => undefined });
    const c = await mongoose.createConnection(engine.uri).asPromise();
    await c.collection('notes').insertMany([{ _id: 'a' as never }, { _id: 'b' as never }]);
    const explained = await c.db!.command({ explain: { find: 'notes', filter: { _id: 'a' } } });
    await c.close();
    await engine.stop();
    // SQLite's own plan: "SEARCH … USING INDEX …__id_"; stock FerretDB 1.24 says "SCAN notes_…".
    expect(JSON.stringify(explained.queryPlanner)).toMatch(/SEARCH \S+ USING INDEX \S+__id_/);
  });

  it('keeps its data under the data folder across a stop and a start', async () => {
    const first = await startEmbeddedDatabase({ dataDir, ferretdbBin, progress: () => undefined });
    expect(first.engine).toBe('ferretdb');
    expect(first.binary).toBe(ferretdbBin);
    expect(first.dataDir).toBe(path.join(dataDir, 'ferretdb'));
    const c1 = await mongoose.createConnection(first.uri).asPromise();
    await c1.collection('notes').insertOne({ text: 'kept' });
    await c1.close();
    await first.stop();
    expect(fs.existsSync(path.join(dataDir, 'ferretdb', 'engine.json'))).toBe(false);

    const second = await startEmbeddedDatabase({ dataDir, ferretdbBin, progress: () => undefined });
    const c2 = await mongoose.createConnection(second.uri).asPromise();
    expect(await c2.collection('notes').findOne({}, { projection: { _id: 0 } })).toEqual({ text: 'kept' });
    await c2.close();
    await second.stop();
  });

  it('stops an engine a crashed run left on the same folder before starting', async () => {
    const orphan = await startEmbeddedDatabase({ dataDir, ferretdbBin, progress: () => undefined });
    const orphanPid = (JSON.parse(fs.readFileSync(path.join(dataDir, 'ferretdb', 'engine.json'), 'utf8')) as { enginePid: number }).enginePid;
    expect(processAlive(orphanPid)).toBe(true);
    const next = await startEmbeddedDatabase({ dataDir, ferretdbBin, progress: () => undefined });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (!processAlive(orphanPid)) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    await next.stop();
    await orphan.stop();
  });

  it('refuses a data folder another running Taawun uses, and shares its engine when asked', async () => {
    const running = await startEmbeddedDatabase({ dataDir, ferretdbBin, progress: () => undefined });
    const stateFile = path.join(dataDir, 'ferretdb', 'engine.json');
    // Pretend the engine belongs to another live process (this one's parent).
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { ownerPid: number };
    fs.writeFileSync(stateFile, JSON.stringify({ ...state, ownerPid: process.ppid }));
    try {
      await expect(startEmbeddedDatabase({ dataDir, ferretdbBin, progress: () => undefined })).rejects.toThrow(
        new RegExp(`another Taawun \\(pid ${process.ppid}\\) is using the database`),
      );
      const shared = await startEmbeddedDatabase({ dataDir, ferretdbBin, progress: () => undefined, share: true });
      expect(shared.uri).toBe(running.uri);
      await shared.stop();
      const c = await mongoose.createConnection(running.uri).asPromise();
      await c.db!.admin().ping();
      await c.close();
    } finally {
      await running.stop();
    }
  });
});

describe('embedded database, when nothing can start', () => {
  it('names each failure and the fixes', async () => {
    const saved = { PATH: process.env.PATH, MONGOMS_DOWNLOAD_MIRROR: process.env.MONGOMS_DOWNLOAD_MIRROR };
    // No mongod, no Go, a FERRETDB_BIN that does not exist, and a download mirror that refuses at once.
    process.env.PATH = '/nonexistent';
    process.env.MONGOMS_DOWNLOAD_MIRROR = 'https://127.0.0.1:9';
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-none-'));
    // mongodb-memory-server prints its own warning about the failed download.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const started = startEmbeddedDatabase({ dataDir, ferretdbBin: '/nonexistent/ferretdb', progress: () => undefined });
      await expect(started).rejects.toBeInstanceOf(DatabaseError);
      const message = await started.catch((err: Error) => err.message);
      expect(message).toMatch(/mongod: not on PATH/);
      expect(message).toMatch(/FerretDB: FERRETDB_BIN points to \/nonexistent\/ferretdb, which does not exist/);
      expect(message).toMatch(/mongodb-memory-server: /);
      expect(message).toMatch(/set MONGODB_URI/);
      expect(message).toMatch(/install Go/);
    } finally {
      warn.mockRestore();
      process.env.PATH = saved.PATH;
      if (saved.MONGOMS_DOWNLOAD_MIRROR === undefined) delete process.env.MONGOMS_DOWNLOAD_MIRROR;
      else process.env.MONGOMS_DOWNLOAD_MIRROR = saved.MONGOMS_DOWNLOAD_MIRROR;
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("FerretDB's _id lookup fix", () => {
  const metadata = (dir: string) => path.join(dir, 'internal', 'backends', 'sqlite', 'metadata', 'metadata.go');
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-ferretdb-src-'));
    fs.mkdirSync(path.dirname(metadata(dir)), { recursive: true });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("rewrites the SQLite backend's _id path to the one its index is built on", () => {
    fs.writeFileSync(metadata(dir), `const (\n\tIDColumn = DefaultColumn + "->'$._id'"\n)\n`);
    fixIdLookups(dir);
    expect(fs.readFileSync(metadata(dir), 'utf8')).toBe(`const (\n\tIDColumn = DefaultColumn + "->'_id'"\n)\n`);
  });

  it('refuses a source it was not written for, rather than building something else', () => {
    fs.writeFileSync(metadata(dir), `const (\n\tIDColumn = DefaultColumn + "->'$.id'"\n)\n`);
    expect(() => fixIdLookups(dir)).toThrow(/metadata\.go: no IDColumn = DefaultColumn \+ "->'\$\._id'" to fix; is this FerretDB v1\.24\.2\?/);
  });
});
