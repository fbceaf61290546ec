import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/**
 * The real server in a child process (`node --import tsx src/server.ts`, as `npm run dev`),
 * for tests that kill it: its JSON log goes to a file, and the test waits on its lines.
 */
export class ServerProcess {
  private child: ChildProcess | undefined;
  private lines: Record<string, unknown>[] = [];
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  /** When the current process said it listens. */
  listeningAt = 0;
  /** How many times it was started. */
  starts = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  /** The server's address. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Whether the process runs now. */
  get running(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  /** Starts it (with `extra` environment, such as a crash point) and resolves once it listens. */
  async start(extra: Record<string, string> = {}): Promise<void> {
    this.starts += 1;
    this.lines = [];
    fs.appendFileSync(this.logFile, `\n=== ${this.name} start ${this.starts} ${JSON.stringify(extra)}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'server.ts')], {
      cwd: ROOT,
      env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(this.port), ...this.env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let rest = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      fs.appendFileSync(this.logFile, chunk);
      const text = rest + chunk.toString('utf8');
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line (tsx's own output)
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => fs.appendFileSync(this.logFile, chunk));
    const deadline = Date.now() + 60_000;
    while (!this.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('Taawun is running'))) {
      if (!this.running) throw new Error(`${this.name} exited before listening (${JSON.stringify(await this.exited)}); see ${this.logFile}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not listen within 60 s; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    this.listeningAt = Date.now();
  }

  /** Kills it as `kill -9` does, and waits for it to be gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** Resolves when the process exits by itself (a crash point), with how it ended. */
  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited ?? Promise.resolve({ code: null, signal: null });
  }

  /** Stops it as Ctrl-C does. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGINT');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** The log lines of the current process that match. */
  logged(match: (line: Record<string, unknown>) => boolean): Record<string, unknown>[] {
    return this.lines.filter(match);
  }
}
