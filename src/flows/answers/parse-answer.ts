import type { Catalog, ProductView } from '../../catalog/catalog';
import { LANGUAGES, type Language } from '../../config';
import type { Locales } from '../../i18n/locales';
import { containsPhrase, normalizeText } from '../../nlu/normalize';
import type { AskStep } from '../flow-schema';
import { resolveText } from '../texts';
import { normalizeMoroccanPhone } from './phone';

/** What an ask understood: the value to store, or nothing usable. */
export type Answer = { ok: true; value: string | number | boolean | ProductView } | { ok: false };

/** The words of all languages under a locale key, normalised: a customer may answer "wakha" to a French question. */
function wordsOfAllLanguages(locales: Locales, key: string): string[] {
  return LANGUAGES.flatMap((l) => locales.list(l, key)).map(normalizeText);
}

const NONE: Answer = { ok: false };

// The words people put before their name, in the four languages.
const NAME_INTRO = /^\s*(je m'?appelle|je m’appelle|moi c'?est|c'?est|mon nom est|mon prénom est|my name is|i am|i'm|it's|this is|smiti|esmi|ismi|اسمي|إسمي|سميتي)\s+/iu;

/** Interprets a customer's reply to an ask of the given type. */
export function parseAnswer(
  step: Pick<AskStep, 'ask' | 'min' | 'max' | 'max_length' | 'choices' | 'in_cart'>,
  reply: { text: string; payload?: string },
  context: {
    lang: Language;
    locales: Locales;
    catalog: Catalog;
    /** The products of the order being taken, for `in_cart` asks. */
    inCart?: string[];
    stock?: (product: string) => number | undefined;
    /** The product words name when no full name matches (typos, partial names), from understanding. */
    productIn?: (text: string) => string | undefined;
    /** The most this quantity may be now (the stock left, below the catalog's maximum). */
    maxQuantity?: number;
  },
): Answer {
  const text = reply.text.trim();
  const said = normalizeText(text);
  switch (step.ask) {
    case 'text': {
      const max = step.max_length ?? 500;
      return text.length > 0 && text.length <= max ? { ok: true, value: text } : NONE;
    }
    case 'number': {
      const n = readNumber(said, context.locales);
      if (n === undefined) return NONE;
      if ((step.min !== undefined && n < step.min) || (step.max !== undefined && n > step.max)) return NONE;
      return { ok: true, value: n };
    }
    case 'name': {
      // A name is a few words of letters: "Fatima Zahra", "Aït Ali", "خديجة". A sentence is not;
      // "je m'appelle Karim", "smiti Youssef", "اسمي سعاد" give the name after the words.
      const name = text.replace(NAME_INTRO, '').trim();
      const words = name.split(/\s+/).filter(Boolean);
      const ok = words.length >= 1 && words.length <= 4 && name.length <= 60 && words.every((w) => /^[\p{L}\p{M}][\p{L}\p{M}'’.-]*$/u.test(w));
      return ok ? { ok: true, value: name } : NONE;
    }
    case 'quantity': {
      // Zero, "-2", "1,5", "bzzaf" and 10,000 all get the retry: a whole number of jars, within what one order takes.
      if (/(^|\s)[-−]\s*\d/.test(text) || /\d[.,]\d{1,2}(?!\d)/.test(text)) return NONE;
      const n = readNumber(said, context.locales, true);
      const max = step.max ?? context.maxQuantity ?? context.catalog.orders.max_quantity;
      return n !== undefined && Number.isInteger(n) && n >= (step.min ?? 1) && n <= max ? { ok: true, value: n } : NONE;
    }
    case 'yesno': {
      if (reply.payload === 'yes' || reply.payload === 'no') return { ok: true, value: reply.payload === 'yes' };
      const yesWords = wordsOfAllLanguages(context.locales, 'answers.yes');
      const noWords = wordsOfAllLanguages(context.locales, 'answers.no');
      // The opening word decides ("oui, pour la livraison": "la" is Darija for no, but not here).
      const starts = (w: string) => said === w || said.startsWith(`${w} `);
      const yesFirst = yesWords.some(starts);
      const noFirst = noWords.some(starts);
      if (yesFirst !== noFirst) return { ok: true, value: yesFirst };
      const yes = yesWords.some((w) => containsPhrase(said, w));
      const no = noWords.some((w) => containsPhrase(said, w));
      return yes !== no ? { ok: true, value: yes } : NONE;
    }
    case 'phone': {
      const phone = normalizeMoroccanPhone(text);
      return phone ? { ok: true, value: phone } : NONE;
    }
    case 'rating': {
      const n = readRating(text, said, context.locales);
      return n !== undefined ? { ok: true, value: n } : NONE;
    }
    case 'choice': {
      const choices = step.choices ?? [];
      const byPayload = choices.find((c) => c.value === reply.payload);
      if (byPayload) return { ok: true, value: byPayload.value };
      if (/^\d+$/.test(said) && choices[Number(said) - 1]) return { ok: true, value: choices[Number(said) - 1]!.value };
      const matches = choices.filter((c) => {
        const labels = LANGUAGES.map((l) => normalizeText(resolveText(c.label, l, context.locales)));
        const words = LANGUAGES.flatMap((l) => c.words?.[l] ?? []).map(normalizeText);
        return [...labels, ...words, normalizeText(c.value)].some((w) => w && (said === w || containsPhrase(said, w)));
      });
      return matches.length === 1 ? { ok: true, value: matches[0]!.value } : NONE;
    }
    case 'product': {
      const id = reply.payload?.startsWith('product:') ? reply.payload.slice(8) : undefined;
      const among = step.in_cart ? (context.inCart ?? []) : undefined;
      const guessed = context.productIn?.(text);
      const product =
        (id && context.catalog.product(id)) ||
        context.catalog.findProduct(text, among) ||
        (guessed && (!among || among.includes(guessed)) ? context.catalog.product(guessed) : undefined);
      if (!product || (step.in_cart && !(context.inCart ?? []).includes(product.id))) return NONE;
      return { ok: true, value: context.catalog.view(product, context.lang, context.stock?.(product.id)) };
    }
  }
}

/**
 * A score from 1 to 5: "4", "⭐⭐⭐⭐", 👍 (5) and 👎 (1), or words in any language
 * ("mzyan bzaf", "très bien", "ممتاز"; answers.ratings lists them per score, and the
 * longest match wins, so "pas bien" is not "bien").
 */
export function readRating(text: string, said: string, locales: Locales): number | undefined {
  const stars = [...text].filter((c) => c === '⭐' || c === '★').length;
  if (stars > 0) return stars <= 5 ? stars : undefined;
  if (/👍/u.test(text) && !/👎/u.test(text)) return 5;
  if (/👎/u.test(text) && !/👍/u.test(text)) return 1;
  const n = readNumber(said, locales);
  if (n !== undefined) return Number.isInteger(n) && n >= 1 && n <= 5 ? n : undefined;
  const phrases = LANGUAGES.flatMap((lang) => locales.list(lang, 'answers.ratings').flatMap((words, i) => words.split('|').map((w) => ({ phrase: normalizeText(w), score: i + 1 }))));
  const found = phrases.filter((p) => p.phrase && containsPhrase(said, p.phrase)).sort((a, b) => b.phrase.length - a.phrase.length)[0];
  return found?.score;
}

/**
 * A number in digits ("3", "٣", "1,5") or words ("trois", "tlata", "ثلاثة", "three").
 * With `grouped`, "10,000", "10.000" and "10 000" are ten thousand, as a count is written.
 */
export function readNumber(said: string, locales: Locales, grouped = false): number | undefined {
  const thousands = grouped ? /(^|\s)(\d{1,3}(?:[., ]\d{3})+)(\s|$)/.exec(said) : null;
  if (thousands) return Number(thousands[2]!.replace(/[., ]/g, ''));
  const digits = /(^|\s)(\d+(?:[.,]\d+)?)(\s|$)/.exec(said);
  if (digits) return Number(digits[2]!.replace(',', '.'));
  for (const lang of LANGUAGES) {
    const words = locales.list(lang, 'answers.numbers');
    // answers.numbers lists the words for 1, 2, 3… in order; several spellings are separated by "|".
    for (let i = 0; i < words.length; i += 1) {
      if (words[i]!.split('|').some((w) => containsPhrase(said, normalizeText(w)))) return i + 1;
    }
  }
  return undefined;
}
