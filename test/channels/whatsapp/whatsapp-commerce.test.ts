import fs from 'node:fs';
import path from 'node:path';
import { customerModel } from '../../../src/db/models/customer';
import { orderModel } from '../../../src/db/models/order';
import type { RunningServer } from '../../../src/server';
import { startCoopWebhook } from '../../support/coop-webhook';
import { FakeGraphApi, signedWebhook, TEST_PHONE_NUMBER_ID, whatsappMessage } from '../../support/fake-graph-api';
import { LogLines, startTestServer, stopAndDrop, waitFor } from '../../support/server';

const SECRET = 'whatsapp-app-secret-for-tests';
const TOKEN = 'whatsapp-token-for-tests';

// The shape of a real cart (pywa's fixture, one of the 60 conformance bodies), with this catalog's products.
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '../../fixtures/meta-webhooks/wa-12-order-pywa.json'), 'utf8')) as { body: any };
const realOrder = fixture.body.entry[0].changes[0].value.messages[0].order as { catalog_id: string; product_items: Record<string, unknown>[] };

/** A cart as Meta sends it: catalog_id, and product_items with retailer id, quantity, item_price and currency. */
function cartMessage(items: { id: string; quantity: number; price: number; currency?: string }[]) {
  return {
    type: 'order',
    order: {
      catalog_id: realOrder.catalog_id,
      text: '',
      product_items: items.map((i) => ({ ...realOrder.product_items[0], product_retailer_id: i.id, quantity: i.quantity, item_price: i.price, currency: i.currency ?? 'MAD' })),
    },
  };
}

