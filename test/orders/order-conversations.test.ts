import { customerModel } from '../../src/db/models/customer';
import { messageModel } from '../../src/db/models/message';
import { orderModel, type OrderDoc } from '../../src/db/models/order';
import { stockAlertModel } from '../../src/db/models/stock-alert';
import type { RunningServer } from '../../src/server';
import { startCoopWebhook } from '../support/coop-webhook';
import { converse, httpChat } from '../support/http-chat';
import { ADMIN_TOKEN, adminGet, startTestServer, stopAndDrop, waitFor } from '../support/server';



const numberIn = (text: string) => /TIF-\d{6}/.exec(text)?.[0] ?? '';

describe('orders through the chat, down to the stored order (real database)', () => {
  let server: RunningServer;
  let coop: Awaited<ReturnType<typeof startCoopWebhook>>;

  beforeAll(async () => {
    coop = await startCoopWebhook();
    server = await startTestServer({ label: 'orders', coopNotify: { kind: 'webhook', url: coop.url } });
  });
  afterAll(async () => {
    await stopAndDrop(server);
    await coop.close();
  });

  const stored = async (number: string) => (await orderModel(server.connection).findById(number).lean<OrderDoc>())!;

  it('fr: from an ambiguous name to a delivered order in another city, total with the fee', async () => {
    const c = await httpChat(server);
    const placed = await converse(c, [
      ["Bonjour, je voudrais commander de l'huile d'argan", /^Quel produit voulez-vous commander \?$/],
      ['huile d argan alimentaire', /^Combien en voulez-vous \? \(de 1 à 18\)$/],
      ['2 bouteilles', /^Votre commande :\n2 × huile d'argan alimentaire : 360 MAD\nC'est tout \?$/],
      ['ajouter', /^Quel produit/],
      ['savon beldi', /^Combien/],
      ['3', /^Votre commande :\n2 × huile d'argan alimentaire : 360 MAD\n3 × savon à l'argan : 105 MAD\nC'est tout \?$/],
      ["c'est tout", /^À quel nom/],
      ['Karim Alaoui', /^Quel numéro de téléphone/],
      ['06 12 34 56 78', /^Livraison à domicile/],
      ['livraison', /^Dans quelle ville/],
      ['Casablanca', /^Quelle adresse/],
      ['Maarif, rue 12, n° 5', /^Comment voulez-vous payer/],
      ['a la livraison', /^Récapitulatif :\n2 × huile d'argan alimentaire : 360 MAD\n3 × savon à l'argan : 105 MAD\nLivraison \(Maarif, rue 12, n° 5, Casablanca\) : 35 MAD\nTotal : 500 MAD, paiement à la livraison\.\nAu nom de Karim Alaoui, téléphone \+212612345678\.\nJe confirme la commande \?$/],
      ['oui', /^Merci ! Votre commande TIF-\d{6} est enregistrée \(500 MAD\)/],
    ]);
    const order = await stored(numberIn(placed));
    expect(order).toMatchObject({
      channel: 'web',
      language: 'fr',
      name: 'Karim Alaoui',
      phone: '+212612345678',
      subtotal: 465,
      deliveryFee: 35,
      total: 500,
      currency: 'MAD',
      payment: 'cod',
      status: 'pending',
      delivery: { mode: 'delivery', city: 'Casablanca', address: 'Maarif, rue 12, n° 5', zone: 'other' },
    });
    expect(order.lines).toEqual([
      { product: 'argan-oil-culinary', name: "huile d'argan alimentaire", quantity: 2, unitPrice: 180, total: 360 },
      { product: 'argan-soap', name: "savon à l'argan", quantity: 3, unitPrice: 35, total: 105 },
    ]);
    expect(order.history.map((h) => h.status)).toEqual(['pending']);
    // The cooperative hears of it at its webhook, with the summary.
    await waitFor(() => coop.received.some((n) => (n.order as { number?: string } | undefined)?.number === order._id), 5000, 'the COOP_NOTIFY webhook');
    const note = coop.received.find((n) => (n.order as { number: string } | undefined)?.number === order._id)!;
    expect(note).toMatchObject({ event: 'order.placed', order: { number: order._id, total: 500, phone: '+212612345678' } });
    expect(note.text).toMatch(new RegExp(`^Nouvelle commande\\nCommande ${order._id} \\(en attente de confirmation\\)\\n2 × huile d'argan alimentaire : 360 MAD`));
  });

  it('ary in Latin letters: product and quantity from the first message, pick-up, transfer details', async () => {
    const c = await httpChat(server);
    const placed = await converse(c, [
      ['salam bghit n commandi 3 dyal amlou', /^الكوموند ديالك:\n3 × أملو: 270 MAD\nهادشي كامل؟$/],
      ['safi hada howa', /^بسمية شكون الكوموند؟$/],
      ['Fatima', /^شنو الرقم ديال التيليفون/],
      ['0661234567', /^نوصلوها ليك للدار/],
      ['ghadi nji', /^غادي تخلص كاش فاش تجي تاخدها، ولا بفيرمة؟$/],
      ['virement', /^للفيرمة: تعاونية تيفاوين، رقم الحساب 000 000 0000000000000000 00 \(بنك تجريبي\)\. كتب رقم الكوموند فالمرجع\.\nالخلاصة:\n3 × أملو: 270 MAD\nتجي تاخدها فالتعاونية، طريق أكادير، تارودانت \(من الإثنين حتى السبت\)، بلا مصاريف\nالمجموع: 270 MAD، فيرمة بنكية\./],
      ['wakha', /^شكرا! الكوموند ديالك TIF-\d{6} تسجلات \(270 MAD\)/],
    ]);
    expect(await stored(numberIn(placed))).toMatchObject({
      language: 'ary',
      lines: [{ product: 'amlou', quantity: 3, unitPrice: 90, total: 270 }],
      deliveryFee: 0,
      total: 270,
      payment: 'transfer',
      delivery: { mode: 'pickup', city: '', address: '' },
    });
  });

  it('ary in Arabic letters: delivery in the Souss zone, then a second order reuses name, phone and address', async () => {
    const c = await httpChat(server);
    const first = await converse(c, [
      ['بغيت نكوموندي جوج ديال صابون بلدي بلرݣان', /^الكوموند ديالك:\n2 × صابون بلدي بلرݣان: 70 MAD\nهادشي كامل؟$/],
      ['صافي', /^بسمية شكون الكوموند؟$/],
      ['خديجة', /^شنو الرقم/],
      ['0700112233', /^نوصلوها ليك للدار/],
      ['توصيل', /^فأشمن مدينة/],
      ['تارودانت', /^شنو العنوان/],
      ['حي المسيرة، زنقة 7', /^كيفاش بغيتي تخلص؟/],
      ['كاش', /التوصيل \(حي المسيرة، زنقة 7، تارودانت\): 20 MAD\nالمجموع: 90 MAD/],
      ['ah', /^شكرا! الكوموند ديالك TIF-\d{6} تسجلات \(90 MAD\)/],
    ]);
    expect(await stored(numberIn(first))).toMatchObject({ language: 'ary', deliveryFee: 20, total: 90, delivery: { zone: 'souss', city: 'تارودانت' } });
    // Next time: nothing known is asked again, only confirmed.
    const second = await converse(c, [
      ['بغيت نكوموندي واحد ماء الورد', /^الكوموند ديالك:\n1 × ماء الورد: 40 MAD/],
      ['صافي', /^الليفرور يعيط ليك على \+212700112233 بحال المرة اللي فاتت؟$/],
      ['اه', /^نوصلوها ليك للدار/],
      ['توصيل', /^نفس العنوان ديال المرة اللي فاتت: حي المسيرة، زنقة 7، تارودانت؟$/],
      ['اه', /^كيفاش بغيتي تخلص؟/],
      ['كاش', /المجموع: 60 MAD/],
      ['واخا', /^شكرا! الكوموند ديالك TIF-\d{6} تسجلات \(60 MAD\)/],
    ]);
    expect(await stored(numberIn(second))).toMatchObject({ name: 'خديجة', phone: '+212700112233', total: 60, delivery: { city: 'تارودانت', address: 'حي المسيرة، زنقة 7' } });
  });

  it('ar: Modern Standard Arabic order with a product chosen from the list', async () => {
    const c = await httpChat(server);
    const placed = await converse(c, [
      ['أريد أن أطلب منتجا', /^ما المنتج الذي تريد طلبه؟$/],
      ['تين مجفف', /^كم تريد؟ \(من 1 إلى 20\)$/],
      ['أربعة', /^طلبك:\n4 × التين المجفف: 280 MAD\nهل هذا كل شيء؟$/],
      ['هذا كل شيء', /^باسم من الطلب؟$/],
      ['سعاد', /^ما رقم الهاتف/],
      ['0612345600', /^توصيل إلى المنزل أم استلام/],
      ['توصيل', /^في أي مدينة/],
      ['أكادير', /^ما العنوان/],
      ['حي الداخلة، رقم 12', /^كيف تريد الدفع؟/],
      ['عند الاستلام', /^ملخص الطلب:\n4 × التين المجفف: 280 MAD\nالتوصيل \(حي الداخلة، رقم 12، أكادير\): 20 MAD\nالمجموع: 300 MAD، الدفع عند الاستلام\./],
      ['نعم', /^شكرا! تم تسجيل طلبك TIF-\d{6} \(300 MAD\)/],
    ]);
    expect(await stored(numberIn(placed))).toMatchObject({ language: 'ar', lines: [{ product: 'dried-figs', quantity: 4, total: 280 }], deliveryFee: 20, total: 300 });
  });

  it('en: bad quantities and an unknown product get a friendly retry, a wrong phone an example', async () => {
    const c = await httpChat(server);
    const placed = await converse(c, [
      ['hi, i would like to order', /^Which product would you like to order\?$/],
      ['saffron from taliouine', /^I cannot find that product\. Pick it from the list or write its name\.$/],
      ['amlo spred', /^How many would you like\? \(1 to 20\)$/],
      ['0', /^How many exactly\? Write a whole number from 1 to 20, for example 2\.$/],
      ['-3', /^How many exactly\?/],
      ['a lot', /^How many exactly\?/],
      ['two', /^Your order:\n2 × amlou: 180 MAD\nIs that all\?$/],
      ['done', /^What name is the order under\?$/],
      ['Sam', /^Which phone number/],
      ['12345', /^That does not look like a Moroccan number\. Write it like 06 12 34 56 78\.$/],
      ['+212 6 61 00 00 01', /^Home delivery/],
      ['delivery', /^Which city/],
      ['agadr', /^What address/],
      ['Talborjt, 4 rue Moulay', /^How would you like to pay/],
      ['cash', /Delivery \(Talborjt, 4 rue Moulay, agadr\): 20 MAD\nTotal: 200 MAD, cash on delivery\./],
      ['yes', /^Thank you! Your order TIF-\d{6} is recorded \(200 MAD\)/],
    ]);
    expect(await stored(numberIn(placed))).toMatchObject({ language: 'en', total: 200, delivery: { zone: 'souss' } });
    // 10,000 and 1,5 are no quantities either.
    const d = await httpChat(server);
    await converse(d, [
      ['I want to order rose water', /^How many would you like\?/],
      ['10,000', /^How many exactly\?/],
      ['1,5', /^How many exactly\?/],
      ['21', /^How many exactly\?/],
      ['menu', /What can I do for you\?/],
    ]);
  });

  it('removes a line from the cart, and "no" at the summary places nothing', async () => {
    const c = await httpChat(server);
    const before = await orderModel(server.connection).countDocuments({});
    await converse(c, [
      ['je veux commander 2 eau de rose', /^Votre commande :\n2 × eau de rose : 80 MAD\nC'est tout \?$/],
      ['ajouter un produit', /^Quel produit/],
      ['figues seches', /^Combien/],
      ['1', /^Votre commande :\n2 × eau de rose : 80 MAD\n1 × figues sèches : 70 MAD\nC'est tout \?$/],
      ['retirer un produit', /^Quel produit dois-je retirer \?$/],
    ]);
    // Only the cart's products are offered for removal.
    const offered = (await c.say('miel de thym')).flatMap((r) => r.quick_replies ?? []).map((q) => q.payload);
    expect(offered).toEqual(['product:rose-water', 'product:dried-figs']);
    await converse(c, [
      ['eau de rose', /^Votre commande :\n1 × figues sèches : 70 MAD\nC'est tout \?$/],
      ["c'est tout", /^À quel nom/],
      ['Nadia', /^Quel numéro/],
      ['0612000333', /^Livraison à domicile/],
      ['retrait', /^Vous payez en espèces au retrait, ou par virement \?$/],
      ['especes', /^Récapitulatif :\n1 × figues sèches : 70 MAD\nRetrait à la coopérative, route d'Agadir, Taroudant \(du lundi au samedi\), sans frais\nTotal : 70 MAD, paiement au retrait\./],
      ['non', /^D'accord, je n'envoie rien\./],
    ]);
    expect(await orderModel(server.connection).countDocuments({})).toBe(before);
  });

  it('an order sent where the name was asked is taken as the order, and the name is asked with it', async () => {
    const c = await httpChat(server);
    await converse(c, [
      ['Bonjour', /Comment vous appelez-vous \?$/],
      ["je voudrais commander 3 pots d'amlou", /^Votre commande :\n3 × amlou : 270 MAD\nC'est tout \?$/],
      ["c'est tout", /^À quel nom est la commande \?$/],
      ['Samira Idrissi', /^Quel numéro/],
    ]);
    const customer = await customerModel(server.connection).findOne({ channel: 'web', externalId: c.user }).lean();
    expect(customer?.name).toBe('Samira Idrissi');
  });

  it('several products in one message go into the cart; a product it cannot read keeps the cart', async () => {
    const c = await httpChat(server);
    await converse(c, [
      ['bghit 2 saboun w 3 chri7a', /^الكوموند ديالك:\n2 × صابون بلدي بلرݣان: 70 MAD\n3 × الشريحة: 210 MAD\nهادشي كامل؟$/],
      ['zid', /^أشمن منتوج/],
      ['chi haja khra', /^ما لقيتش هاد المنتوج/],
      ['walo', /^ما لقيتش/],
      ['mafhamtch', /^ما لقيتش/],
      ['la', /^الكوموند ديالك:\n2 × صابون بلدي بلرݣان: 70 MAD\n3 × الشريحة: 210 MAD\nهادشي كامل؟$/],
    ]);
    const e = await httpChat(server);
    await converse(e, [['I want to order 2 argan soap and some rose water', /^How many would you like\? \(1 to 20\)$/], ['1', /^Your order:\n2 × argan soap: 70 MAD\n1 × rose water: 40 MAD\nIs that all\?$/]]);
  });

  it('a confirmation sent twice at once gives one order', async () => {
    const c = await httpChat(server);
    await converse(c, [
      ['I want to order 1 rose water', /^Your order:/],
      ['done', /^What name/],
      ['Lina', /^Which phone/],
      ['0612000111', /^Home delivery/],
      ['pick up', /^Will you pay cash at pick-up, or by bank transfer\?$/],
      ['cash', /^Summary:/],
    ]);
    const before = await orderModel(server.connection).countDocuments({});
    const answers = await Promise.all([c.texts('yes'), c.texts('yes')]);
    expect(answers.flat().filter((t) => /^Thank you! Your order/.test(t))).toHaveLength(1);
    expect(await orderModel(server.connection).countDocuments({})).toBe(before + 1);
  });

  it('the last jars: a sold-out product is offered others and a "tell me when it is back", acted on when stock returns', async () => {
    const level = async () => server.orders.stock.level('thyme-honey');
    const buyer = await httpChat(server);
    const all = String(await level());
    const placed = await converse(buyer, [
      [`I want to order ${all} thyme honey`, new RegExp(`^Your order:\\n${all} × thyme honey`)],
      ['done', /^What name/],
      ['Omar', /^Which phone/],
      ['0612000222', /^Home delivery/],
      ['pick up', /^Will you pay cash at pick-up, or by bank transfer\?$/],
      ['cash', /^Summary:/],
      ['yes', /^Thank you! Your order TIF-\d{6}/],
    ]);
    expect(await level()).toBe(0);
    const waiting = await httpChat(server);
    await converse(waiting, [
      ['I want to order thyme honey', /^Thyme honey is sold out for now\. You might like: [^\n]+\.\nShall I tell you when it is back\?$/],
      ['tell me', /^Noted: I will write to you here as soon as thyme honey is back\.$/],
    ]);
    const customer = await customerModel(server.connection).findOne({ channel: 'web', externalId: waiting.user }).lean();
    expect(await stockAlertModel(server.connection).countDocuments({ customer: customer!._id })).toBe(1);
    // The buyer cancels: the jars are back, and the one waiting is told, in the chat history.
    await converse(buyer, [
      ['I want to cancel my order', new RegExp(`^Shall I cancel order ${numberIn(placed)}\\?$`)],
      ['yes', new RegExp(`^Order ${numberIn(placed)} is cancelled\\.$`)],
    ]);
    expect(await level()).toBe(Number(all));
    await waitFor(async () => (await messageModel(server.connection).countDocuments({ customer: customer!._id, text: 'Good news: thyme honey is back! Write "order" to order it.' })) === 1, 5000, 'the back-in-stock message');
    expect(await stockAlertModel(server.connection).countDocuments({ customer: customer!._id })).toBe(0);
    await waitFor(() => coop.received.some((n) => n.event === 'order.cancelled'), 5000, 'the cancellation notice');
  });

  it('status and cancellation: the customer asks where the order is, staff move it, the customer is told in their language', async () => {
    const c = await httpChat(server);
    const placed = await converse(c, [
      ['bghit nkomandi 1 zit argan dyal lmakla', /^الكوموند ديالك:\n1 × زيت لرݣان ديال الماكلة: 180 MAD/],
      ['safi', /^بسمية شكون/],
      ['Youssef', /^شنو الرقم/],
      ['0655443322', /^نوصلوها/],
      ['nji', /^غادي تخلص كاش/],
      ['cash', /^الخلاصة/],
      ['wakha', /^شكرا! الكوموند ديالك TIF-\d{6}/],
    ]);
    const number = numberIn(placed);
    await converse(c, [['fin wslat la commande dyali', new RegExp(`^الكوموندات ديالك:\\n${number} ديال \\d{4}-\\d\\d-\\d\\d: 180 MAD، كتسنى التأكيد\\nشي حاجة أخرى على الكوموندات ديالك؟$`)]]);
    const patch = (body: unknown) =>
      fetch(`${server.url}/api/orders/${number}`, { method: 'PATCH', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const confirmed = await patch({ status: 'confirmed', note: 'غدا فالصباح' });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({ number, status: 'confirmed', history: [{ status: 'pending' }, { status: 'confirmed', note: 'غدا فالصباح', by: 'admin' }] });
    const customer = await customerModel(server.connection).findOne({ channel: 'web', externalId: c.user }).lean();
    await waitFor(async () => (await messageModel(server.connection).countDocuments({ customer: customer!._id, text: `خبر زوين: الكوموند ديالك ${number} تأكدات. غدا فالصباح` })) === 1, 5000, 'the status message');
    expect((await patch({ status: 'shipped' })).status).toBe(200);
    // Shipped: too late to cancel, in the chat and in the API.
    await converse(c, [['bghit nlghi la commande', /^ما عندك حتى كوموند مازال تقدر تلغيها/]]);
    const wrong = await patch({ status: 'cancelled' });
    expect(wrong.status).toBe(409);
    expect(await wrong.json()).toEqual({ error: 'invalid_transition', message: `order ${number} is shipped: it can go to delivered`, status: 'shipped', allowed: ['delivered'] });
    expect((await patch({ status: 'sent' })).status).toBe(400);
    expect((await patch({ status: 'delivered', extra: 1 })).status).toBe(400);
    expect((await patch({ status: 'delivered' })).status).toBe(200);
  });

  it('admin API: filters, one order, 404s, and the CSV export', async () => {
    const all = await adminGet(server, '/api/orders?limit=200');
    expect(all.status).toBe(200);
    expect(all.body.total).toBeGreaterThanOrEqual(7);
    const pending = await adminGet(server, '/api/orders?status=pending');
    expect(pending.body.items.every((o: { status: string }) => o.status === 'pending')).toBe(true);
    const today = new Date().toISOString().slice(0, 10);
    expect((await adminGet(server, `/api/orders?from=${today}&to=${today}`)).body.total).toBe(all.body.total);
    expect((await adminGet(server, '/api/orders?to=2000-01-01')).body.total).toBe(0);
    expect((await adminGet(server, '/api/orders?status=lost')).status).toBe(400);
    expect((await adminGet(server, '/api/orders?from=yesterday')).status).toBe(400);
    const one = all.body.items[0];
    expect((await adminGet(server, `/api/orders/${one.number}`)).body).toEqual(one);
    expect((await adminGet(server, '/api/orders/TIF-999999')).status).toBe(404);
    expect((await adminGet(server, '/api/orders/nope')).status).toBe(404);
    expect((await adminGet(server, '/api/orders', null)).status).toBe(401);
    const csv = await fetch(`${server.url}/api/orders.csv`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await csv.text()).replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(rows[0]).toBe('number,created_at,status,name,phone,channel,mode,city,address,payment,items,subtotal,delivery_fee,total,currency');
    expect(rows).toHaveLength(all.body.total + 1);
    expect(rows.find((r) => r.includes('Karim Alaoui'))).toMatch(/,"Maarif, rue 12, n° 5",cod,2 x argan-oil-culinary @ 180; 3 x argan-soap @ 35,465,35,500,MAD$/);
  });
});
