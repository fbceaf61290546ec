// `npm run bench:voice`: hears a synthesised set of customer voice notes with the local
// speech worker and prints transcription time per second of audio, the worker's memory,
// and word error rate and product-name recall per language. The speech is espeak-ng's
// (Debian), encoded OGG/Opus as WhatsApp sends it: far more robotic than a person.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/logger';
import { LocalTranscriber } from '../src/voice/local-transcriber';
import { installedVoiceRuntime } from '../src/voice/voice-runtime';

const SET: { lang: 'en' | 'fr' | 'ar'; voice: string; text: string; products: string[] }[] = [
  { lang: 'en', voice: 'en-us', text: 'Hello, I would like to order two jars of honey, please.', products: ['honey'] },
  { lang: 'en', voice: 'en-us', text: 'Do you still have argan oil for cooking?', products: ['argan oil'] },
  { lang: 'en', voice: 'en-us', text: 'How much is the amlou and when can you deliver it?', products: ['amlou'] },
  { lang: 'en', voice: 'en-us', text: 'I want three bars of argan soap and some rose water.', products: ['argan soap', 'rose water'] },
  { lang: 'fr', voice: 'fr-fr', text: "Bonjour, je voudrais commander deux pots de miel, s'il vous plaît.", products: ['miel'] },
  { lang: 'fr', voice: 'fr-fr', text: "Est-ce que vous avez encore de l'huile d'argan alimentaire ?", products: ["huile d'argan"] },
  { lang: 'fr', voice: 'fr-fr', text: "Combien coûte l'amlou, et vous livrez à Marrakech ?", products: ['amlou'] },
  { lang: 'fr', voice: 'fr-fr', text: 'Je veux trois savons à l’argan et de l’eau de rose.', products: ['savon', 'eau de rose'] },
  { lang: 'ar', voice: 'ar', text: 'السلام عليكم، أريد أن أطلب علبتين من العسل', products: ['العسل'] },
  { lang: 'ar', voice: 'ar', text: 'هل عندكم زيت الأركان للطبخ؟', products: ['زيت الأركان'] },
  { lang: 'ar', voice: 'ar', text: 'بكم الأملو ومتى يصل التوصيل؟', products: ['الأملو'] },
  { lang: 'ar', voice: 'ar', text: 'أريد ثلاث قطع من صابون الأركان وماء الورد', products: ['صابون', 'ماء الورد'] },
];

const words = (s: string) => s.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '').replace(/[^\p{L}\p{N}\s']/gu, ' ').replace(/[’']/g, ' ').split(/\s+/).filter(Boolean);

/** Word error rate: the edit distance between the word lists over the reference's length. */
function wer(reference: string, heard: string): number {
  const r = words(reference);
  const h = words(heard);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i += 1) {
    const row = [i];
    for (let j = 1; j <= h.length; j += 1) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[h.length]! / r.length;
}

async function main(): Promise<void> {
  const runtime = installedVoiceRuntime();
  if (!runtime) throw new Error('the speech runtime is not installed: npm run voice:install');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-bench-voice-'));
  const transcriber = new LocalTranscriber({ ...runtime, timeLimitMs: 300_000, log: createLogger('warn') });
  console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(`workload: ${SET.length} espeak-ng notes (${SET.filter((s) => s.lang === 'en').length} en, ${SET.filter((s) => s.lang === 'fr').length} fr, ${SET.filter((s) => s.lang === 'ar').length} ar), OGG/Opus 24 kb/s, Whisper base int8, beam 1, 1 worker, told the language`);
  const started = Date.now();
  await transcriber.transcribe({ file: makeNote(dir, 0), language: 'en', maxSeconds: 600 });
  console.log(`worker start and first note: ${Date.now() - started} ms`);
  const per: Record<string, { wer: number[]; found: number; products: number; audio: number; ms: number }> = {};
  let peakRss = 0;
  for (const [i, note] of SET.entries()) {
    const file = makeNote(dir, i);
    const t0 = Date.now();
    const heard = await transcriber.transcribe({ file, language: note.lang, maxSeconds: 600 });
    const ms = Date.now() - t0;
    for (const pid of transcriber.pids) peakRss = Math.max(peakRss, rssOf(pid));
    const p = (per[note.lang] ??= { wer: [], found: 0, products: 0, audio: 0, ms: 0 });
    p.wer.push(wer(note.text, heard.text));
    p.products += note.products.length;
    p.found += note.products.filter((name) => words(heard.text).join(' ').includes(words(name).join(' '))).length;
    p.audio += heard.seconds;
    p.ms += ms;
    console.log(`  ${note.lang} ${(ms / heard.seconds / 1000).toFixed(2)} s/s  wer ${wer(note.text, heard.text).toFixed(2)}  «${heard.text}»`);
  }
  console.log('per language       seconds of work per second of audio   word error rate   product names heard');
  for (const [lang, p] of Object.entries(per)) console.log(`  ${lang}               ${(p.ms / 1000 / p.audio).toFixed(2)}                                 ${(p.wer.reduce((a, b) => a + b, 0) / p.wer.length).toFixed(2)}              ${p.found}/${p.products}`);
  console.log(`worker memory (peak RSS): ${Math.round(peakRss / 1024)} MB`);
  await transcriber.stop();
  fs.rmSync(dir, { recursive: true, force: true });

  function makeNote(folder: string, i: number): string {
    const note = SET[i]!;
    const wav = path.join(folder, `${i}.wav`);
    const ogg = path.join(folder, `${i}.ogg`);
    if (!fs.existsSync(ogg)) {
      execFileSync('espeak-ng', ['-v', note.voice, '-s', '150', '-w', wav, note.text]);
      execFileSync('opusenc', ['--quiet', '--bitrate', '24', wav, ogg]);
    }
    return ogg;
  }
}

/** A process's resident memory in kB (Linux). */
function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

main().catch((err: Error) => {
  console.error(`bench:voice failed: ${err.message}`);
  process.exit(1);
});
