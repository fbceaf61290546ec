import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A database engine running as a child process on a loopback port. */
export interface RunningEngine {
  engine: 'mongod' | 'ferretdb' | 'mongodb-memory-server';
  uri: string;
  dataDir: string;
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

/**
 * Ends an engine a crashed earlier run left behind on the same data folder, so two
 * engines never write one set of files. Only a process whose command line names `binary` is touched.
 */
export function stopLeftover(pidFile: string, binaryName: string): void {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes(binaryName)) process.kill(pid, 'SIGTERM');
  } catch {
    // gone already, or not a Linux /proc: nothing to stop
  }
}

/** Starts a child process and resolves once `port` accepts connections; rejects with its log tail if it exits first. */
export async function startAndWaitForPort(
  command: string,
  args: string[],
  options: { port: number; logFile: string; pidFile: string; timeoutMs?: number },
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
  fs.writeFileSync(options.pidFile, String(child.pid ?? ''));
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
export async function stopChild(child: ChildProcess, pidFile: string, graceMs = 10_000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  fs.rmSync(pidFile, { force: true });
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
