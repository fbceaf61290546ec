/** A Meta product catalog's items, by retailer id, as the fake Graph API keeps them. */
export type CatalogItems = Map<string, Record<string, unknown>>;

const AVAILABILITY = ['in stock', 'out of stock', 'preorder', 'available for order', 'discontinued', 'pending'];
const CONDITION = ['new', 'refurbished', 'used', 'cpo'];

/** What Meta checks of an item at once (validation_status), as its batch API documents the fields. */
function itemErrors(method: string, data: Record<string, any>, exists: boolean): string[] {
  const errors: string[] = [];
  const chars = (s: unknown) => (typeof s === 'string' ? [...s].length : -1);
  if (chars(data.id) < 1 || chars(data.id) > 100) return ['id (the retailer id) must have 1 to 100 characters'];
  if (method === 'DELETE') return exists ? [] : [`no item with retailer id ${data.id} to delete`];
  const creating = method === 'CREATE' || !exists;
  const need = (field: string) => creating || data[field] !== undefined;
  if (need('title') && (chars(data.title) < 1 || chars(data.title) > 200)) errors.push('title must have 1 to 200 characters');
  if (need('description') && (chars(data.description) < 1 || chars(data.description) > 9999)) errors.push('description must have 1 to 9999 characters');
  if (need('availability') && !AVAILABILITY.includes(data.availability)) errors.push(`availability must be one of ${AVAILABILITY.join(', ')}`);
  if (need('condition') && !CONDITION.includes(data.condition)) errors.push(`condition must be one of ${CONDITION.join(', ')}`);
  if (need('price') && !/^\d+(\.\d{1,2})? [A-Z]{3}$/.test(String(data.price ?? ''))) errors.push('The price information is invalid: give the amount and the ISO currency, such as "150.00 MAD"');
  if (need('link') && !/^https?:\/\/\S+$/.test(String(data.link ?? ''))) errors.push('link must be a URL');
  if (need('image_link') && !/^https:\/\/\S+$/.test(String(data.image_link ?? ''))) errors.push('image_link is required: an https URL of the product image');
  if (need('brand') && (chars(data.brand) < 1 || chars(data.brand) > 100)) errors.push('brand must have 1 to 100 characters');
  if (data.inventory !== undefined && (!Number.isInteger(data.inventory) || data.inventory < 0)) errors.push('inventory must be a whole number, 0 or more');
  return errors;
}

/**
 * A stand-in for one Meta catalog's API: items read by page (GET /products), changed by
 * items_batch and localized_items_batch (checked per item as Meta does, 200 with
 * validation_status), then processed (check_batch_request_status): an image Meta cannot
 * download ("unreachable" in its address) is refused then, by its line.
 */
export class FakeMetaCatalog {
  private readonly batches = new Map<string, { errors: { line: number; id: string; message: string }[] }>();
  /** Every batch call's requests, in order. */
  readonly calls: { edge: string; requests: Record<string, any>[] }[] = [];
  private counter = 0;
  /** How many status checks of a batch answer "Started" before "Finished" (Meta takes a while). */
  pollsBeforeFinished = 0;
  private readonly polls = new Map<string, number>();

  constructor(readonly items: CatalogItems) {}

  /** Answers one call; `fail` sends a Graph error. */
  handle(method: string, edge: string, url: URL, raw: string, respond: (body: unknown) => void, fail: (status: number, code: number, message: string) => void): void {
    if (method === 'GET' && edge === 'products') {
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 25) || 25, 1000);
      const start = Number(url.searchParams.get('after') ?? 0) || 0;
      const all = [...this.items.values()];
      const page = all.slice(start, start + limit).map((i) => ({ id: `fb${String(i.id)}`, retailer_id: i.id, name: i.title, description: i.description, availability: i.availability, price: i.price, inventory: i.inventory, url: i.link, brand: i.brand, ...(i.image_link ? { image_url: i.image_link } : {}) }));
      const more = start + limit < all.length;
      return respond({ data: page, paging: { cursors: { before: String(start), after: String(start + limit) }, ...(more ? { next: `${url.pathname}?after=${start + limit}` } : {}) } });
    }
    if (method === 'GET' && edge === 'check_batch_request_status') {
      const batch = this.batches.get(url.searchParams.get('handle') ?? '');
      if (!batch) return fail(400, 100, 'Invalid handle');
      const handle = url.searchParams.get('handle')!;
      const polled = (this.polls.get(handle) ?? 0) + 1;
      this.polls.set(handle, polled);
      if (polled <= this.pollsBeforeFinished) return respond({ data: [{ handle, status: 'Started', errors_total_count: 0, errors: [], warnings: [] }] });
      return respond({ data: [{ handle: url.searchParams.get('handle'), status: 'Finished', errors_total_count: batch.errors.length, errors: batch.errors.map((e) => ({ line: e.line, id: e.line, message: e.message })), warnings: [] }] });
    }
    if (method !== 'POST' || (edge !== 'items_batch' && edge !== 'localized_items_batch')) return fail(404, 803, `unknown path ${method} ${url.pathname}`);
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw);
    } catch {
      return fail(400, 100, 'body is not JSON');
    }
    if (body.item_type !== 'PRODUCT_ITEM') return fail(400, 100, 'item_type must be PRODUCT_ITEM');
    const requests = body.requests;
    if (!Array.isArray(requests) || requests.length < 1 || requests.length > (edge === 'items_batch' ? 5000 : 1000)) return fail(400, 100, 'requests must be a list of 1 to 5000 requests');
    this.calls.push({ edge, requests });
    const validation: { retailer_id: string; errors: { message: string }[]; warnings: { message: string }[] }[] = [];
    const processing: { line: number; id: string; message: string }[] = [];
    requests.forEach((r: Record<string, any>, i: number) => {
      const data = (r.data ?? {}) as Record<string, any>;
      const id = String(data.id ?? '');
      const exists = this.items.has(id);
      let errors: string[];
      if (edge === 'localized_items_batch') {
        errors = r.localization?.type !== 'LANGUAGE' || !/^[a-z]{2}_[A-Z]{2}$/.test(String(r.localization?.value ?? '')) ? ['localization must be { type: LANGUAGE, value: such as "ar_XX" }'] : !exists ? [`no item with retailer id ${id}: localizations are for existing items`] : [];
        if (errors.length === 0) {
          const item = this.items.get(id)!;
          item.localized = { ...(item.localized as object), [r.localization.value]: { title: data.title, description: data.description } };
        }
      } else {
        errors = !['CREATE', 'UPDATE', 'DELETE'].includes(r.method) ? ['method must be CREATE, UPDATE or DELETE'] : itemErrors(r.method, data, exists);
        if (errors.length === 0 && r.method === 'DELETE') this.items.delete(id);
        else if (errors.length === 0 && String(data.image_link ?? '').includes('unreachable')) processing.push({ line: i + 1, id, message: 'Image URL could not be downloaded: the server did not answer' });
        else if (errors.length === 0) this.items.set(id, { ...(this.items.get(id) ?? {}), ...data });
      }
      if (errors.length > 0) validation.push({ retailer_id: id, errors: errors.map((message) => ({ message })), warnings: [] });
    });
    const handle = `handle${++this.counter}`;
    this.batches.set(handle, { errors: processing });
    respond({ handles: [handle], validation_status: validation });
  }
}
