/**
 * Folds the ways customers write one word into one form, so that comparisons, keywords,
 * the catalog and the classifier all see the same thing:
 * - case, French accents, Arabic diacritics and tatweel;
 * - alef/hamza, yaa/alef maqsura, taa marbuta, and the Moroccan gaf (ݣ گ ڭ) variants;
 * - Arabic-Indic digits;
 * - Arabizi digits inside Latin words: 2 and 3 (ء ع) as a, 5 (خ) as kh, 7 (ح) as h, 9 (ق) as q;
 * - letters repeated for emphasis or by habit ("salaaaam", "mzyaan", "commande");
 * - SMS abbreviations (slt, bjr, svp, stp, mrc, cc, pls, thx…).
 * "Bonjour !" and "bonjour", "إيه" and "ايه", "ch7al" and "chhal" compare equal.
 */
export function normalizeText(text: string): string {
  const folded = text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u064B-\u065F\u0670\u0640]/g, '')
    .replace(/[أإآٱ]/g, 'ا')
    .replace(/ى/g, 'ي')
    .replace(/ة/g, 'ه')
    .replace(/[ؤ]/g, 'و')
    .replace(/[ئ]/g, 'ي')
    .replace(/[ڭگݣ]/g, 'ك')
    .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/[^\p{L}\p{N}\s+]/gu, ' ');
  const words: string[] = [];
  for (const raw of folded.split(/\s+/)) {
    if (!raw) continue;
    const token = collapseRepeats(arabizi(raw));
    const expanded = ABBREVIATIONS.get(token);
    words.push(expanded ?? token);
  }
  return words.join(' ');
}

/** Whether `phrase` occurs in `text` as whole words (both already normalised). */
export function containsPhrase(text: string, phrase: string): boolean {
  if (!phrase) return false;
  return ` ${text} `.includes(` ${phrase} `);
}

// Digits stand for letters only inside a Latin word: "3sel", "ch7al", "l9ar3a"; not "3 pots".
function arabizi(token: string): string {
  if (!/[a-z]/.test(token) || !/[23579]/.test(token)) return token;
  return token.replace(/[23]/g, 'a').replace(/5/g, 'kh').replace(/7/g, 'h').replace(/9/g, 'q');
}

// Latin doubles carry no meaning customers agree on ("comande", "commande"); Arabic ones do
// ("اللي" is not "إلى"), so there only a letter held three times or more is one letter.
function collapseRepeats(token: string): string {
  return token.replace(/([a-z])\1+/g, '$1').replace(/([\u0600-\u06FF])\1{2,}/g, '$1');
}

// Keys are written as they look after the other folds (repeats collapsed).
const ABBREVIATIONS = new Map(
  Object.entries({
    slt: 'salut',
    bjr: 'bonjour',
    bsr: 'bonsoir',
    svp: 's il vous plait',
    stp: 's il te plait',
    mrc: 'merci',
    mrci: 'merci',
    cv: 'ca va',
    vs: 'vous',
    ds: 'dans',
    bcp: 'beaucoup',
    tjrs: 'toujours',
    dsl: 'desole',
    pq: 'pourquoi',
    qd: 'quand',
    pls: 'please',
    plz: 'please',
    thx: 'thanks',
    thnx: 'thanks',
    u: 'you',
    ur: 'your',
    chal: 'chhal',
    bchal: 'b chhal',
    wsh: 'wach',
    slm: 'salam',
  }).map(([k, v]) => [k, v]),
);
