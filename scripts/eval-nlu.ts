// Scores understanding on a labelled JSON-lines file ({"text","intent","product","lang"}),
// through the same code as `cli -- nlu`: accuracy per field, per language and per intent,
// and the most frequent confusions. Usage: tsx scripts/eval-nlu.ts DATA.jsonl CATALOG.yml
import fs from 'node:fs';
import { Catalog } from '../src/catalog/catalog';
import { BUILTIN_TRAINING_DIR, readTrainingExamples } from '../src/nlu/training-data';
import { Understanding } from '../src/nlu/understand';

const [dataFile, catalogFile] = process.argv.slice(2);
if (!dataFile || !catalogFile) {
  console.error('usage: tsx scripts/eval-nlu.ts DATA.jsonl CATALOG.yml');
  process.exit(2);
}
const rows = fs.readFileSync(dataFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; intent: string; product: string | null; lang: string });
const u = Understanding.build(Catalog.load(catalogFile), readTrainingExamples([BUILTIN_TRAINING_DIR]));
const ok = { intent: 0, product: 0, lang: 0 };
const byLang = new Map<string, { n: number; intent: number }>();
const byIntent = new Map<string, { n: number; ok: number }>();
const confusions = new Map<string, number>();
const verbose = process.env.VERBOSE === '1';
for (const row of rows) {
  const got = u.understand(row.text);
  if (got.intent === row.intent) ok.intent += 1;
  else confusions.set(`${row.intent} -> ${got.intent}`, (confusions.get(`${row.intent} -> ${got.intent}`) ?? 0) + 1);
  if (got.product === row.product) ok.product += 1;
  if (got.lang === row.lang) ok.lang += 1;
  const l = byLang.get(row.lang) ?? { n: 0, intent: 0 };
  l.n += 1;
  if (got.intent === row.intent) l.intent += 1;
  byLang.set(row.lang, l);
  const t = byIntent.get(row.intent) ?? { n: 0, ok: 0 };
  t.n += 1;
  if (got.intent === row.intent) t.ok += 1;
  byIntent.set(row.intent, t);
  if (verbose && (got.intent !== row.intent || got.product !== row.product || got.lang !== row.lang)) {
    console.log(`${JSON.stringify(row.text)}\n   want ${row.intent}/${row.product}/${row.lang}  got ${got.intent}/${got.product}/${got.lang} (${got.confidence})`);
  }
}
const pct = (a: number, n: number) => (a / n).toFixed(3);
console.log(`messages: ${rows.length}`);
console.log(`intent accuracy:   ${pct(ok.intent, rows.length)}`);
console.log(`product accuracy:  ${pct(ok.product, rows.length)}`);
console.log(`language accuracy: ${pct(ok.lang, rows.length)}`);
console.log('intent accuracy per language:');
for (const [lang, s] of [...byLang].sort()) console.log(`  ${lang.padEnd(4)} ${pct(s.intent, s.n)} (${s.n})`);
console.log('accuracy per intent:');
for (const [intent, s] of [...byIntent].sort()) console.log(`  ${intent.padEnd(15)} ${pct(s.ok, s.n)} (${s.n})`);
console.log('most frequent confusions:');
for (const [pair, n] of [...confusions].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${n}  ${pair}`);
