import fs from 'node:fs/promises';
import path from 'node:path';
import { TranscribeError, type Heard, type TranscribeRequest, type Transcriber } from './transcriber';

/**
 * Transcribes through an OpenAI-compatible `/v1/audio/transcriptions` service (OpenAI, Groq,
 * a self-hosted faster-whisper-server...), for a cooperative that prefers one: the audio
 * leaves the machine. `verbose_json` brings the segments' log-probabilities where the
 * service gives them, so "unsure" works as it does locally.
 */
export class HttpTranscriber implements Transcriber {
  readonly name: string;

  constructor(private readonly options: { url: string; apiKey?: string; model: string; timeLimitMs: number }) {
    this.name = `${new URL(options.url).host}:${options.model}`;
  }

  async transcribe(request: TranscribeRequest): Promise<Heard> {
    const form = new FormData();
    form.set('file', new Blob([await fs.readFile(request.file)]), path.basename(request.file));
    form.set('model', this.options.model);
    form.set('response_format', 'verbose_json');
    if (request.language) form.set('language', request.language);
    let res: Response;
    try {
      res = await fetch(this.options.url, {
        method: 'POST',
        body: form,
        headers: this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {},
        signal: AbortSignal.timeout(this.options.timeLimitMs),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new TranscribeError(timedOut ? 'timeout' : 'unavailable', timedOut ? `${this.options.url} gave no transcript within ${Math.round(this.options.timeLimitMs / 1000)} s` : `${this.options.url} cannot be reached: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as { text?: string; duration?: number; language?: string; segments?: { avg_logprob?: number; no_speech_prob?: number; start?: number; end?: number }[]; error?: { message?: string } };
    if (!res.ok) {
      // 400 is the file's fault (not audio, too long for the service); the rest may pass.
      throw new TranscribeError(res.status === 400 || res.status === 413 ? 'unreadable' : 'failed', `${this.options.url} answered ${res.status}: ${body.error?.message ?? res.statusText}`);
    }
    const segments = body.segments ?? [];
    const weight = segments.reduce((sum, s) => sum + Math.max((s.end ?? 0) - (s.start ?? 0), 0.01), 0);
    const logprob = segments.every((s) => typeof s.avg_logprob === 'number') && weight > 0 ? segments.reduce((sum, s) => sum + s.avg_logprob! * Math.max((s.end ?? 0) - (s.start ?? 0), 0.01), 0) / weight : undefined;
    const noSpeech = segments.length > 0 && segments.every((s) => typeof s.no_speech_prob === 'number') ? Math.min(...segments.map((s) => s.no_speech_prob!)) : undefined;
    return {
      text: (body.text ?? '').trim(),
      seconds: body.duration ?? 0,
      ...(body.language ? { language: body.language } : {}),
      ...(logprob !== undefined ? { avgLogprob: logprob } : {}),
      ...(noSpeech !== undefined ? { noSpeechProb: noSpeech } : {}),
    };
  }

  async stop(): Promise<void> {}
}
