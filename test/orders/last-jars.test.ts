import path from 'node:path';
import { Catalog } from '../../src/catalog/catalog';
import { orderModel } from '../../src/db/models/order';
import type { RunningServer } from '../../src/server';
import { httpChat } from '../support/http-chat';
import { startTestServer, stopAndDrop } from '../support/server';

describe('the last jars, through the chat (real database)', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({ label: 'lastjars' });
  });
  afterAll(() => stopAndDrop(server));

  it('20 customers confirming at the same moment for the last 5 jars: exactly 5 orders, stock ends at 0', async () => {
    // The cooperative counts 5 jars of amlou left.
    const five = Catalog.load(path.join(__dirname, '../../flows/catalog.yml'));
    five.data.products.find((p) => p.id === 'amlou')!.stock = 5;
    await server.orders.stock.sync(five);

    const customers = await Promise.all(Array.from({ length: 20 }, () => httpChat(server)));
    // Everyone gets as far as the summary while the jars are still there...
    await Promise.all(
      customers.map(async (c, i) => {
        for (const [text, expected] of [
          ['je veux commander 1 amlou', /^Votre commande :\n1 × amlou/],
          ["c'est tout", /^À quel nom/],
          [`Client ${String.fromCharCode(65 + i)}`, /^Quel numéro/],
          [`06 12 34 56 ${String(i).padStart(2, '0')}`, /^Livraison à domicile/],
          ['retrait', /^Vous payez en espèces au retrait/],
          ['especes', /^Récapitulatif/],
        ] as const) {
          const said = (await c.texts(text)).join('\n');
          if (!expected.test(said)) throw new Error(`customer ${i} after "${text}": ${said}`);
        }
      }),
    );
    // ...then all confirm at once.
    const answers = await Promise.all(customers.map((c) => c.texts('oui')));
    const placed = answers.filter((a) => /^Merci ! Votre commande TIF-\d{6}/.test(a[0] ?? ''));
    const refused = answers.filter(
      (a) => a.join('\n') === "Désolé, amlou vient d'être épuisé : je l'ai retiré de votre commande.\nVotre commande est vide. Écrivez « commander » pour recommencer.",
    );
    expect(placed).toHaveLength(5);
    expect(refused).toHaveLength(15);
    expect(await server.orders.stock.level('amlou')).toBe(0);
    expect(await orderModel(server.connection).countDocuments({ 'lines.product': 'amlou' })).toBe(5);
  });

  it('"order this" under a product answer starts the order with that product', async () => {
    const c = await httpChat(server);
    const answer = await c.say('combien coûte le savon beldi ?');
    const order = answer.flatMap((r) => r.quick_replies ?? []).find((q) => q.payload.startsWith('ORDER:'));
    expect(order).toEqual({ title: 'Commander', payload: 'ORDER:argan-soap' });
    expect(await c.texts(order!.title, order!.payload)).toEqual(['Combien en voulez-vous ? (de 1 à 20)']);
    expect(await c.texts('4')).toEqual(["Votre commande :\n4 × savon à l'argan : 140 MAD\nC'est tout ?"]);
  });
});
