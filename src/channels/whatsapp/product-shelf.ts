import type { Catalog } from '../../catalog/catalog';
import type { Language } from '../../config';
import { WHATSAPP_LIMITS, type ProductShelf } from './cloud-messages';

// The section of the products the catalog gives no category.
const OUR_PRODUCTS: Record<string, string> = { fr: 'Nos produits', ar: 'منتجاتنا', ary: 'المنتوجات ديالنا', en: 'Our products' };

/**
 * The products a message is about ("all", or ids in a list or a string) as WhatsApp shows them from the catalog
 * linked to the number: at most 30, in catalog order, in sections by category in the
 * customer's language (10 at most: the last takes the rest), the cooperative's name as the
 * header. Undefined when none of them is in catalog.yml.
 */
export function productShelf(catalog: Catalog, catalogId: string, products: unknown, lang: Language): ProductShelf | undefined {
  // A list of ids (an action's), or one string of them (a flow's say, its templates filled).
  const ids = Array.isArray(products) ? products.map(String) : typeof products === 'string' && products !== 'all' ? products.split(/[\s,]+/) : [];
  const chosen = (products === 'all' ? catalog.products : ids.map((id) => catalog.product(id.trim())))
    .filter((p): p is NonNullable<typeof p> => p !== undefined)
    .slice(0, WHATSAPP_LIMITS.products);
  if (chosen.length === 0) return undefined;
  const sections = new Map<string, string[]>();
  const uncategorised: string[] = [];
  for (const p of chosen) {
    const title = catalog.categoryOf(p, lang);
    if (title) sections.set(title, [...(sections.get(title) ?? []), p.id]);
    else uncategorised.push(p.id);
  }
  let named = [...sections].map(([title, ids]) => ({ title, products: ids }));
  // The products of no category, and those of categories past the tenth section, go last, together.
  const room = WHATSAPP_LIMITS.sections - (uncategorised.length > 0 || named.length > WHATSAPP_LIMITS.sections ? 1 : 0);
  const rest = [...uncategorised, ...named.slice(room).flatMap((s) => s.products)];
  named = named.slice(0, room);
  const shelves = rest.length > 0 ? [...named, { title: OUR_PRODUCTS[lang] ?? OUR_PRODUCTS.fr!, products: rest }] : named;
  return { catalogId, header: catalog.data.cooperative.name, sections: shelves };
}
