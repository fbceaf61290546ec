import fs from 'node:fs';
import { DamerauLevenshteinDistance } from 'natural/lib/natural/distance';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { Language } from '../config';
import { SourceMap, type Diagnostic } from '../flows/diagnostics';
import { containsPhrase, normalizeText } from '../nlu/normalize';

const perLanguage = z.object({ fr: z.string(), ar: z.string().optional(), ary: z.string().optional(), en: z.string().optional() });

const catalogSchema = z.object({
  cooperative: z.object({
    name: z.string(),
    city: z.string().optional(),
    currency: z.string().default('MAD'),
    phone: z.string().optional(),
    hours: perLanguage.optional(),
    delivery: perLanguage.optional(),
    payment: perLanguage.optional(),
  }),
  products: z
    .array(
      z.object({
        id: z.string().regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and -'),
        names: z.object({ fr: z.array(z.string()).min(1), ar: z.array(z.string()).optional(), ary: z.array(z.string()).optional(), en: z.array(z.string()).optional() }),
        price: z.number().nonnegative(),
        unit: perLanguage,
        stock: z.number().int().nonnegative(),
        description: perLanguage.optional(),
        // More ways customers name it, in any language or spelling: "zit l3ochba", "argan oil for hair".
        phrases: z.array(z.string()).optional(),
        // Its shelf in the WhatsApp shop: products are shown in sections by category.
        category: perLanguage.optional(),
        // A photo for the WhatsApp catalog (npm run cli -- catalog publish), an https address.
        image: z.string().url().refine((u) => u.startsWith('https://'), 'must be an https:// address').optional(),
      }),
    )
    .min(1),
  // How orders are taken: number prefix, quantity limit, delivery zones, pick-up and bank transfer.
  orders: z
    .object({
      number_prefix: z.string().regex(/^[A-Z0-9]{1,8}$/, 'must be 1 to 8 capital letters or digits, such as TIF').default('CMD'),
      max_quantity: z.number().int().min(1).max(100_000).default(20),
      delivery: z
        .object({
          zones: z.array(z.object({ name: z.string().min(1), cities: z.array(z.string().min(1)).min(1), fee: z.number().nonnegative() })).default([]),
          other_cities_fee: z.number().nonnegative().default(0),
          free_from: z.number().positive().optional(),
        })
        .prefault({}),
      pickup: perLanguage.optional(),
      bank_transfer: perLanguage.optional(),
    })
    .prefault({}),
});

export type CatalogData = z.infer<typeof catalogSchema>;
export type Product = CatalogData['products'][number];
export type OrderSettings = CatalogData['orders'];

/** A product as a flow sees it, in the customer's language: what `{{vars.product.name}}` and friends read. */
export interface ProductView {
  id: string;
  name: string;
  price: number;
  currency: string;
  unit: string;
  description: string;
  stock: number;
}

// Darija in Arabic letters reads Arabic best; French is the cooperative's common language.
const FALLBACK: Record<Language, Language[]> = { fr: ['fr'], ar: ['ar', 'fr'], ary: ['ary', 'ar', 'fr'], en: ['en', 'fr'] };

/** The cooperative's products and information, from flows/catalog.yml. */
export class Catalog {
  private constructor(readonly data: CatalogData) {}

  /** Reads and checks a catalog file; throws CatalogError with every problem at its file:line:column. */
  static load(file: string, displayName = file): Catalog {
    const lines = new LineCounter();
    const doc = parseDocument(fs.readFileSync(file, 'utf8'), { lineCounter: lines });
    const map = new SourceMap(displayName, doc, lines);
    if (doc.errors.length > 0) {
      const { line, col } = lines.linePos(doc.errors[0]!.pos[0]);
      throw new CatalogError([{ severity: 'error', file: displayName, line, column: col, message: `YAML: ${doc.errors[0]!.message.split('\n')[0]}` }]);
    }
    const result = catalogSchema.safeParse(doc.toJS());
    if (!result.success) {
      throw new CatalogError(
        result.error.issues.map((issue) => map.at(issue.path as (string | number)[], `${issue.path.join('.') || 'catalog'}: ${issue.message}`)),
      );
    }
    const seen = new Map<string, number>();
    const duplicates: Diagnostic[] = [];
    result.data.products.forEach((p, i) => {
      if (seen.has(p.id)) duplicates.push(map.at(['products', i, 'id'], `product id "${p.id}" is also product ${seen.get(p.id)! + 1}; ids must be unique`));
      else seen.set(p.id, i);
    });
    if (duplicates.length > 0) throw new CatalogError(duplicates);
    return new Catalog(result.data);
  }

  /** The products, in catalog order. */
  get products(): Product[] {
    return this.data.products;
  }

  /** A product by id. */
  product(id: string): Product | undefined {
    return this.data.products.find((p) => p.id === id);
  }

