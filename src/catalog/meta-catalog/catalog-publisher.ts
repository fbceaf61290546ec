import type { Logger } from '../../logger';
import type { Catalog } from '../catalog';
import type { BatchRequest, MetaCatalogClient } from './meta-catalog-client';
import { itemProblems, localizedItemsOf, metaItemsOf } from './meta-items';
import { planPublish, type PublishPlan } from './publish-plan';

/** What a publish did (or, dry, would do), and what Meta refused, per product, with what to fix. */
export interface PublishReport {
  dryRun: boolean;
  plan: PublishPlan;
  /** Items Meta refused (or would likely refuse, dry), with its words and what to change. */
  errors: { id: string; message: string; fix: string }[];
  warnings: { id: string; message: string }[];
  /** False when Meta was still processing at the time limit: run it again to see the outcome. */
  finished: boolean;
}

// Availability is republished at most this often, every product that changed since at once.
const AVAILABILITY_EVERY_MS = 60_000;

/** What to change in catalog.yml for an error Meta gave, from its words. */
export function fixFor(message: string): string {
  if (/image/i.test(message)) return 'give the product an image: https://… that Meta can download (a JPEG or PNG of at least 500×500 pixels) in flows/catalog.yml';
  if (/price|currency/i.test(message)) return 'check its price in flows/catalog.yml, and that the catalog takes the cooperative currency';
  if (/title|name/i.test(message)) return 'check its name (names: fr:) in flows/catalog.yml: at most 200 characters, no promotional text';
  if (/description/i.test(message)) return 'check its description in flows/catalog.yml';
  if (/link|url/i.test(message)) return 'set PUBLIC_URL (the cooperative page) or the cooperative phone in flows/catalog.yml: each item links to it';
  return "see the item in Commerce Manager (Catalog, Items) for Meta's reason, and change it in flows/catalog.yml";
}

/**
 * Keeps the Meta catalog linked to the WhatsApp number like flows/catalog.yml: creates,
 * updates and removes items through the batch API (with the names and descriptions in
 * Arabic and English as language overrides), and republishes availability when a product
 * sells out or comes back, at most once a minute.
 */
export class CatalogPublisher {
  private readonly changed = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastAvailabilityAt = 0;

  constructor(
    private readonly client: MetaCatalogClient,
    private readonly catalog: () => Catalog,
    private readonly level: (product: string) => Promise<number | undefined>,
    private readonly link: string,
    private readonly log: Logger,
    /** How often availability may go to Meta at most (a minute). */
    private readonly availabilityEveryMs = AVAILABILITY_EVERY_MS,
  ) {}

  /** Compares and, unless `dryRun`, sends what differs; `progress` hears each stage. */
  async publish(options: { dryRun: boolean; progress?: (line: string) => void }): Promise<PublishReport> {
    const progress = options.progress ?? (() => undefined);
    const catalog = this.catalog();
    const levels = new Map<string, number | undefined>();
    for (const p of catalog.products) levels.set(p.id, await this.level(p.id));
    const desired = metaItemsOf(catalog, (id) => levels.get(id), this.link);
    progress(`reading the Meta catalog ${this.client.catalogId}…`);
    const existing = await this.client.items();
    const plan = planPublish(desired, existing);
    progress(`${desired.length} products in flows/catalog.yml, ${existing.length} in the Meta catalog: ${plan.create.length} to create, ${plan.update.length} to update, ${plan.remove.length} to remove, ${plan.same.length} unchanged`);
    const likely = [...plan.create, ...plan.update.map((u) => u.item)].flatMap((item) => itemProblems(item).map((fix) => ({ id: item.id, message: 'Meta will likely refuse it', fix })));
    if (options.dryRun) return { dryRun: true, plan, errors: likely, warnings: [], finished: true };
    const requests: BatchRequest[] = [
      ...plan.create.map((item) => ({ method: 'CREATE' as const, data: item })),
      ...plan.update.map((u) => ({ method: 'UPDATE' as const, data: u.item })),
      ...plan.remove.map((id) => ({ method: 'DELETE' as const, data: { id } })),
    ];
    const outcome = requests.length > 0 ? await this.client.send(requests) : { errors: [], warnings: [], finished: true };
    progress(requests.length > 0 ? `sent ${requests.length} changes; Meta ${outcome.finished ? 'processed them' : 'is still processing them'}` : 'nothing to send');
    const refused = new Set(outcome.errors.map((e) => e.id));
    const localized = localizedItemsOf(catalog).filter((l) => !refused.has(l.id) && !plan.remove.includes(l.id));
    const translations = localized.length > 0 ? await this.client.sendLocalized(localized) : { errors: [], warnings: [], finished: true };
    if (localized.length > 0) progress(`sent ${localized.length} names and descriptions in Arabic and English`);
    const errors = [...outcome.errors, ...translations.errors].map((e) => ({ ...e, fix: fixFor(e.message) }));
    return { dryRun: false, plan, errors, warnings: [...outcome.warnings, ...translations.warnings], finished: outcome.finished && translations.finished };
  }

  /** A product sold out or came back: its availability goes to Meta with the next round (at most once a minute). */
  availabilityChanged(product: string): void {
    this.changed.add(product);
    if (this.timer) return;
    const wait = Math.max(0, this.lastAvailabilityAt + this.availabilityEveryMs - Date.now());
    this.timer = setTimeout(() => void this.sendAvailability(), wait);
    this.timer.unref();
  }

  /** Stops the pending round, if any. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async sendAvailability(): Promise<void> {
    this.timer = undefined;
    this.lastAvailabilityAt = Date.now();
    const products = [...this.changed];
    this.changed.clear();
    const catalog = this.catalog();
    const requests: BatchRequest[] = [];
    try {
      for (const id of products) {
        const p = catalog.product(id);
        if (!p) continue;
        const stock = (await this.level(id)) ?? p.stock;
        requests.push({ method: 'UPDATE', data: { id, availability: stock > 0 ? 'in stock' : 'out of stock', inventory: stock } });
      }
      if (requests.length === 0) return;
      const outcome = await this.client.send(requests);
      for (const e of outcome.errors) this.log.warn({ product: e.id, err: e.message }, `the Meta catalog refused an availability change: ${fixFor(e.message)}`);
      this.log.info({ products: requests.map((r) => r.data.id) }, 'availability republished to the Meta catalog');
    } catch (err) {
      // Tried again a minute later; `catalog publish` sets everything right too.
      for (const id of products) this.availabilityChanged(id);
      this.log.warn({ err: (err as Error).message }, 'could not republish availability to the Meta catalog; trying again in a minute');
    }
  }
}
