import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Catalog } from '../../src/catalog/catalog';
import { CatalogPublisher } from '../../src/catalog/meta-catalog/catalog-publisher';
import { MetaCatalogClient } from '../../src/catalog/meta-catalog/meta-catalog-client';
import { metaItemsOf } from '../../src/catalog/meta-catalog/meta-items';
import { amountOf } from '../../src/catalog/meta-catalog/publish-plan';
import { catalogPublishCommand, reportLines } from '../../src/cli/catalog-publish';
import { GraphClient } from '../../src/channels/meta/graph-api';
import { createLogger } from '../../src/logger';
import { FakeGraphApi } from '../support/fake-graph-api';
import { freshDatabaseUri } from '../support/database';
import { waitFor } from '../support/server';

const TOKEN = 'catalog-token-for-tests';
const SECRET = 'catalog-secret-for-tests';
const CATALOG_ID = '778899001122';
const LINK = 'https://wa.me/212600000000';

/** A catalog.yml with four products: two with pictures, one whose picture Meta cannot download, one without. */
function catalogFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'publish-'));
  fs.writeFileSync(
    path.join(dir, 'catalog.yml'),
    `cooperative:
  name: "Coopérative Tifawin"
  phone: "+212 6 00 00 00 00"
products:
  - id: amlou
    names: { fr: ["amlou"], ar: ["أملو"], en: ["amlou spread"] }
    price: 90
    unit: { fr: "pot 250 g" }
    stock: 30
    description: { fr: "Pâte d'amandes, d'argan et de miel.", ar: "معجون اللوز والأركان والعسل.", en: "Almond, argan and honey spread." }
    image: https://example.org/amlou.jpg
  - id: thyme-honey
    names: { fr: ["miel de thym"] }
    price: 200
    unit: { fr: "pot 500 g" }
    stock: 12
    image: https://example.org/thyme.jpg
  - id: argan-soap
    names: { fr: ["savon à l'argan"] }
    price: 35
    unit: { fr: "pain 100 g" }
    stock: 40
    image: https://unreachable.example.org/soap.jpg
  - id: rose-water
    names: { fr: ["eau de rose"] }
    price: 40
    unit: { fr: "flacon 250 ml" }
    stock: 8
`,
  );
  return path.join(dir, 'catalog.yml');
}

