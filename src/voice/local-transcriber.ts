import fs from 'node:fs';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { Logger } from '../logger';
import { TranscribeError, type Heard, type TranscribeRequest, type Transcriber } from './transcriber';
import { SPEECH_WORKER } from './voice-runtime';

interface Job {
  id: number;
  request: TranscribeRequest;
  resolve(heard: Heard): void;
  reject(err: Error): void;
}

interface WorkerAnswer {
  id?: number;
  ok?: boolean;
  ready?: boolean;
  error?: string;
  message?: string;
  text?: string;
  seconds?: number;
  language?: string;
  avgLogprob?: number;
  noSpeechProb?: number;
}

// A worker that died this many times in a row without finishing a job is not started again
// for a while: the model or the environment is broken, and each start costs a model load.
const CRASHES_BEFORE_PAUSE = 3;
const PAUSE_MS = 60_000;

/**
 * Transcribes with the Python speech worker (speech-worker.py) on this machine: one worker
 * process a slot, each one file at a time, started on first use and again when it dies. A
 * file that takes longer than the time limit kills its worker (the only way to stop
 * CTranslate2 mid-file); the next job starts a fresh one.
 */
export class LocalTranscriber implements Transcriber {
  readonly name: string;
  private readonly queue: Job[] = [];
  private readonly slots: Slot[];
  private nextId = 1;
  private stopped = false;

  constructor(options: { python: string; model: string; workers?: number; timeLimitMs: number; threads?: number; log: Logger }) {
    this.name = `local:${path.basename(options.model)}`;
    this.slots = Array.from({ length: Math.max(1, options.workers ?? 1) }, (_, i) => new Slot(i, options, () => this.next()));
  }

  /** Queues the file; resolves with what was heard, or rejects with a TranscribeError. */
  transcribe(request: TranscribeRequest): Promise<Heard> {
    if (this.stopped) return Promise.reject(new TranscribeError('unavailable', 'the transcriber is stopped'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request, resolve, reject });
      this.next();
    });
  }

  /** Files waiting for a worker (not counting those being heard). */
  get waiting(): number {
    return this.queue.length;
  }

  /** The workers' process ids, for the benchmark's memory figure and the crash test. */
  get pids(): number[] {
    return this.slots.map((s) => s.pid).filter((p): p is number => p !== undefined);
  }

  private next(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.free) slot.run(this.queue.shift()!);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const job of this.queue.splice(0)) job.reject(new TranscribeError('unavailable', 'the server is stopping'));
    await Promise.all(this.slots.map((s) => s.stop()));
  }
}

/** One worker process and the job it is on. */
class Slot {
  private child: ChildProcessWithoutNullStreams | undefined;
  private ready: Promise<void> | undefined;
  private job: Job | undefined;
  private timer: NodeJS.Timeout | undefined;
  private crashes = 0;
  private pausedUntil = 0;

  constructor(
    private readonly index: number,
    private readonly options: { python: string; model: string; timeLimitMs: number; threads?: number; log: Logger },
    private readonly done: () => void,
  ) {}

  get free(): boolean {
    return this.job === undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  run(job: Job): void {
    this.job = job;
    void this.start()
      .then(() => {
        if (this.job !== job) return;
        this.timer = setTimeout(() => {
          this.options.log.warn({ worker: this.index, limitMs: this.options.timeLimitMs, pid: this.child?.pid }, 'voice: a transcription ran out of time; its worker is stopped and started again for the next one');
          this.finish(job, new TranscribeError('timeout', `no transcript within ${Math.round(this.options.timeLimitMs / 1000)} s`));
          this.child?.kill('SIGKILL');
        }, this.options.timeLimitMs);
        this.child!.stdin.write(`${JSON.stringify({ id: job.id, ...job.request })}\n`);
      })
      .catch((err: Error) => this.finish(job, err instanceof TranscribeError ? err : new TranscribeError('unavailable', err.message)));
  }

  private finish(job: Job, outcome: Heard | Error): void {
    if (this.job !== job) return;
    clearTimeout(this.timer);
    this.job = undefined;
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
    this.done();
  }

  /** Starts the worker unless it runs; resolves once its model is loaded. */
  private start(): Promise<void> {
    if (this.ready) return this.ready;
    if (Date.now() < this.pausedUntil) return Promise.reject(new TranscribeError('unavailable', `the speech worker failed ${CRASHES_BEFORE_PAUSE} times in a row; it is tried again in a minute`));
    const child = spawn(this.options.python, [SPEECH_WORKER], {
      env: { ...process.env, VOICE_MODEL_PATH: this.options.model, VOICE_THREADS: String(this.options.threads ?? 0), PYTHONUNBUFFERED: '1', ...(fs.existsSync(this.options.model) ? { HF_HUB_OFFLINE: '1' } : {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    this.ready = new Promise<void>((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        let answer: WorkerAnswer;
        try {
          answer = JSON.parse(line) as WorkerAnswer;
        } catch {
          return this.options.log.warn({ worker: this.index, line: line.slice(0, 200) }, 'voice: the speech worker wrote a line that is not JSON');
        }
        if (answer.ready !== undefined) {
          if (answer.ready) {
            this.options.log.info({ worker: this.index, pid: child.pid, model: this.options.model }, 'voice: speech worker ready');
            resolve();
          } else reject(new TranscribeError('unavailable', `the speech model does not load: ${answer.error}`));
          return;
        }
        const job = this.job;
        if (!job || answer.id !== job.id) return;
        this.crashes = 0;
        if (answer.ok) this.finish(job, { text: answer.text ?? '', seconds: answer.seconds ?? 0, ...(answer.language ? { language: answer.language } : {}), ...(answer.avgLogprob !== undefined && answer.avgLogprob !== null ? { avgLogprob: answer.avgLogprob } : {}), ...(answer.noSpeechProb !== undefined ? { noSpeechProb: answer.noSpeechProb } : {}) });
        else {
          const reason = answer.error === 'unreadable' || answer.error === 'too_long' ? answer.error : 'failed';
          this.finish(job, new TranscribeError(reason, answer.message ?? answer.error ?? 'the worker could not transcribe it', answer.seconds));
        }
      });
      child.on('error', (err) => reject(new TranscribeError('unavailable', `the speech worker could not be started with ${this.options.python}: ${err.message}; run npm run voice:install`)));
      child.on('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        const job = this.job;
        reject(new TranscribeError('unavailable', `the speech worker ended before it was ready (${signal ?? `code ${code}`}): ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`));
        if (signal === 'SIGTERM' && !job) return;
        this.crashes += 1;
        if (this.crashes >= CRASHES_BEFORE_PAUSE) this.pausedUntil = Date.now() + PAUSE_MS;
        if (job) {
          this.options.log.error({ worker: this.index, pid: child.pid, code, signal, stderr: stderr.trim().split('\n').slice(-3).join(' | ') }, 'voice: the speech worker died during a transcription; it is started again for the next one');
          this.finish(job, new TranscribeError('crashed', `the speech worker died (${signal ?? `code ${code}`})`));
        }
      });
    });
    // Nothing may wait on it unseen: the job's own handler reports the failure.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin.end();
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    });
  }
}
