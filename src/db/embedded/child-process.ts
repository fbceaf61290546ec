import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A database engine running as a child process on a loopback port. */
export interface RunningEngine {
  engine: 'mongod' | 'ferretdb' | 'mongodb-memory-server';
  uri: string;
  dataDir: string;
  /** The program that runs (absent when another process's engine is shared, or for mongodb-memory-server). */
  binary?: string;
  /** The engine's process, when this process started it. */
  pid?: number;
  stop(): Promise<void>;
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Finds an executable on PATH, or undefined. */
export function whichSync(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Who runs the engine on a data folder: written at start, removed at a clean stop. */
interface EngineState {
  enginePid: number;
  ownerPid: number;
  port: number;
}

const stateFile = (dataDir: string) => path.join(dataDir, 'engine.json');

/** Whether a process of that pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * What runs on a data folder. An engine whose Taawun is still alive is `owned` (its port
 * is given, so a CLI can share it); one whose Taawun crashed is stopped here, and waited for,
 * so two engines never write one set of files. Only a process whose command line names `binaryName` is touched.
 */
export async function inspectDataDir(dataDir: string, binaryName: string): Promise<{ state: 'free' } | { state: 'owned'; port: number; ownerPid: number }> {
  let saved: EngineState;
  try {
    saved = JSON.parse(fs.readFileSync(stateFile(dataDir), 'utf8')) as EngineState;
  } catch {
    return { state: 'free' };
  }
  let isEngine = false;
  try {
    isEngine = fs.readFileSync(`/proc/${saved.enginePid}/cmdline`, 'utf8').includes(binaryName);
  } catch {
    isEngine = false;
  }
  if (isEngine && processAlive(saved.ownerPid) && saved.ownerPid !== process.pid) return { state: 'owned', port: saved.port, ownerPid: saved.ownerPid };
  if (isEngine) await stopOrphan(saved.enginePid);
  fs.rmSync(stateFile(dataDir), { force: true });
  return { state: 'free' };
}

/** Stops an engine left by a Taawun that crashed: SIGTERM, then SIGKILL after 10 s; resolves once it is gone. */
async function stopOrphan(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; processAlive(pid); waited += 50) {
    if (waited === 10_000) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a child process and resolves once `port` accepts connections; rejects with its log tail if it exits first. */
export async function startAndWaitForPort(
  command: string,
  args: string[],
  options: { port: number; logFile: string; dataDir: string; timeoutMs?: number },
): Promise<ChildProcess> {
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.openSync(options.logFile, 'a');
  // Its own process group: a Ctrl-C at the terminal reaches only the server, which then
  // stops the engine after its last write instead of both stopping at once.
  const child = spawn(command, args, { stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  child.on('error', (err) => {
    exited = err.message;
  });
  const state: EngineState = { enginePid: child.pid ?? 0, ownerPid: process.pid, port: options.port };
  fs.writeFileSync(stateFile(options.dataDir), JSON.stringify(state));
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (exited) break;
    if (await canConnect(options.port)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  const tail = readTail(options.logFile, 15);
  throw new Error(`${path.basename(command)} ${exited ?? 'did not open its port in time'}; last lines of ${options.logFile}:\n${tail}`);
}

/** Sends SIGTERM, waits for the exit, and SIGKILLs after `graceMs`. */
export async function stopChild(child: ChildProcess, dataDir: string, graceMs = 10_000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  fs.rmSync(stateFile(dataDir), { force: true });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function readTail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
