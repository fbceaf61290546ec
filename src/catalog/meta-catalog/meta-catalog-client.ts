import type { GraphClient } from '../../channels/meta/graph-api';
import type { LocalizedItem, MetaItem } from './meta-items';
import type { ExistingItem } from './publish-plan';

/** One request of a batch: create, update or delete an item by retailer id. */
export type BatchRequest = { method: 'CREATE' | 'UPDATE'; data: Partial<MetaItem> & { id: string } } | { method: 'DELETE'; data: { id: string } };

/** What Meta said of a batch: an error per retailer id (checked at once, or while it was processed). */
export interface BatchOutcome {
  errors: { id: string; message: string }[];
  warnings: { id: string; message: string }[];
  /** False when the batch was still being processed at the time limit. */
  finished: boolean;
}

/** An error or warning of a processed batch, about one item. */
interface ItemNote {
  id?: string;
  retailer_id?: string;
  line?: number;
  message?: string;
}

// The batch API takes up to 5,000 requests a call; Meta advises keeping under 3,000.
const PER_CALL = 1000;
const PAGE = 100;

/** Meta's product catalog API for one catalog: its items, and batches of changes. */
export class MetaCatalogClient {
  constructor(
    private readonly graph: GraphClient,
    readonly catalogId: string,
    private readonly options: { pollMs?: number; waitMs?: number } = {},
  ) {}

  /** Every item of the catalog now, page after page. */
  async items(): Promise<ExistingItem[]> {
    const out: ExistingItem[] = [];
    let after: string | undefined;
    for (let page = 0; page < 1000; page += 1) {
      const query: Record<string, string> = { fields: 'retailer_id,name,description,availability,price,inventory,image_url,url,brand', limit: String(PAGE), ...(after ? { after } : {}) };
      const res = (await this.graph.get(`${this.catalogId}/products`, query)) as { data?: ExistingItem[]; paging?: { cursors?: { after?: string }; next?: string } };
      out.push(...(res.data ?? []).filter((i) => typeof i?.retailer_id === 'string'));
      after = res.paging?.cursors?.after;
      if (!res.paging?.next || !after) break;
    }
    return out;
  }

  /** Sends item changes (items_batch), then waits for Meta to process them; the errors are per item. */
  async send(requests: BatchRequest[]): Promise<BatchOutcome> {
    return this.batches('items_batch', requests);
  }

  /** Sends names and descriptions in other languages (localized_items_batch). */
  async sendLocalized(items: LocalizedItem[]): Promise<BatchOutcome> {
    // Languages go as localizations of existing items: { localization: { type: LANGUAGE, value: "ar_XX" }, data: { id, title, description } }.
    const requests = items.map((l) => ({ method: 'UPDATE' as const, localization: { type: 'LANGUAGE', value: l.language }, data: { id: l.id, title: l.title, description: l.description } }));
    return this.batches('localized_items_batch', requests as unknown as BatchRequest[]);
  }

  private async batches(edge: string, requests: BatchRequest[]): Promise<BatchOutcome> {
    const outcome: BatchOutcome = { errors: [], warnings: [], finished: true };
    for (let i = 0; i < requests.length; i += PER_CALL) {
      const chunk = requests.slice(i, i + PER_CALL);
      const res = (await this.graph.post(`${this.catalogId}/${edge}`, { item_type: 'PRODUCT_ITEM', allow_upsert: true, requests: chunk })) as {
        handles?: string[];
        validation_status?: { retailer_id?: string; errors?: { message?: string }[]; warnings?: { message?: string }[] }[];
      };
      for (const v of res.validation_status ?? []) {
        for (const e of v.errors ?? []) outcome.errors.push({ id: String(v.retailer_id ?? '?'), message: String(e.message ?? 'refused') });
        for (const w of v.warnings ?? []) outcome.warnings.push({ id: String(v.retailer_id ?? '?'), message: String(w.message ?? '') });
      }
      for (const handle of res.handles ?? []) {
        const status = await this.waitFor(handle, chunk);
        outcome.errors.push(...status.errors);
        outcome.warnings.push(...status.warnings);
        outcome.finished &&= status.finished;
      }
    }
    return outcome;
  }

  /** Asks check_batch_request_status until the batch is processed or the wait is over. */
  private async waitFor(handle: string, sent: BatchRequest[]): Promise<BatchOutcome> {
    const deadline = Date.now() + (this.options.waitMs ?? 60_000);
    // A processed batch's errors name their request by line (from 1): its product is that request's.
    const of = (list: ItemNote[]) => list.map((e) => ({ id: String(e.retailer_id ?? (e.line ? sent[e.line - 1]?.data.id : undefined) ?? e.id ?? '?'), message: String(e.message ?? 'refused') }));
    for (;;) {
      const res = (await this.graph.get(`${this.catalogId}/check_batch_request_status`, { handle })) as { data?: { status?: string; errors?: ItemNote[]; warnings?: ItemNote[] }[] };
      const d = res.data?.[0];
      // Scheduled, Dispatched, Started, then Finished, Canceled or Error (written in either case).
      const status = String(d?.status ?? '').toLowerCase();
      if (status === 'finished' || status === 'error' || status === 'canceled' || status === 'cancelled') return { errors: of(d?.errors ?? []), warnings: of(d?.warnings ?? []), finished: true };
      if (Date.now() > deadline) return { errors: [], warnings: [], finished: false };
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 2000));
    }
  }
}
