import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Catalog } from '../../../src/catalog/catalog';
import { toCloudMessages } from '../../../src/channels/whatsapp/cloud-messages';
import { productShelf } from '../../../src/channels/whatsapp/product-shelf';

/** A catalog of `count` products spread over `categories` categories (the first without one). */
function catalogOf(count: number, categories: number): Catalog {
  const products = Array.from({ length: count }, (_, i) => {
    const c = i % categories;
    const category = c === 0 ? '' : `    category: { fr: "Catégorie numéro ${c} au nom bien trop long" }\n`;
    return `  - id: p${i}\n    names: { fr: ["produit ${i}"] }\n    price: ${10 + i}\n    unit: { fr: "pot" }\n    stock: 5\n${category}`;
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shelf-')), 'catalog.yml');
  fs.writeFileSync(file, `cooperative:\n  name: "Coopérative des femmes d'Aït Baha pour l'argan, le miel et l'amlou"\nproducts:\n${products.join('')}`);
  return Catalog.load(file);
}

describe('products shown from the WhatsApp catalog', () => {
  it('takes at most 30 products in at most 10 sections by category, the last holding the rest', () => {
    const shelf = productShelf(catalogOf(40, 12), '123456', 'all', 'fr')!;
    expect(shelf.sections).toHaveLength(10);
    expect(shelf.sections.flatMap((s) => s.products)).toHaveLength(30);
    // Nine categories, then one section for the products of no category and of the categories past them.
    expect(shelf.sections.map((s) => s.title)).toEqual([...Array.from({ length: 9 }, (_, i) => `Catégorie numéro ${i + 1} au nom bien trop long`), 'Nos produits']);
    expect(shelf.sections[9]!.products).toEqual(['p0', 'p12', 'p24', 'p10', 'p22', 'p11', 'p23']);
    expect(productShelf(catalogOf(3, 1), '123456', ['p2', 'unknown', 'p0'], 'en')!.sections).toEqual([{ title: 'Our products', products: ['p2', 'p0'] }]);
    expect(productShelf(catalogOf(3, 1), '123456', ['unknown'], 'fr')).toBeUndefined();
  });

  it('builds messages within WhatsApp limits: header 60, section titles 24, a single product without header, the text as the body', () => {
    const catalog = catalogOf(12, 3);
    const activity = (products: unknown, text = 'Nos produits :') => ({ type: 'message', text, channelData: { products } });
    const [list] = toCloudMessages([activity('all')], 'Choisir', (p) => productShelf(catalog, '123456', p, 'fr'));
    const i = (list!.body as any).interactive;
    expect(i.type).toBe('product_list');
    expect([...i.header.text].length).toBeLessThanOrEqual(60);
    expect(i.header.text.endsWith('…')).toBe(true);
    expect(i.action.sections).toHaveLength(3);
    expect(i.action.sections.every((s: { title: string }) => [...s.title].length <= 24)).toBe(true);
    expect(i.body.text).toBe('Nos produits :');
    expect(list!.fallback).toEqual({ type: 'text', text: { body: 'Nos produits :', preview_url: false } });
    const [one] = toCloudMessages([activity(['p1'], 'produit 1 : 11 MAD')], 'Choisir', (p) => productShelf(catalog, '123456', p, 'fr'));
    expect(one!.body).toEqual({ type: 'interactive', interactive: { type: 'product', body: { text: 'produit 1 : 11 MAD' }, action: { catalog_id: '123456', product_retailer_id: 'p1' } } });
    // Without a linked catalog the same activity is a text.
    expect(toCloudMessages([activity(['p1'], 'produit 1 : 11 MAD')], 'Choisir')[0]!.body).toEqual({ type: 'text', text: { body: 'produit 1 : 11 MAD', preview_url: false } });
    // A body over 1,024 characters: what does not fit goes first as text.
    const long = Array.from({ length: 60 }, (_, n) => `• produit ${n} — 10 MAD (pot)`).join('\n');
    const parts = toCloudMessages([activity('all', long)], 'Choisir', (p) => productShelf(catalog, '123456', p, 'fr'));
    expect(parts.map((m) => (m.body as any).type)).toEqual(['text', 'interactive']);
    const body = (parts[1]!.body as any).interactive.body.text as string;
    expect([...body].length).toBeLessThanOrEqual(1024);
    // Nothing lost or said twice: the text and the body are the whole list, cut between two lines.
    expect(`${(parts[0]!.body as any).text.body}\n${body}`).toBe(long);
    expect(body.endsWith('• produit 59 — 10 MAD (pot)')).toBe(true);
    // Refused, only the body goes as text: what came before it was sent already.
    expect(parts[1]!.fallback).toEqual({ type: 'text', text: { body, preview_url: false } });
  });
});