describe('WhatsApp carts become cash-on-delivery orders (fake Graph API, real database)', () => {
  let graph: FakeGraphApi;
  let server: RunningServer;
  let coop: Awaited<ReturnType<typeof startCoopWebhook>>;
  const logs = new LogLines();
  const CATALOG = realOrder.catalog_id;
  const PRODUCTS = ['argan-oil-cosmetic', 'argan-oil-culinary', 'amlou', 'thyme-honey', 'euphorbia-honey', 'argan-soap', 'rose-water', 'dried-figs'];

  beforeAll(async () => {
    graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0', phoneNumberId: TEST_PHONE_NUMBER_ID });
    // The Meta catalog linked to the number has the cooperative's products.
    graph.catalogItems.set(CATALOG, new Map(PRODUCTS.map((p) => [p, { retailer_id: p }])));
    coop = await startCoopWebhook();
    server = await startTestServer({
      label: 'wacart',
      logLines: logs,
      whatsapp: { token: TOKEN, phoneNumberId: TEST_PHONE_NUMBER_ID, appSecret: SECRET, verifyToken: 'wa-verify', template: undefined, catalogId: CATALOG },
      graphApiUrl: await graph.start(),
      graphApiVersion: 'v21.0',
      coopNotify: { kind: 'webhook', url: coop.url },
    });
  });
  afterAll(async () => {
    await stopAndDrop(server);
    await graph.stop();
    await coop.close();
  });

  async function deliver(body: unknown): Promise<number> {
    const { raw, signature } = signedWebhook(body, SECRET);
    const res = await fetch(`${server.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    await server.inbox.idle();
    return res.status;
  }
  async function says(body: unknown): Promise<string[]> {
    const before = graph.sent.length;
    expect(await deliver(body)).toBe(200);
    return graph.sent.slice(before).map((m) => m.text);
  }
  const text = (from: string, t: string) => whatsappMessage(from, { type: 'text', text: { body: t } });
  const button = (from: string, id: string, title: string) => whatsappMessage(from, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id, title } } });

  async function sent(body: unknown) {
    const before = graph.sent.length;
    expect(await deliver(body)).toBe(200);
    return graph.sent.slice(before);
  }

  it('answers "what do you have?" with a multi-product message (sections by category) and a price question with a single-product message, the text answers as their bodies', async () => {
    const u = '212677007788';
    await says(text(u, 'Bonjour'));
    await says(text(u, 'Hind'));
    const [list, more] = await sent(text(u, 'quels produits vous avez ?'));
    expect(list).toMatchObject({ messagingType: 'interactive:product_list', text: expect.stringMatching(/^Les produits de Coopérative Tifawin :\n• huile d'argan cosmétique — 150 MAD/) });
    expect(list!.products).toEqual({
      catalogId: CATALOG,
      header: 'Coopérative Tifawin',
      sections: [
        { title: 'Beauté', products: ['argan-oil-cosmetic', 'argan-soap', 'rose-water'] },
        { title: 'Épicerie', products: ['argan-oil-culinary', 'amlou', 'dried-figs'] },
        { title: 'Miels', products: ['thyme-honey', 'euphorbia-honey'] },
      ],
    });
    // The buttons that follow are a message of their own.
    expect(more).toMatchObject({ messagingType: 'interactive:button' });
    const [price] = await sent(text(u, "combien coûte l'amlou ?"));
    expect(price).toMatchObject({ messagingType: 'interactive:product', text: 'amlou : 90 MAD (pot 250 g).', products: { catalogId: CATALOG, sections: [{ products: ['amlou'] }] } });
    // A flow's say with products: ["{{vars.product.id}}"] (products.yml's overview, from a button naming the product).
    const [overview] = await sent(button(u, 'PRODUCTS:thyme-honey', 'Miel de thym'));
    expect(overview).toMatchObject({ messagingType: 'interactive:product', text: expect.stringMatching(/^miel de thym : 200 MAD/), products: { catalogId: CATALOG, sections: [{ products: ['thyme-honey'] }] } });
  });

  it('sends the text answer when WhatsApp refuses a product message (a product not published to Meta yet), with a log line', async () => {
    const u = '212677009900';
    await says(text(u, 'Bonjour'));
    await says(text(u, 'Ilyas'));
    graph.catalogItems.get(CATALOG)!.delete('dried-figs');
    try {
      const [list] = await sent(text(u, 'quels produits vous avez ?'));
      expect(graph.refused.at(-1)!.message).toContain('products not found in catalog 354160437058781: dried-figs');
      expect(list).toMatchObject({ messagingType: 'text', text: expect.stringMatching(/^Les produits de Coopérative Tifawin :\n/) });
      await logs.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('WhatsApp refused the product message'));
    } finally {
      graph.catalogItems.get(CATALOG)!.set('dried-figs', { retailer_id: 'dried-figs' });
    }
  });

  it('goes the whole way in one conversation: products shown, a cart sent, the questions, the order placed, the cooperative told', async () => {
    const u = '212677112233';
    await says(text(u, 'Bonjour'));
    const [menu] = await sent(text(u, 'Youssef'));
    expect(menu!.quickReplies!.map((q) => q.payload)).toContain('PRODUCTS');
    // The menu's "our products": the multi-product message.
    const [list] = await sent(button(u, 'PRODUCTS', 'Nos produits'));
    expect(list!.messagingType).toBe('interactive:product_list');
    // The customer fills a cart in the catalog and sends it.
    await sent(whatsappMessage(u, cartMessage([{ id: 'argan-oil-culinary', quantity: 1, price: 180 }, { id: 'rose-water', quantity: 2, price: 60 }]), 'wamid.cart-youssef'));
    await sent(text(u, '0612121212'));
    await sent(button(u, 'delivery', 'Livraison'));
    const [address] = await sent(text(u, 'Agadir'));
    expect(address!.messagingType).toBe('interactive:location_request_message');
    await sent(whatsappMessage(u, { type: 'location', location: { latitude: 30.42, longitude: -9.6, name: 'Résidence Founty', address: 'Rue 5, Founty' } }));
    await sent(button(u, 'cod', 'À la livraison'));
    const [placed] = await sent(button(u, 'yes', 'Oui'));
    const number = /[A-Z]+-\d{6}/.exec(placed!.text)![0];
    const order = await server.orders.find(number);
    expect(order).toMatchObject({
      channel: 'whatsapp',
      payment: 'cod',
      lines: [expect.objectContaining({ product: 'argan-oil-culinary', quantity: 1 }), expect.objectContaining({ product: 'rose-water', quantity: 2 })],
      delivery: { mode: 'delivery', city: 'Agadir', address: 'Résidence Founty, Rue 5, Founty', location: { latitude: 30.42, longitude: -9.6 } },
      whatsappCart: { catalogId: CATALOG, message: 'wamid.cart-youssef' },
    });
    await waitFor(() => coop.received.some((n) => (n.order as { number?: string } | undefined)?.number === number), 5000, 'the cooperative told of the order');
  });

  it('places the order a cart carries: its lines, the catalog prices, the stock reserved; unknown and sold-out lines said; a redelivery places nothing more', async () => {
    const u = '212677001122';
    await says(text(u, 'Bonjour'));
    await says(text(u, 'Leila'));
    const stockBefore = await server.orders.stock.level('amlou');
    const cart = whatsappMessage(
      u,
      cartMessage([
        { id: 'amlou', quantity: 2, price: 90 },
        { id: 'thyme-honey', quantity: 1, price: 180 },
        { id: 'euphorbia-honey', quantity: 1, price: 250 },
        { id: 'HAMBURGER', quantity: 3, price: 30, currency: 'ILS' },
      ]),
      'wamid.cart-leila-1',
    );
    const replies = await says(cart);
    expect(replies[0]!.split('\n\n')).toEqual([
      "Miel d'euphorbe est épuisé pour le moment.",
      'Ces produits de votre panier ne sont pas (ou plus) dans notre catalogue : HAMBURGER.',
      'Les prix de la coopérative s’appliquent :\nMiel de thym : 200 MAD (le panier indiquait 180 MAD)',
      'Votre panier est bien arrivé :\n2 × amlou : 180 MAD\n1 × miel de thym : 200 MAD',
      expect.stringMatching(/^Quel numéro de téléphone pour le livreur/),
    ]);
    // A redelivered webhook (same message id) is the same cart: nothing is said or done again.
    expect(await says(cart)).toEqual([]);
    await says(text(u, '0677001122'));
    await says(button(u, 'pickup', 'Retrait'));
    const [summary] = await says(button(u, 'cod', 'Au retrait'));
    expect(summary).toMatch(/^Récapitulatif :\n2 × amlou : 180 MAD\n1 × miel de thym : 200 MAD\n[\s\S]*Total : 380 MAD/);
    const [placed] = await says(button(u, 'yes', 'Oui'));
    const number = /TIF-\d{6}/.exec(placed!)![0];
    const order = await server.orders.find(number);
    expect(order).toMatchObject({
      channel: 'whatsapp',
      total: 380,
      lines: [expect.objectContaining({ product: 'amlou', quantity: 2, unitPrice: 90 }), expect.objectContaining({ product: 'thyme-honey', quantity: 1, unitPrice: 200 })],
      whatsappCart: { catalogId: realOrder.catalog_id, message: 'wamid.cart-leila-1' },
    });
    expect(await server.orders.stock.level('amlou')).toBe((stockBefore ?? 30) - 2);
    expect(await says(cart)).toEqual([]);
    const customer = await customerModel(server.connection).findOne({ channel: 'whatsapp', externalId: u }).lean();
    expect(await orderModel(server.connection).countDocuments({ customer: customer!._id })).toBe(1);
  });

  it('asks whether a new cart replaces the order being put together, and keeps the old one when told', async () => {
    const u = '212677003344';
    await says(text(u, 'Bonjour'));
    await says(text(u, 'Omar'));
    await says(text(u, 'je veux commander 3 amlou'));
    const [question] = await says(whatsappMessage(u, cartMessage([{ id: 'argan-oil-cosmetic', quantity: 1, price: 150 }])));
    expect(question).toContain('Vous aviez déjà commencé une commande :\n3 × amlou : 270 MAD\nLa remplacer par le panier que vous venez d’envoyer ?');
    // Another cart while that question is open: the order being put together is still the first one.
    const [again] = await says(whatsappMessage(u, cartMessage([{ id: 'argan-soap', quantity: 1, price: 35 }])));
    expect(again).toContain('Vous aviez déjà commencé une commande :\n3 × amlou : 270 MAD\nLa remplacer');
    const [kept] = await says(button(u, 'no', 'Non'));
    expect(kept).toMatch(/^Votre commande :\n3 × amlou : 270 MAD\nC'est tout/);
    // Sent again and accepted this time: the new cart goes on.
    await says(whatsappMessage(u, cartMessage([{ id: 'argan-oil-cosmetic', quantity: 1, price: 150 }])));
    const [replaced] = await says(button(u, 'yes', 'Oui'));
    expect(replaced).toMatch(/^Votre panier est bien arrivé :\n1 × huile d'argan cosmétique : 150 MAD\n\nQuel numéro/);
  });

  it('shows a product that sells out as out of stock in the WhatsApp shop', async () => {
    const u = '212677334455';
    await says(text(u, 'Bonjour'));
    await says(text(u, 'Karim'));
    const left = (await server.orders.stock.level('thyme-honey'))!;
    expect(left).toBeGreaterThan(0);
    await says(whatsappMessage(u, cartMessage([{ id: 'thyme-honey', quantity: left, price: 200 }])));
    await says(text(u, '0677334455'));
    await says(button(u, 'pickup', 'Retrait'));
    await says(button(u, 'cod', 'Au retrait'));
    expect((await says(button(u, 'yes', 'Oui')))[0]).toMatch(/commande TIF-\d{6} est enregistrée/);
    expect(await server.orders.stock.level('thyme-honey')).toBe(0);
    // The stock reached 0: its availability goes to the Meta catalog (items_batch) on its own.
    const shop = graph.catalogOf(CATALOG);
    await waitFor(() => shop.calls.some((c) => c.requests.some((r) => r.data.id === 'thyme-honey' && r.data.availability === 'out of stock')), 5000, 'the availability republished');
    expect(graph.catalogItems.get(CATALOG)!.get('thyme-honey')).toMatchObject({ availability: 'out of stock', inventory: 0 });
  });

  it('says so plainly when nothing in a cart can be sold, and asks for a product', async () => {
    const u = '212677005566';
    await says(text(u, 'Bonjour'));
    await says(text(u, 'Sara'));
    const replies = await says(whatsappMessage(u, cartMessage([{ id: 'SODA', quantity: 2, price: 10 }, { id: 'euphorbia-honey', quantity: 1, price: 250 }])));
    expect(replies[0]).toContain('Ces produits de votre panier ne sont pas (ou plus) dans notre catalogue : SODA.');
    expect(replies[0]).toContain("Miel d'euphorbe est épuisé pour le moment.");
    expect(replies.join('\n')).toContain('Quel produit voulez-vous commander ?');
  });
});