describe('publishing catalog.yml to the Meta catalog (fake Graph API)', () => {
  let graph: FakeGraphApi;
  let client: MetaCatalogClient;
  let catalog: Catalog;
  const log = createLogger(process.env.DEBUG_PUBLISH ? 'info' : 'silent', 'json');
  // The live stock: thyme honey sold out in Taawun since the file was written.
  const level = async (id: string) => (id === 'thyme-honey' ? 0 : undefined);

  beforeEach(async () => {
    graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0' });
    catalog = Catalog.load(catalogFile());
    // Meta has amlou at an old price, thyme honey as the file had it (in stock), and a product the cooperative no longer sells.
    const [amlou, thyme] = metaItemsOf(catalog, () => undefined, LINK);
    graph.catalogItems.set(
      CATALOG_ID,
      new Map<string, Record<string, unknown>>([
        ['amlou', { ...amlou!, price: '80.00 MAD' }],
        ['thyme-honey', { ...thyme! }],
        ['prickly-pear-oil', { id: 'prickly-pear-oil', title: 'huile de figue de barbarie', description: 'x', availability: 'in stock', price: '400.00 MAD', inventory: 2 }],
      ]),
    );
    const url = await graph.start();
    client = new MetaCatalogClient(new GraphClient({ baseUrl: url, version: 'v21.0', accessToken: TOKEN, appSecret: SECRET, log, maxAttempts: 1 }), CATALOG_ID, { pollMs: 10 });
  });
  afterEach(async () => graph.stop());

  it('creates, updates (a price, a product sold out in Taawun) and removes; says per product what Meta refused and what to fix; sends the other languages', async () => {
    const publisher = new CatalogPublisher(client, () => catalog, level, LINK, log);
    const progress: string[] = [];
    const report = await publisher.publish({ dryRun: false, progress: (l) => progress.push(l) });
    expect(report.plan.create.map((i) => i.id)).toEqual(['argan-soap', 'rose-water']);
    expect(report.plan.update.map((u) => [u.item.id, u.changes])).toEqual([
      ['amlou', ['price (90.00 MAD)']],
      ['thyme-honey', ['availability (out of stock)', 'inventory (0)']],
    ]);
    expect(report.plan.remove).toEqual(['prickly-pear-oil']);
    const items = graph.catalogItems.get(CATALOG_ID)!;
    expect(items.get('amlou')).toMatchObject({ price: '90.00 MAD', availability: 'in stock' });
    expect(items.get('thyme-honey')).toMatchObject({ availability: 'out of stock', inventory: 0 });
    expect(items.has('prickly-pear-oil')).toBe(false);
    // Refused: rose water has no picture (at once), the soap's picture could not be downloaded (while processed).
    expect(items.has('rose-water')).toBe(false);
    expect(items.has('argan-soap')).toBe(false);
    expect(report.errors.map((e) => [e.id, e.message, e.fix])).toEqual([
      ['rose-water', 'image_link is required: an https URL of the product image', expect.stringMatching(/^give the product an image: https:\/\/… .* in flows\/catalog\.yml$/)],
      ['argan-soap', 'Image URL could not be downloaded: the server did not answer', expect.stringMatching(/^give the product an image/)],
    ]);
    // The batch as Meta documents it: PRODUCT_ITEM, CREATE/UPDATE/DELETE by retailer id, the price as "amount currency".
    const batch = graph.catalogOf(CATALOG_ID).calls[0]!;
    expect(batch.edge).toBe('items_batch');
    expect(batch.requests.map((r) => [r.method, r.data.id])).toEqual([
      ['CREATE', 'argan-soap'],
      ['CREATE', 'rose-water'],
      ['UPDATE', 'amlou'],
      ['UPDATE', 'thyme-honey'],
      ['DELETE', 'prickly-pear-oil'],
    ]);
    expect(batch.requests[2]!.data).toEqual({ id: 'amlou', title: 'amlou', description: "Pâte d'amandes, d'argan et de miel.", availability: 'in stock', condition: 'new', price: '90.00 MAD', inventory: 30, brand: 'Coopérative Tifawin', link: LINK, image_link: 'https://example.org/amlou.jpg' });
    // Arabic and English names and descriptions as language localizations of the items Meta has.
    expect(items.get('amlou')!.localized).toEqual({ ar_XX: { title: 'أملو', description: 'معجون اللوز والأركان والعسل.' }, en_XX: { title: 'amlou spread', description: 'Almond, argan and honey spread.' } });
    expect(progress[1]).toBe('4 products in flows/catalog.yml, 3 in the Meta catalog: 2 to create, 2 to update, 1 to remove, 0 unchanged');
    expect(reportLines(report)).toEqual([
      'created (0): -',
      'updated (2): amlou (price (90.00 MAD)), thyme-honey (availability (out of stock), inventory (0))',
      'removed (1): prickly-pear-oil',
      'unchanged (0): -',
      expect.stringMatching(/^refused: rose-water: image_link is required/),
      expect.stringMatching(/^refused: argan-soap: Image URL could not be downloaded/),
    ]);
    // Published again: only what Meta refused is left to do.
    const again = await publisher.publish({ dryRun: false });
    expect(again.plan.same.sort()).toEqual(['amlou', 'thyme-honey']);
    expect(again.plan.create.map((i) => i.id)).toEqual(['argan-soap', 'rose-water']);
  });

  it('shows the same plan with --dry-run without changing anything, warning of a product without a picture', async () => {
    const report = await new CatalogPublisher(client, () => catalog, level, LINK, log).publish({ dryRun: true });
    expect(graph.catalogOf(CATALOG_ID).calls).toEqual([]);
    expect(graph.catalogItems.get(CATALOG_ID)!.get('amlou')).toMatchObject({ price: '80.00 MAD' });
    expect(reportLines(report).slice(0, 3)).toEqual(['would create (2): argan-soap, rose-water', 'would update (2): amlou (price (90.00 MAD)), thyme-honey (availability (out of stock), inventory (0))', 'would remove (1): prickly-pear-oil']);
    expect(reportLines(report)).toContainEqual(expect.stringMatching(/^warning: rose-water: Meta will likely refuse it; Meta needs a picture of each product/));
  });

  it('republishes availability when a product sells out or comes back, at most once a minute (here: 400 ms)', async () => {
    const publisher = new CatalogPublisher(client, () => catalog, level, LINK, log, 400);
    const calls = () => graph.catalogOf(CATALOG_ID).calls;
    try {
      const started = Date.now();
      publisher.availabilityChanged('thyme-honey');
      await waitFor(() => calls().length === 1, 3000, 'the first republish');
      expect(calls()[0]!.requests).toEqual([{ method: 'UPDATE', data: { id: 'thyme-honey', availability: 'out of stock', inventory: 0 } }]);
      // Two more changes within the period go together, once it is over.
      publisher.availabilityChanged('amlou');
      publisher.availabilityChanged('rose-water');
      await new Promise((r) => setTimeout(r, 150));
      expect(calls()).toHaveLength(1);
      await waitFor(() => calls().length === 2, 3000, 'the second republish');
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(calls()[1]!.requests.map((r) => [r.data.id, r.data.availability])).toEqual([
        ['amlou', 'in stock'],
        ['rose-water', 'in stock'],
      ]);
    } finally {
      publisher.stop();
    }
  });

  it('reads a catalog of several pages, and waits while Meta processes a batch', async () => {
    const items = graph.catalogItems.get(CATALOG_ID)!;
    for (let i = 0; i < 150; i += 1) items.set(`old-${i}`, { id: `old-${i}`, title: `old ${i}`, description: 'x', availability: 'in stock', price: '1.00 MAD' });
    graph.catalogOf(CATALOG_ID).pollsBeforeFinished = 3;
    const report = await new CatalogPublisher(client, () => catalog, level, LINK, log).publish({ dryRun: false });
    // 153 items on two pages of 100: every one read.
    expect(report.plan.remove).toHaveLength(151);
    expect(report.finished).toBe(true);
    expect([...items.keys()].filter((k) => k.startsWith('old-'))).toEqual([]);
    expect(report.errors.map((e) => e.id)).toEqual(['rose-water', 'argan-soap']);
  });

  it('tries availability again a period later when it could not be sent', async () => {
    let down = true;
    const flaky = async (id: string) => {
      if (down) throw new Error('database unreachable');
      return level(id);
    };
    const publisher = new CatalogPublisher(client, () => catalog, flaky, LINK, log, 300);
    try {
      publisher.availabilityChanged('thyme-honey');
      await new Promise((r) => setTimeout(r, 100));
      expect(graph.catalogOf(CATALOG_ID).calls).toHaveLength(0);
      down = false;
      await waitFor(() => graph.catalogOf(CATALOG_ID).calls.length === 1, 3000, 'the retry');
      expect(graph.catalogOf(CATALOG_ID).calls[0]!.requests).toEqual([{ method: 'UPDATE', data: { id: 'thyme-honey', availability: 'out of stock', inventory: 0 } }]);
    } finally {
      publisher.stop();
    }
  });

  it('reads back the prices Meta writes in its own ways', () => {
    expect(['150.00 MAD', 'MAD150.00', '150,00 MAD', 'MAD 1,234.50', '1.234,50 MAD', '90 MAD'].map(amountOf)).toEqual([150, 150, 150, 1234.5, 1234.5, 90]);
    expect(amountOf(undefined)).toBeUndefined();
  });

  it('says what to set when the catalog is not configured, and refuses an unknown option', async () => {
    const saved = { ...process.env };
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    try {
      expect(await catalogPublishCommand(['--force'])).toBe(2);
      Object.assign(process.env, { WHATSAPP_TOKEN: 't', WHATSAPP_PHONE_NUMBER_ID: '123', WHATSAPP_APP_SECRET: 's', WHATSAPP_VERIFY_TOKEN: 'v', MONGODB_URI: freshDatabaseUri('publish') });
      delete process.env.WHATSAPP_CATALOG_ID;
      expect(await catalogPublishCommand([])).toBe(2);
      expect(errors).toEqual(['unknown option "--force": catalog publish takes only --dry-run', expect.stringMatching(/^set WHATSAPP_CATALOG_ID to the id of the catalog linked to the WhatsApp number/)]);
    } finally {
      spy.mockRestore();
      process.env = saved;
    }
  });
});
