// npm run bench:nlu [-- DATA.jsonl CATALOG.yml] [--errors] — understanding, measured:
// accuracy on a labelled set (default ../shared/eval/dev.jsonl with its catalog), time per
// message (p50/p99), and the time to build for a 200-product catalog. Prints its workload
// and the machine it ran on; --errors also lists every message it got wrong.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Catalog } from '../src/catalog/catalog';
import { projectRoot } from '../src/paths';
import { BUILTIN_TRAINING_DIR, readTrainingExamples } from '../src/nlu/training-data';
import { Understanding } from '../src/nlu/understand';

const args = process.argv.slice(2);
const showErrors = args.includes('--errors');
const [dataArg, catalogArg] = args.filter((a) => !a.startsWith('--'));
const dataFile = dataArg ?? path.join(projectRoot, '..', 'shared', 'eval', 'dev.jsonl');
const catalogFile = catalogArg ?? path.join(path.dirname(dataFile), 'catalog.yml');
if (!fs.existsSync(dataFile) || !fs.existsSync(catalogFile)) {
  console.error(`usage: npm run bench:nlu -- [DATA.jsonl] [CATALOG.yml]; not found: ${!fs.existsSync(dataFile) ? dataFile : catalogFile}`);
  process.exit(2);
}

type Row = { text: string; intent: string; product: string | null; lang: string };
const rows = fs.readFileSync(dataFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
const catalog = Catalog.load(catalogFile);
const examples = readTrainingExamples([BUILTIN_TRAINING_DIR]);

console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
console.log(`workload: ${rows.length} labelled messages from ${path.relative(process.cwd(), dataFile)}; ${catalog.products.length} products; ${examples.length} training examples\n`);

// Accuracy.
const understanding = Understanding.build(catalog, examples);
const per = { intent: 0, product: 0, lang: 0 };
const byLang = new Map<string, { n: number; intent: number; product: number; lang: number }>();
const byIntent = new Map<string, { n: number; ok: number }>();
const confusions = new Map<string, number>();
for (const row of rows) {
  const got = understanding.understand(row.text);
  const l = byLang.get(row.lang) ?? { n: 0, intent: 0, product: 0, lang: 0 };
  l.n += 1;
  if (got.intent === row.intent) (per.intent += 1), (l.intent += 1);
  else confusions.set(`${row.intent} → ${got.intent}`, (confusions.get(`${row.intent} → ${got.intent}`) ?? 0) + 1);
  if (got.product === row.product) (per.product += 1), (l.product += 1);
  if (got.lang === row.lang) (per.lang += 1), (l.lang += 1);
  byLang.set(row.lang, l);
  const t = byIntent.get(row.intent) ?? { n: 0, ok: 0 };
  t.n += 1;
  if (got.intent === row.intent) t.ok += 1;
  byIntent.set(row.intent, t);
  if (showErrors && (got.intent !== row.intent || got.product !== row.product || got.lang !== row.lang)) {
    console.log(`${JSON.stringify(row.text)}\n   want ${row.intent}/${row.product}/${row.lang}  got ${got.intent}/${got.product}/${got.lang} (${got.confidence})`);
  }
}
const f = (a: number, n: number) => (n ? a / n : 0).toFixed(3);
console.log(`accuracy (target intent ≥ 0.92, product ≥ 0.95, language ≥ 0.95):`);
console.log(`  intent ${f(per.intent, rows.length)}   product ${f(per.product, rows.length)}   language ${f(per.lang, rows.length)}`);
console.log('per language            intent  product  language');
for (const [lang, s] of [...byLang].sort()) console.log(`  ${lang.padEnd(4)} (${String(s.n).padStart(3)})           ${f(s.intent, s.n)}   ${f(s.product, s.n)}    ${f(s.lang, s.n)}`);
console.log('per intent');
for (const [intent, s] of [...byIntent].sort()) console.log(`  ${intent.padEnd(15)} ${f(s.ok, s.n)} (${s.n})`);
console.log('most frequent confusions (expected → got)');
for (const [pair, n] of [...confusions].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${n} × ${pair}`);

// Time per message: every message 20 times, after a warm-up.
for (const row of rows) understanding.understand(row.text);
const times: number[] = [];
for (let round = 0; round < 20; round += 1) {
  for (const row of rows) {
    const start = performance.now();
    understanding.understand(row.text);
    times.push(performance.now() - start);
  }
}
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(3);
console.log(`\ntime per message over ${times.length} calls: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms (target p99 < 2 ms)`);

// Build time with a 200-product catalog: the demo products repeated with new ids and names.
const big = JSON.parse(JSON.stringify(catalog.data)) as typeof catalog.data;
const base = big.products;
big.products = Array.from({ length: 200 }, (_, i) => {
  const p = base[i % base.length]!;
  const n = Math.floor(i / base.length);
  return { ...p, id: `${p.id}-${n}`, names: Object.fromEntries(Object.entries(p.names).map(([l, names]) => [l, (names ?? []).map((x) => `${x} ${n}`)])) as typeof p.names };
});
const tmp = path.join(os.tmpdir(), `taawun-bench-catalog-${process.pid}.json`);
fs.writeFileSync(tmp, JSON.stringify(big));
const builds: number[] = [];
for (let i = 0; i < 5; i += 1) {
  const start = performance.now();
  Understanding.build(Catalog.load(tmp), readTrainingExamples([BUILTIN_TRAINING_DIR]));
  builds.push(performance.now() - start);
}
fs.rmSync(tmp);
builds.sort((a, b) => a - b);
console.log(`start-up (read examples, train, index) with ${big.products.length} products: median ${builds[2]!.toFixed(0)} ms, worst ${builds[4]!.toFixed(0)} ms over 5 builds (target < 1000 ms)`);
