import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { LANGUAGES, type Language } from '../config';
import { projectRoot } from '../paths';
import { INTENTS } from './intents';

/** One training example: a message, its intent and language; "{product}" marks where a product is named. */
export interface Example {
  text: string;
  intent: string;
  lang: Language;
}

/** The built-in examples, shipped for all four languages (read from the source tree, also when running the build). */
export const BUILTIN_TRAINING_DIR = path.join(projectRoot, 'src', 'nlu', 'training');

/** Reads every `<intent>.yml` of the folders that exist; a bad file is an error naming it and what is wrong. */
export function readTrainingExamples(dirs: string[]): Example[] {
  const out: Example[] = [];
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      const file = path.join(dir, name);
      const data = parse(fs.readFileSync(file, 'utf8')) as { intent?: unknown; examples?: Record<string, unknown> };
      const intent = data?.intent;
      if (typeof intent !== 'string' || !(INTENTS as readonly string[]).includes(intent)) {
        throw new Error(`${file}: "intent" must be one of ${INTENTS.join(', ')}, got ${JSON.stringify(intent)}`);
      }
      for (const [lang, list] of Object.entries(data.examples ?? {})) {
        if (!(LANGUAGES as readonly string[]).includes(lang)) throw new Error(`${file}: examples.${lang}: the languages are ${LANGUAGES.join(', ')}`);
        if (!Array.isArray(list)) throw new Error(`${file}: examples.${lang} must be a list of messages`);
        for (const text of list) out.push({ text: String(text), intent, lang: lang as Language });
      }
    }
  }
  return out;
}
