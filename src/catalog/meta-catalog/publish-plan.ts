import type { MetaItem } from './meta-items';

/** A product as the Meta catalog has it now (GET /{catalog_id}/products). */
export interface ExistingItem {
  retailer_id: string;
  name?: string;
  description?: string;
  availability?: string;
  price?: string;
  inventory?: number;
  image_url?: string;
  /** The item's link (its `link` as sent). */
  url?: string;
  brand?: string;
}

/** What a publish does: items to create, to update (and what changes), to remove, and those already right. */
export interface PublishPlan {
  create: MetaItem[];
  update: { item: MetaItem; changes: string[] }[];
  remove: string[];
  same: string[];
}

/** The amount in a price as Meta writes it back ("MAD150.00", "150,00 MAD", "150.00 MAD"). */
export function amountOf(price: string | undefined): number | undefined {
  const digits = /\d[\d\s.,]*/.exec(price ?? '')?.[0].replace(/\s/g, '');
  if (!digits) return undefined;
  // "1.234,50" and "1,234.50": the last separator is the decimal one.
  const last = Math.max(digits.lastIndexOf('.'), digits.lastIndexOf(','));
  const normal = last >= 0 && digits.length - last - 1 <= 2 ? `${digits.slice(0, last).replace(/[.,]/g, '')}.${digits.slice(last + 1)}` : digits.replace(/[.,]/g, '');
  const n = Number(normal);
  return Number.isFinite(n) ? n : undefined;
}

/** Compares catalog.yml's items with the Meta catalog's: what to create, update and remove so they match. */
export function planPublish(desired: MetaItem[], existing: ExistingItem[]): PublishPlan {
  const theirs = new Map(existing.map((e) => [e.retailer_id, e]));
  const plan: PublishPlan = { create: [], update: [], remove: [], same: [] };
  for (const item of desired) {
    const e = theirs.get(item.id);
    if (!e) {
      plan.create.push(item);
      continue;
    }
    const changes: string[] = [];
    if ((e.name ?? '') !== item.title) changes.push('title');
    if ((e.description ?? '') !== item.description) changes.push('description');
    if ((e.availability ?? '') !== item.availability) changes.push(`availability (${item.availability})`);
    if (amountOf(e.price) !== amountOf(item.price)) changes.push(`price (${item.price})`);
    if (e.inventory !== undefined && e.inventory !== item.inventory) changes.push(`inventory (${item.inventory})`);
    // Meta serves pictures from its own copies: only a missing one is known to differ.
    if (item.image_link && !e.image_url) changes.push('image');
    if (e.url !== undefined && e.url !== item.link) changes.push('link');
    if (e.brand !== undefined && e.brand !== item.brand) changes.push('brand');
    if (changes.length > 0) plan.update.push({ item, changes });
    else plan.same.push(item.id);
  }
  const mine = new Set(desired.map((d) => d.id));
  for (const e of existing) if (!mine.has(e.retailer_id)) plan.remove.push(e.retailer_id);
  return plan;
}
