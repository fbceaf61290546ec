import type { Catalog, Product } from '../catalog';
import type { Language } from '../../config';

/** A product as the Meta catalog's batch API takes it (PRODUCT_ITEM), in the catalog's main language. */
export interface MetaItem {
  /** The retailer id: catalog.yml's product id, which carts send back as product_retailer_id. */
  id: string;
  title: string;
  description: string;
  availability: 'in stock' | 'out of stock';
  condition: 'new';
  /** "150.00 MAD": the amount with two decimals, then the currency. */
  price: string;
  inventory: number;
  brand: string;
  link: string;
  image_link?: string;
}

/** A product's title and description in another language (the batch API's language overrides). */
export interface LocalizedItem {
  id: string;
  language: string;
  title: string;
  description: string;
}

// Meta's limits for a product item's fields.
export const META_ITEM_LIMITS = { id: 100, title: 200, description: 9999 };
// The languages Meta's catalog can carry besides the main one, by its override codes; Darija's
// replies are written in Arabic letters, so Arabic customers and Darija ones see the Arabic.
const OVERRIDES: Partial<Record<Language, string>> = { ar: 'ar_XX', en: 'en_XX' };

const cut = (s: string, n: number) => ([...s].length <= n ? s : [...s].slice(0, n).join(''));

/** Where each Meta item links: PUBLIC_URL (the web chat), else the cooperative's WhatsApp (wa.me) from catalog.yml's phone. */
export function itemLink(publicUrl: string | undefined, catalog: Catalog): string | undefined {
  if (publicUrl) return publicUrl;
  const digits = (catalog.data.cooperative.phone ?? '').replace(/\D/g, '');
  return digits.length >= 8 ? `https://wa.me/${digits}` : undefined;
}

/**
 * catalog.yml's products as Meta catalog items: French names and descriptions (their main
 * language), the price in the cooperative's currency, the live stock as availability and
 * inventory, the image when given, and `link` to the cooperative's page (the web chat).
 */
export function metaItemsOf(catalog: Catalog, level: (id: string) => number | undefined, link: string): MetaItem[] {
  const currency = catalog.data.cooperative.currency;
  return catalog.products.map((p) => {
    const stock = level(p.id) ?? p.stock;
    const view = catalog.view(p, 'fr', stock);
    return {
      id: p.id,
      title: cut(view.name, META_ITEM_LIMITS.title),
      description: cut(view.description || `${view.name} (${view.unit})`, META_ITEM_LIMITS.description),
      availability: stock > 0 ? 'in stock' : 'out of stock',
      condition: 'new',
      price: `${p.price.toFixed(2)} ${currency}`,
      inventory: stock,
      brand: cut(catalog.data.cooperative.name, 100),
      link: link.startsWith('https://wa.me/') ? link : `${link.replace(/\/+$/, '')}/?product=${encodeURIComponent(p.id)}`,
      ...(p.image ? { image_link: p.image } : {}),
    };
  });
}

/** The products' names and descriptions in the other languages catalog.yml gives them in. */
export function localizedItemsOf(catalog: Catalog): LocalizedItem[] {
  const out: LocalizedItem[] = [];
  for (const p of catalog.products) {
    for (const [lang, language] of Object.entries(OVERRIDES) as [Language, string][]) {
      if (!hasOwn(p, lang)) continue;
      const view = catalog.view(p, lang);
      out.push({ id: p.id, language, title: cut(view.name, META_ITEM_LIMITS.title), description: cut(view.description || `${view.name} (${view.unit})`, META_ITEM_LIMITS.description) });
    }
  }
  return out;
}

/** Whether catalog.yml names the product in that language itself (not through the fallback to French). */
function hasOwn(p: Product, lang: Language): boolean {
  return Boolean(p.names[lang as 'ar' | 'en']?.length);
}

/** What Meta would refuse in an item, with what to change in catalog.yml; empty when it can go. */
export function itemProblems(item: MetaItem): string[] {
  const problems: string[] = [];
  if (!item.image_link) problems.push('Meta needs a picture of each product: add image: https://… (a photo of at least 500×500 pixels) to the product in flows/catalog.yml');
  if ([...item.id].length > META_ITEM_LIMITS.id) problems.push(`the id is over ${META_ITEM_LIMITS.id} characters: shorten it in flows/catalog.yml`);
  return problems;
}
