import { DamerauLevenshteinDistance } from 'natural/lib/natural/distance';
import { normalizeText } from './normalize';

/** Words that join a product's name without naming it: "huile d'argan", "zit dyal", "miel de thym". */
const FILLERS = new Set(
  'de d du des la le les l a au aux en pour of the for with a an dyal dial d el al من ديال ديال لل'.split(' ').map((w) => normalizeText(w)),
);

/** Strips the Arabic article and a clinging preposition or conjunction: "بالعسل" → "عسل". */
export function bareToken(token: string): string {
  if (!/[\u0600-\u06FF]/.test(token) || token.length <= 3) return token;
  return token.replace(/^(و|ف|ب|ل|ك)?(ال|لل)?/, '') || token;
}

interface Phrase {
  product: string;
  tokens: string[];
}

/** Where a product was named in a message: its id, how surely, and which words named it. */
export interface ProductMatch {
  id: string;
  score: number;
  tokens: Set<number>;
}

/**
 * Finds the product a message names, from every name and phrasing of every product.
 * Robust to misspelling (one edit, two for long words), to the Arabic article and
 * prepositions, to word order, and to words common to several products ("argan",
 * "honey"), which weigh less than the words that tell products apart.
 */
export class ProductMatcher {
  private readonly phrases: Phrase[] = [];
  private readonly byToken = new Map<string, Phrase[]>();
  private readonly deletions = new Map<string, Set<string>>();
  private readonly weight = new Map<string, number>();

  constructor(products: { id: string; phrases: string[] }[]) {
    const productsOfToken = new Map<string, Set<string>>();
    for (const product of products) {
      for (const text of product.phrases) {
        const tokens = normalizeText(text)
          .split(' ')
          .map(bareToken)
          .filter((t) => t && !FILLERS.has(t));
        if (tokens.length === 0) continue;
        const phrase = { product: product.id, tokens };
        this.phrases.push(phrase);
        for (const token of new Set(tokens)) {
          if (!this.byToken.has(token)) this.byToken.set(token, []);
          this.byToken.get(token)!.push(phrase);
          if (!productsOfToken.has(token)) productsOfToken.set(token, new Set());
          productsOfToken.get(token)!.add(product.id);
        }
      }
    }
    const n = Math.max(products.length, 1);
    for (const [token, owners] of productsOfToken) {
      // A word of one product tells more than a word of many.
      this.weight.set(token, Math.log(1 + n / owners.size) * Math.min(token.length, 8));
      for (const variant of deletionsOf(token)) {
        if (!this.deletions.has(variant)) this.deletions.set(variant, new Set());
        this.deletions.get(variant)!.add(token);
      }
    }
  }

  /** The best product named in a normalised message, if any. */
  match(normalized: string): ProductMatch | undefined {
    const ranked = this.ranked(normalized);
    if (ranked.length === 0) return undefined;
    // Two products named equally surely: the message does not say which.
    if (ranked[1] && ranked[1].score >= ranked[0]!.score * 0.999) return undefined;
    return ranked[0];
  }

  /**
   * Every product a normalised message names, each by words no better match took, in the
   * order the message names them: "2 saboun w 3 amlou" gives the soap, then the amlou.
   */
  matchAll(normalized: string): ProductMatch[] {
    const taken = new Set<number>();
    const out: ProductMatch[] = [];
    for (const m of this.ranked(normalized)) {
      if ([...m.tokens].some((i) => taken.has(i))) continue;
      for (const i of m.tokens) taken.add(i);
      out.push(m);
    }
    return out.sort((a, b) => Math.min(...a.tokens) - Math.min(...b.tokens));
  }

  /** The products whose names the message holds, best first. */
  private ranked(normalized: string): ProductMatch[] {
    const tokens = normalized.split(' ').map(bareToken);
    // Each catalog word, and the message positions where it (or a near spelling) appears.
    const found = new Map<string, number[]>();
    tokens.forEach((token, i) => {
      if (!token || FILLERS.has(token) || /^\d+$/.test(token)) return;
      for (const known of this.candidates(token)) {
        if (!found.has(known)) found.set(known, []);
        found.get(known)!.push(i);
      }
    });
    if (found.size === 0) return [];

    const best = new Map<string, ProductMatch>();
    const seen = new Set<Phrase>();
    for (const known of found.keys()) {
      for (const phrase of this.byToken.get(known) ?? []) {
        if (seen.has(phrase)) continue;
        seen.add(phrase);
        let score = 0;
        let missing = 0;
        const used = new Set<number>();
        for (const token of phrase.tokens) {
          const at = found.get(token);
          if (at) {
            score += this.weight.get(token) ?? 0;
            for (const i of at) used.add(i);
          } else missing += this.weight.get(token) ?? 0;
        }
        // A phrase counts when what is missing weighs less than what was found.
        if (score === 0 || missing >= score) continue;
        const total = score - missing / 2;
        const current = best.get(phrase.product);
        if (!current || total > current.score) best.set(phrase.product, { id: phrase.product, score: total, tokens: used });
      }
    }
    return [...best.values()].sort((a, b) => b.score - a.score);
  }

  private candidates(token: string): string[] {
    if (this.weight.has(token)) return [token];
    if (token.length < 4) return [];
    const out = new Set<string>();
    for (const variant of deletionsOf(token)) for (const known of this.deletions.get(variant) ?? []) out.add(known);
    const limit = token.length >= 8 ? 2 : 1;
    return [...out].filter((known) => Math.abs(known.length - token.length) <= limit && DamerauLevenshteinDistance(known, token) <= limit);
  }
}

/** The word and every form of it with one letter left out: near spellings share one of these. */
function deletionsOf(token: string): string[] {
  const out = [token];
  if (token.length < 4) return out;
  for (let i = 0; i < token.length; i += 1) out.push(token.slice(0, i) + token.slice(i + 1));
  return out;
}
