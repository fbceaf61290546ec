import { customerModel } from '../../../src/db/models/customer';
import { dialogStateModel } from '../../../src/db/models/dialog-state';
import { messageModel } from '../../../src/db/models/message';
import { orderModel } from '../../../src/db/models/order';
import type { RunningServer } from '../../../src/server';
import { FakeGraphApi, messengerText, signedWebhook } from '../../support/fake-graph-api';
import { ADMIN_TOKEN, startTestServer, stopAndDrop, waitFor } from '../../support/server';

const SECRET = 'messenger-app-secret-for-tests';
const TOKEN = 'page-token-for-tests';
const VERIFY = 'verify-me';

// Both inbox modes: several processes sharing the database (leases, the database's queue),
// and the database's only client (SINGLE_PROCESS: the queue in memory, no leases).
describe.each([false, true])('Messenger channel against a local fake of the Graph API (real database, SINGLE_PROCESS=%s)', (singleProcess) => {
  let graph: FakeGraphApi;
  let server: RunningServer;

  beforeAll(async () => {
    graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0' });
    const graphApiUrl = await graph.start();
    server = await startTestServer({
      label: 'messenger',
      singleProcess,
      messenger: { pageToken: TOKEN, appSecret: SECRET, verifyToken: VERIFY },
      graphApiUrl,
      graphApiVersion: 'v21.0',
    });
  });
  afterAll(async () => {
    await stopAndDrop(server);
    await graph.stop();
  });

  /** Posts a body exactly as Meta would, signed, and waits until the bot has handled it. */
  async function deliver(body: unknown, options: { secret?: string; signature?: string | null } = {}) {
    const { raw, signature } = signedWebhook(body, options.secret ?? SECRET);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.signature !== null) headers['x-hub-signature-256'] = options.signature ?? signature;
    const res = await fetch(`${server.url}/webhooks/messenger`, { method: 'POST', headers, body: raw });
    await server.inbox.idle();
    return res;
  }

  /** Sends a text from `sender` and returns the texts the bot sent back. */
  async function say(sender: string, text: string, payload?: string): Promise<string[]> {
    const before = graph.sent.length;
    const res = await deliver(messengerText(sender, text, payload));
    expect(res.status).toBe(200);
    return graph.sent.slice(before).map((m) => m.text);
  }

  it('answers the verification handshake for the right token only', async () => {
    const ok = await fetch(`${server.url}/webhooks/messenger?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const wrong = await fetch(`${server.url}/webhooks/messenger?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`);
    expect(wrong.status).toBe(403);
  });

  it('refuses an unsigned or wrongly signed webhook, malformed JSON, another object and an oversized body', async () => {
    expect((await deliver(messengerText('x', 'hi'), { signature: null })).status).toBe(401);
    expect((await deliver(messengerText('x', 'hi'), { secret: 'not-the-secret' })).status).toBe(403);
    const bad = await fetch(`${server.url}/webhooks/messenger`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' }, body: '{oops' });
    expect(bad.status).toBe(400);
    const other = await deliver({ object: 'instagram', entry: [] });
    expect(other.status).toBe(400);
    expect(await other.json()).toEqual({ error: 'bad_webhook', message: 'unknown object "instagram"; this endpoint takes "page" webhooks' });
    const huge = await fetch(`${server.url}/webhooks/messenger`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }) });
    expect(huge.status).toBe(413);
    expect(await customerModel(server.connection).countDocuments({ channel: 'messenger', externalId: 'x' })).toBe(0);
  });

  it('takes a whole order in Darija, with the product list as a numbered choice', async () => {
    const u = 'psid-order-1';
    expect(await say(u, 'salam')).toEqual(['مرحبا بيك! أنا المساعد ديال التعاونية.\n\nشنو سميتك؟']);
    const menu = await say(u, 'Fatima');
    expect(menu).toEqual(['متشرفين آ Fatima!\n\nأشنو نقدر نعاونك؟']);
    expect(graph.sent[graph.sent.length - 1]!.quickReplies?.map((q) => q.payload)).toEqual(['PRODUCTS', 'ORDER', 'RATE', 'HUMAN']);
    // A product name is longer than Messenger's 20 characters: the products come as a numbered list.
    const [which] = await say(u, 'نكوموندي', 'ORDER');
    expect(which).toMatch(/^أشمن منتوج بغيتي تكوموندي؟\n1\. زيت لرݣان\n2\. زيت لرݣان ديال الماكلة\n3\. أملو/);
    expect(await say(u, '3')).toEqual(['شحال بغيتي؟ (من 1 حتى 20)']);
    expect(await say(u, 'jouj')).toEqual(['الكوموند ديالك:\n2 × أملو: 180 MAD\nهادشي كامل؟']);
    expect(graph.sent.at(-1)!.quickReplies?.map((q) => q.payload)).toEqual(['done', 'add', 'remove']);
    // The name is known from the welcome: not asked again.
    expect(await say(u, 'safi')).toEqual([expect.stringMatching(/^شنو الرقم ديال التيليفون/)]);
    expect(await say(u, '06 12 34 56 78')).toEqual([expect.stringMatching(/^نوصلوها ليك للدار/)]);
    expect(await say(u, 'twsil')).toEqual(['فأشمن مدينة نوصلوها؟']);
    expect(await say(u, 'Agadir')).toEqual([expect.stringMatching(/^شنو العنوان؟/)]);
    expect(await say(u, 'hay salam, zen9a 3')).toEqual([expect.stringMatching(/^كيفاش بغيتي تخلص؟/)]);
    const [summary] = await say(u, 'cash');
    expect(summary).toMatch(/^الخلاصة:\n2 × أملو: 180 MAD\nالتوصيل \(hay salam, zen9a 3، Agadir\): 20 MAD\nالمجموع: 200 MAD/);
    // Meta delivers the confirmation twice: one order.
    const confirmation = messengerText(u, 'wakha', undefined, 'mid.confirm-once');
    const sentBefore = graph.sent.length;
    await deliver(confirmation);
    expect((await (await deliver(confirmation)).json()) as unknown).toMatchObject({ duplicates: 1 });
    const [placed] = graph.sent.slice(sentBefore).map((m) => m.text);
    expect(graph.sent.length - sentBefore).toBe(1);
    const number = /TIF-\d{6}/.exec(placed!)?.[0];
    expect(placed).toMatch(/^شكرا! الكوموند ديالك TIF-\d{6} تسجلات \(200 MAD\)/);
    const customer = await customerModel(server.connection).findOne({ channel: 'messenger', externalId: u }).lean();
    expect(customer).toMatchObject({ name: 'Fatima', phone: '+212612345678', city: 'Agadir', address: 'hay salam, zen9a 3', language: 'ary' });
    const order = await server.orders.find(number!);
    expect(order).toMatchObject({ channel: 'messenger', customer: customer!._id, phone: '+212612345678', subtotal: 180, deliveryFee: 20, total: 200, payment: 'cod', status: 'pending' });
    expect(order!.lines).toEqual([{ product: 'amlou', name: 'أملو', quantity: 2, unitPrice: 90, total: 180 }]);
    expect(await orderModel(server.connection).countDocuments({ customer: customer!._id })).toBe(1);
    expect(await messageModel(server.connection).countDocuments({ customer: customer!._id, direction: 'in' })).toBe(12);
    expect(graph.sent.every((m) => m.recipient.startsWith('psid') && m.messagingType === 'RESPONSE')).toBe(true);

    // The cooperative ships it: the customer hears it on Messenger, as an update inside the window.
    const before = graph.sent.length;
    const res = await fetch(`${server.url}/api/orders/${number}`, { method: 'PATCH', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'confirmed' }) });
    expect(res.status).toBe(200);
    await waitFor(() => graph.sent.length > before);
    expect(graph.sent.at(-1)).toMatchObject({ recipient: u, messagingType: 'UPDATE', text: `خبر زوين: الكوموند ديالك ${number} تأكدات.` });
  });

  it('drops a redelivered webhook by its message id', async () => {
    const body = messengerText('psid-dup', 'hello', undefined, 'mid.same');
    const before = graph.sent.length;
    expect((await deliver(body)).status).toBe(200);
    const again = await deliver(body);
    expect(await again.json()).toMatchObject({ received: 0, duplicates: 1 });
    expect(graph.sent.length - before).toBe(1);
  });

  it('applies a message once even when the inbox takes it again (a restart before its done-mark)', async () => {
    const u = 'psid-replay';
    expect(await say(u, 'Bonjour')).toHaveLength(1);
    const body = messengerText(u, 'Youssef', undefined, 'mid.replayed-once');
    expect((await deliver(body)).status).toBe(200);
    // As if the process stopped before marking it done: the inbox has no trace of it, and Meta sends it again.
    await server.inbox.events.deleteOne({ _id: 'messenger:mid.replayed-once' });
    const before = graph.sent.length;
    expect(await (await deliver(body)).json()).toMatchObject({ received: 1, duplicates: 0 });
    expect(graph.sent.length).toBe(before);
    const customer = await customerModel(server.connection).findOne({ channel: 'messenger', externalId: u }).lean();
    const history = await messageModel(server.connection).find({ customer: customer!._id }).sort({ at: 1, _id: 1 }).lean();
    expect(history.map((m) => `${m.direction} ${m.text.split('\n')[0]}`)).toEqual([
      'in Bonjour',
      "out Bonjour et bienvenue ! Je suis l'assistant de la coopérative.",
      'out Comment vous appelez-vous ?',
      'in Youssef',
      'out Enchanté, Youssef !',
      'out Que puis-je faire pour vous ?',
    ]);
    // The dialog went on from the name once: the next answer is the menu's.
    expect(await say(u, 'menu')).toHaveLength(1);
  });

  it('retries a Send API call that Meta rate-limits, and delivers the reply', async () => {
    graph.failNext({ status: 400, code: 613 });
    expect(await say('psid-rate', 'hello')).toEqual(["Hello and welcome! I am the cooperative's assistant.\n\nWhat is your name?"]);
  });

  it("sends a turn's replies on the inbox's next try when Meta could not take them, without running the turn again", async () => {
    const u = 'psid-meta-down';
    const before = graph.sent.length;
    // Every try of the first attempt fails (Graph down for a few seconds); the inbox's retry goes through.
    graph.failNext(...Array.from({ length: 4 }, () => ({ status: 503, code: 2 })));
    const res = await deliver(messengerText(u, 'Bonjour'));
    expect(res.status).toBe(200);
    await waitFor(() => graph.sent.slice(before).some((m) => m.recipient === u), 15_000, 'the reply after the retry');
    expect(graph.sent.slice(before).filter((m) => m.recipient === u).map((m) => m.text)).toEqual(["Bonjour et bienvenue ! Je suis l'assistant de la coopérative.\n\nComment vous appelez-vous ?"]);
    expect(await say(u, 'Youssef')).toEqual(['Enchanté, Youssef !\n\nQue puis-je faire pour vous ?']);
    // The customer's message is kept once, with the replies that went out.
    const customer = await customerModel(server.connection).findOne({ channel: 'messenger', externalId: u }).lean();
    const history = await messageModel(server.connection).find({ customer: customer!._id }).sort({ at: 1, _id: 1 }).lean();
    expect(history.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['Bonjour', 'Youssef']);
    expect(history.filter((m) => m.direction === 'out').every((m) => m.delivery?.status === 'sent')).toBe(true);
  }, 20_000);

  it('tells the customer and tries the message again when the conversation could not be saved, instead of hanging', async () => {
    const u = 'psid-db-hiccup';
    const before = graph.sent.length;
    const collection = dialogStateModel(server.connection).collection;
    const insertOne = collection.insertOne.bind(collection);
    // Every save fails until the customer has been told something (the apology).
    const failOnce = jest.spyOn(collection, 'insertOne').mockImplementation(((doc: never) =>
      graph.sent.slice(before).some((m) => m.recipient === u) ? insertOne(doc) : Promise.reject(new Error('database hiccup'))) as never);
    await deliver(messengerText(u, 'Bonjour'));
    await waitFor(() => graph.sent.slice(before).filter((m) => m.recipient === u).length >= 2, 15_000, 'the apology, then the reply of the retry');
    failOnce.mockRestore();
    const texts = graph.sent.slice(before).filter((m) => m.recipient === u).map((m) => m.text);
    expect(texts[1]).toBe("Bonjour et bienvenue ! Je suis l'assistant de la coopérative.\n\nComment vous appelez-vous ?");
    expect(texts[0]).not.toBe(texts[1]);
  }, 20_000);

  it('sends nothing of a turn whose conversation moved on meanwhile, and answers on the retry', async () => {
    const u = 'psid-conflict';
    await say(u, 'Bonjour');
    const before = graph.sent.length;
    const collection = dialogStateModel(server.connection).collection;
    // Another writer took the version this turn would have committed.
    const conflict = jest.spyOn(collection, 'insertOne').mockImplementationOnce((() => Promise.reject(Object.assign(new Error('E11000 duplicate key'), { code: 11000 }))) as never);
    await deliver(messengerText(u, 'Youssef'));
    await waitFor(() => graph.sent.slice(before).some((m) => m.recipient === u), 15_000, 'the reply of the retry');
    conflict.mockRestore();
    await server.inbox.idle();
    expect(graph.sent.slice(before).filter((m) => m.recipient === u).map((m) => m.text)).toEqual(['Enchanté, Youssef !\n\nQue puis-je faire pour vous ?']);
    const customer = await customerModel(server.connection).findOne({ channel: 'messenger', externalId: u }).lean();
    expect(await messageModel(server.connection).countDocuments({ customer: customer!._id, direction: 'in', text: 'Youssef' })).toBe(1);
  }, 20_000);

  it('counts a misunderstood message once though its reply waited for Meta', async () => {
    const u = 'psid-meta-slow';
    await say(u, 'Bonjour');
    await say(u, 'Youssef');
    const before = graph.sent.length;
    graph.failNext(...Array.from({ length: 4 }, () => ({ status: 503, code: 2 })));
    await deliver(messengerText(u, 'xqzv blorp wug'));
    await waitFor(() => graph.sent.slice(before).some((m) => m.recipient === u), 15_000, 'the reply after the retry');
    const customer = await customerModel(server.connection).findOne({ channel: 'messenger', externalId: u }).lean();
    expect(customer?.fallbacks).toBe(1);
  }, 20_000);

  it('keeps an error that sending again cannot fix on the customer', async () => {
    graph.failNext({ status: 400, code: 551 });
    expect(await say('psid-gone', 'hello')).toEqual([]);
    const customer = await customerModel(server.connection).findOne({ channel: 'messenger', externalId: 'psid-gone' }).lean();
    expect(customer?.channelError).toMatchObject({ code: 551 });
  });

  it('erases a Messenger customer with nothing of the erasing turn left behind', async () => {
    const u = 'psid-erase';
    await say(u, 'bonjour');
    await say(u, 'Nadia');
    const customer = (await customerModel(server.connection).findOne({ channel: 'messenger', externalId: u }).lean())!;
    expect(await say(u, 'je veux supprimer mes données')).toEqual([expect.stringMatching(/^Voulez-vous vraiment effacer/)]);
    expect(await say(u, 'oui')).toEqual([expect.stringMatching(/^C'est fait/)]);
    expect(await customerModel(server.connection).findById(customer._id).lean()).toBeNull();
    expect(await messageModel(server.connection).countDocuments({ customer: customer._id })).toBe(0);
  });

  it('answers a photo politely', async () => {
    const body = messengerText('psid-photo', 'x');
    const item = body.entry[0]!.messaging[0]!.message as Record<string, unknown>;
    delete item.text;
    item.attachments = [{ type: 'image', payload: { url: 'https://example.invalid/p.jpg' } }];
    const before = graph.sent.length;
    await deliver(body);
    expect(graph.sent.slice(before).map((m) => m.text)).toEqual(["Merci ! Je ne sais lire que le texte pour l'instant ; l'équipe de la coopérative regardera votre envoi."]);
  });

  it('handles one customer\'s messages in order, even when the webhooks arrive together', async () => {
    const u = 'psid-burst';
    const bodies = [messengerText(u, 'Bonjour'), messengerText(u, 'Youssef')].map((b) => signedWebhook(b, SECRET));
    const before = graph.sent.length;
    await Promise.all(
      bodies.map(({ raw, signature }) =>
        fetch(`${server.url}/webhooks/messenger`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw }),
      ),
    );
    await graph.waitForSent(before + 2);
    await server.inbox.idle();
    expect(graph.sent.slice(before).map((m) => m.text)).toEqual(["Bonjour et bienvenue ! Je suis l'assistant de la coopérative.\n\nComment vous appelez-vous ?", 'Enchanté, Youssef !\n\nQue puis-je faire pour vous ?']);
    expect(await server.inbox.events.countDocuments({ sender: u, status: 'done' })).toBe(2);
  });
});
