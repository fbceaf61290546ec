import path from 'node:path';
import readline from 'node:readline';
import { Catalog } from '../catalog/catalog';
import { BUILTIN_TRAINING_DIR, readTrainingExamples } from '../nlu/training-data';
import { Understanding } from '../nlu/understand';

/**
 * `nlu --catalog FILE`: reads JSON lines {"text": …} on stdin and writes, for each, one
 * line {"intent", "product", "lang"} in the same order; nothing else goes to stdout. No
 * database. The admin's examples in <catalog folder>/training/ are used with the built-in ones.
 */
export async function nluCommand(args: string[]): Promise<number> {
  const i = args.indexOf('--catalog');
  const file = i >= 0 ? args[i + 1] : undefined;
  if (!file) {
    console.error('usage: npm run --silent cli -- nlu --catalog FILE  < messages.jsonl');
    return 2;
  }
  const catalog = Catalog.load(file);
  const understanding = Understanding.build(catalog, readTrainingExamples([BUILTIN_TRAINING_DIR, path.join(path.dirname(path.resolve(file)), 'training')]));
  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let line = 0;
  for await (const raw of input) {
    line += 1;
    if (!raw.trim()) continue;
    let text: unknown;
    try {
      text = (JSON.parse(raw) as { text?: unknown }).text;
    } catch {
      text = undefined;
    }
    if (typeof text !== 'string') {
      // One line out per line in: a bad line is answered as not understood, and said on stderr.
      console.error(`stdin line ${line}: expected {"text": "…"}`);
      process.stdout.write(`${JSON.stringify({ intent: 'unknown', product: null, lang: 'fr' })}\n`);
      continue;
    }
    const u = understanding.understand(text);
    process.stdout.write(`${JSON.stringify({ intent: u.intent, product: u.product, lang: u.lang })}\n`);
  }
  return 0;
}