  /** The product a customer's words name, or undefined when none or several match equally. */
  findProduct(text: string, among?: string[]): Product | undefined {
    const said = normalizeText(text);
    if (!said) return undefined;
    let best: { product: Product; score: number } | undefined;
    let tie = false;
    for (const product of this.data.products) {
      if (among && !among.includes(product.id)) continue;
      const names = Object.values(product.names).flat().map(normalizeText);
      let score = 0;
      for (const name of names) {
        if (containsPhrase(said, name)) score = Math.max(score, name.length * 2);
        else if (said.length >= 3 && containsPhrase(name, said)) score = Math.max(score, said.length);
      }
      if (score === 0) continue;
      if (!best || score > best.score) {
        best = { product, score };
        tie = false;
      } else if (score === best.score) tie = true;
    }
    return tie ? undefined : best?.product;
  }

  /**
   * The products a message names as much as it names `id`: "huile d'argan" names the
   * cosmetic and the culinary oil alike, "huile d'argan alimentaire" only the second.
   * `[id]` when the message holds one of its full names, or shares no whole word with them.
   */
  namedAlike(id: string, text: string): string[] {
    const product = this.product(id);
    if (!product) return [];
    const said = normalizeText(text);
    const names = (p: Product) => Object.values(p.names).flat().map(normalizeText);
    if (names(product).some((n) => containsPhrase(said, n))) return [id];
    const mine = new Set(names(product).flatMap((n) => n.split(' ')));
    const shared = [...new Set(said.split(' '))].filter((w) => w.length >= 3 && mine.has(w));
    if (shared.length === 0) return [id];
    const alike = this.data.products.filter((p) => p.id !== id && names(p).some((n) => shared.every((w) => n.split(' ').includes(w))));
    return [id, ...alike.map((p) => p.id)];
  }

  /**
   * The products whose names come closest to words that named none ("amlu", "miel de tim"),
   * best first: each word of the text counts when it is within a typo or two of a name's word.
   */
  closestProducts(text: string, limit = 3): Product[] {
    const words = normalizeText(text).split(' ').filter((w) => w.length >= 3);
    const scored = this.data.products.map((product) => {
      const nameWords = new Set(Object.values(product.names).flat().flatMap((n) => normalizeText(n).split(' ')).filter((w) => w.length >= 3));
      let score = 0;
      for (const word of words) {
        let best = 0;
        for (const name of nameWords) {
          const distance = DamerauLevenshteinDistance(word, name);
          if (distance <= Math.max(1, Math.floor(name.length / 3))) best = Math.max(best, 1 - distance / Math.max(word.length, name.length));
        }
        score += best;
      }
      return { product, score };
    });
    return scored.filter((s) => s.score > 0).sort((a, b) => b.score - a.score).slice(0, limit).map((s) => s.product);
  }

  /** The cooperative's delivery, payment or hours text in the customer's language, if the catalog has it. */
  cooperativeText(field: 'delivery' | 'payment' | 'hours', lang: Language): string | undefined {
    const values = this.data.cooperative[field];
    return values ? this.pick(values, lang) : undefined;
  }

  /** How orders are taken (defaults when the catalog has no `orders` section). */
  get orders(): OrderSettings {
    return this.data.orders;
  }

  /** A per-language text of the `orders` section (pick-up place, bank details) in the customer's language. */
  orderText(field: 'pickup' | 'bank_transfer', lang: Language): string | undefined {
    const values = this.data.orders[field];
    return values ? this.pick(values, lang) : undefined;
  }

  /** A product's category in the customer's language ("" when it has none). */
  categoryOf(product: Product, lang: Language): string {
    return (product.category && this.pick(product.category, lang)) ?? '';
  }

  /** The product's name in the customer's language, as replies show it. */
  nameOf(product: Product, lang: Language): string {
    return this.displayName(product, lang);
  }

  /** A product in the customer's language; `stock` is the live level when the caller knows it. */
  view(product: Product, lang: Language, stock = product.stock): ProductView {
    return {
      id: product.id,
      name: this.displayName(product, lang),
      price: product.price,
      currency: this.data.cooperative.currency,
      unit: this.pick(product.unit, lang) ?? '',
      description: (product.description && this.pick(product.description, lang)) ?? '',
      stock,
    };
  }

  /**
   * The name to show: the first of the language's names; for Darija, whose replies are
   * written in Arabic letters, its first name in Arabic letters, else the Arabic one.
   */
  private displayName(product: Product, lang: Language): string {
    if (lang === 'ary') {
      const arabic = (product.names.ary ?? []).find((n) => /[\u0600-\u06FF]/.test(n)) ?? product.names.ar?.[0];
      if (arabic) return arabic;
    }
    return this.pick(product.names, lang)?.[0] ?? product.id;
  }

  private pick<T>(values: Partial<Record<Language, T>>, lang: Language): T | undefined {
    for (const l of FALLBACK[lang]) if (values[l] !== undefined) return values[l];
    return undefined;
  }
}

/** A catalog file with mistakes; each diagnostic says where. */
export class CatalogError extends Error {
  readonly code = 'TAAWUN_CATALOG';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`).join('\n'));
    this.name = 'CatalogError';
  }
}
