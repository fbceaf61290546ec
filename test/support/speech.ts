import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { whichSync } from '../../src/db/embedded/child-process';
import { installedVoiceRuntime } from '../../src/voice/voice-runtime';

/** Why the voice tests cannot run here (no speech runtime, no espeak-ng or opusenc), or undefined when they can. */
export function voiceMissing(): string | undefined {
  if (!installedVoiceRuntime()) return 'the speech runtime is not installed (npm run voice:install)';
  for (const tool of ['espeak-ng', 'opusenc']) if (!whichSync(tool)) return `${tool} is not installed (apt-get install espeak-ng opus-tools)`;
  return undefined;
}

/** `describe`, or `describe.skip` with the reason printed when the voice tests cannot run (a failure in CI, TAAWUN_REQUIRE_VOICE=1). */
export function describeVoice(name: string, body: () => void): void {
  const missing = voiceMissing();
  if (missing && process.env.TAAWUN_REQUIRE_VOICE === '1') throw new Error(`${name}: ${missing}, and TAAWUN_REQUIRE_VOICE=1`);
  if (missing) {
    // eslint-disable-next-line no-console
    console.warn(`skipped: ${name}: ${missing}`);
    describe.skip(name, body);
  } else describe(name, body);
}

/**
 * A voice note as WhatsApp sends it (OGG/Opus, mono) of espeak-ng saying `text`. espeak's
 * en-us voice at 150 words a minute is what Whisper base hears word for word; its French
 * and Arabic voices are too robotic for it (they come back as other words).
 */
export function synthesizeVoiceNote(text: string, voice: 'en-us' | 'fr-fr' | 'ar', options: { wordsPerMinute?: number } = {}): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-speech-'));
  try {
    const wav = path.join(dir, 'note.wav');
    const ogg = path.join(dir, 'note.ogg');
    execFileSync('espeak-ng', ['-v', voice, '-s', String(options.wordsPerMinute ?? 150), '-w', wav, text]);
    execFileSync('opusenc', ['--quiet', '--bitrate', '24', wav, ogg]);
    return fs.readFileSync(ogg);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `seconds` of silence as an OGG/Opus voice note (a pocket recording). */
export function silentVoiceNote(seconds: number): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-speech-'));
  try {
    const wav = path.join(dir, 'silence.wav');
    const ogg = path.join(dir, 'silence.ogg');
    fs.writeFileSync(wav, wavOf(new Int16Array(16_000 * seconds), 16_000));
    execFileSync('opusenc', ['--quiet', '--bitrate', '16', wav, ogg]);
    return fs.readFileSync(ogg);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A mono 16-bit PCM WAV file of `samples`. */
function wavOf(samples: Int16Array, rate: number): Buffer {
  const data = Buffer.from(samples.buffer);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
