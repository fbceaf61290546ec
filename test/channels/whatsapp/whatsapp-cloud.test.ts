import { applyNotice } from '../../../src/channels/notices';
import { toCloudMessages } from '../../../src/channels/whatsapp/cloud-messages';
import { createLogger } from '../../../src/logger';
import { parseWhatsAppWebhook } from '../../../src/channels/whatsapp/whatsapp-events';
import { customerIdModel, customerModel } from '../../../src/db/models/customer';
import { messageModel } from '../../../src/db/models/message';
import { messageRefModel } from '../../../src/db/models/message-ref';
import type { RunningServer } from '../../../src/server';
import { FakeGraphApi, signedWebhook, TEST_PHONE_NUMBER_ID, whatsappMessage, whatsappStatus } from '../../support/fake-graph-api';
import { ADMIN_PASSWORD, startTestServer, stopAndDrop } from '../../support/server';

const SECRET = 'whatsapp-app-secret-for-tests';
const TOKEN = 'whatsapp-token-for-tests';
const PHONE_ID = TEST_PHONE_NUMBER_ID;

describe('WhatsApp Cloud API messages', () => {
  const text = (t: string, quick_replies?: { title: string; payload: string }[]) => ({ type: 'message', text: t, ...(quick_replies ? { channelData: { quick_replies } } : {}) });

  it('uses reply buttons for up to 3 short choices, a list for up to 10, numbers beyond', () => {
    const two = [
      { title: 'Oui', payload: 'yes' },
      { title: 'Non', payload: 'no' },
    ];
    expect(toCloudMessages([text('Je confirme ?', two)], 'Choisir')[0]!.body).toEqual({
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'Je confirme ?' }, action: { buttons: [{ type: 'reply', reply: { id: 'yes', title: 'Oui' } }, { type: 'reply', reply: { id: 'no', title: 'Non' } }] } },
    });
    const eight = Array.from({ length: 8 }, (_, i) => ({ title: `Produit ${i + 1}`, payload: `p${i}` }));
    expect((toCloudMessages([text('Lequel ?', eight)], 'Choisir')[0]!.body as any).interactive.type).toBe('list');
    const twelve = Array.from({ length: 12 }, (_, i) => ({ title: `P${i + 1}`, payload: `p${i}` }));
    const numbered = toCloudMessages([text('Lequel ?', twelve)], 'Choisir')[0]!;
    expect((numbered.body as any).text.body).toMatch(/^Lequel \?\n1\. P1\n[\s\S]*12\. P12$/);
    expect(numbered.numbered).toEqual(twelve);
  });

  it('reads texts, button and list replies, locations, images and statuses', () => {
    const body = whatsappMessage('212612345678', { type: 'text', text: { body: 'salam' } }, 'w1');
    const value = body.entry[0]!.changes[0]!.value as any;
    value.messages.push(
      { from: '212612345678', id: 'w2', timestamp: '1', type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'إيه' } } },
      { from: '212612345678', id: 'w3', timestamp: '1', type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'product:amlou', title: 'amlou' } } },
      { from: '212612345678', id: 'w4', timestamp: '1', type: 'location', location: { latitude: 30.47, longitude: -8.87, name: 'Taroudant' } },
      { from: '212612345678', id: 'w5', timestamp: '1', type: 'image', image: { id: 'media1', caption: 'hada' } },
    );
    value.statuses = [{ id: 'wamid.out1', status: 'delivered', timestamp: '1700000000', recipient_id: '212612345678' }];
    const parsed = parseWhatsAppWebhook(body);
    expect(parsed.events.map((e) => [e.id, e.text, e.payload ?? null, e.attachments?.[0]?.type ?? null])).toEqual([
      ['w1', 'salam', null, null],
      ['w2', 'إيه', 'yes', null],
      ['w3', 'amlou', 'product:amlou', null],
      ['w4', 'Taroudant', null, 'location'],
      ['w5', 'hada', null, 'image'],
    ]);
    expect(parsed.statuses).toEqual([{ id: 'wamid.out1', status: 'delivered', recipient: '212612345678', at: new Date(1_700_000_000_000) }]);
    expect(() => parseWhatsAppWebhook({ object: 'page', entry: [] })).toThrow('unknown object "page"');
  });
});

describe('WhatsApp Cloud API channel against a local fake of the Graph API (real database)', () => {
  let graph: FakeGraphApi;
  let server: RunningServer;

  beforeAll(async () => {
    graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0', phoneNumberId: PHONE_ID });
    server = await startTestServer({
      label: 'whatsapp',
      whatsapp: { token: TOKEN, phoneNumberId: PHONE_ID, appSecret: SECRET, verifyToken: 'wa-verify', template: undefined },
      graphApiUrl: await graph.start(),
      graphApiVersion: 'v21.0',
    });
  });
  afterAll(async () => {
    await stopAndDrop(server);
    await graph.stop();
  });

  async function deliver(body: unknown) {
    const { raw, signature } = signedWebhook(body, SECRET);
    const res = await fetch(`${server.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    await server.inbox.idle();
    return res;
  }

  async function say(from: string, message: Record<string, unknown>) {
    const before = graph.sent.length;
    expect((await deliver(whatsappMessage(from, message))).status).toBe(200);
    return graph.sent.slice(before);
  }

  it('answers the handshake for the right token only, and refuses a wrong signature', async () => {
    expect(await (await fetch(`${server.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wa-verify&hub.challenge=42`)).text()).toBe('42');
    expect((await fetch(`${server.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=42`)).status).toBe(403);
    const { raw } = signedWebhook(whatsappMessage('212600000001', { type: 'text', text: { body: 'hi' } }), 'wrong-secret');
    const { signature } = signedWebhook({}, 'wrong-secret');
    expect((await fetch(`${server.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw })).status).toBe(403);
  });

  it('takes a whole order in French with buttons, a list and a location, and marks each message read', async () => {
    const u = '212611111111';
    const readsBefore = graph.reads.length;
    expect((await say(u, { type: 'text', text: { body: 'Bonjour' } })).map((m) => m.text)).toEqual(["Bonjour et bienvenue ! Je suis l'assistant de la coopérative.\n\nComment vous appelez-vous ?"]);
    const [menu] = await say(u, { type: 'text', text: { body: 'Nadia' } });
    // Four choices: more than WhatsApp's three buttons, so a list.
    expect(menu).toMatchObject({ messagingType: 'interactive:list', text: 'Enchanté, Nadia !\n\nQue puis-je faire pour vous ?' });
    const [which] = await say(u, { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'ORDER', title: 'Commander' } } });
    expect(which).toMatchObject({ messagingType: 'interactive:list', text: 'Quel produit voulez-vous commander ?' });
    expect(which!.quickReplies!.map((q) => q.payload)).toContain('product:amlou');
    expect((await say(u, { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'product:amlou', title: 'amlou' } } }))[0]!.text).toBe('Combien en voulez-vous ? (de 1 à 20)');
    const [cart] = await say(u, { type: 'text', text: { body: '2' } });
    expect(cart).toMatchObject({ messagingType: 'interactive:button', text: "Votre commande :\n2 × amlou : 180 MAD\nC'est tout ?" });
    const button = (id: string, title: string) => ({ type: 'interactive', interactive: { type: 'button_reply', button_reply: { id, title } } });
    expect((await say(u, button('done', "C'est tout")))[0]!.text).toMatch(/^Quel numéro de téléphone pour le livreur/);
    expect((await say(u, { type: 'text', text: { body: '0661234567' } }))[0]).toMatchObject({ messagingType: 'interactive:button', text: 'Livraison à domicile, ou retrait à la coopérative ?' });
    expect((await say(u, button('delivery', 'Livraison')))[0]!.text).toBe('Dans quelle ville livrer ?');
    // The address question comes with WhatsApp's "Send your location" button.
    expect((await say(u, { type: 'text', text: { body: 'Casablanca' } }))[0]).toMatchObject({ messagingType: 'interactive:location_request_message', text: 'Quelle adresse ? (quartier, rue, numéro)' });
    expect((await say(u, { type: 'location', location: { latitude: 33.58, longitude: -7.62, name: 'Maarif, rue 12' } }))[0]!.text).toMatch(/^Comment voulez-vous payer/);
    const [summary] = await say(u, button('cod', 'À la livraison'));
    expect(summary).toMatchObject({ messagingType: 'interactive:button', quickReplies: [{ title: 'Oui', payload: 'yes' }, { title: 'Non', payload: 'no' }] });
    expect(summary!.text).toBe(
      'Récapitulatif :\n2 × amlou : 180 MAD\nLivraison (Maarif, rue 12, Casablanca) : 35 MAD\nTotal : 215 MAD, paiement à la livraison.\nAu nom de Nadia, téléphone +212661234567.\nJe confirme la commande ?',
    );
    const [done] = await say(u, button('yes', 'Oui'));
    expect(done!.text).toMatch(/^Merci ! Votre commande TIF-\d{6} est enregistrée \(215 MAD\)/);
    const order = await server.orders.find(/TIF-\d{6}/.exec(done!.text)![0]);
    expect(order).toMatchObject({ channel: 'whatsapp', name: 'Nadia', phone: '+212661234567', total: 215, deliveryFee: 35, delivery: { mode: 'delivery', city: 'Casablanca', address: 'Maarif, rue 12', zone: 'other', location: { latitude: 33.58, longitude: -7.62 } } });
    expect(graph.reads.length - readsBefore).toBe(12);
    // The console's order shows where the courier goes, on a map.
    const login = await fetch(`${server.url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${encodeURIComponent(ADMIN_PASSWORD)}` });
    const page = await (await fetch(`${server.url}/admin/orders?lang=fr`, { headers: { cookie: login.headers.get('set-cookie')!.split(';')[0]! } })).text();
    expect(page).toContain('Maarif, rue 12, Casablanca <a href="https://maps.google.com/?q=33.58,-7.62" target="_blank" rel="noopener">carte</a>');
  });

  it('keeps delivery statuses on the sent messages, and an unreachable customer on their record', async () => {
    const u = '212622222222';
    await say(u, { type: 'text', text: { body: 'hello' } });
    const customer = await customerModel(server.connection).findOne({ channel: 'whatsapp', externalId: u }).lean();
    const out = await messageModel(server.connection).findOne({ customer: customer!._id, direction: 'out' }).sort({ at: -1 }).lean();
    expect(out).toMatchObject({ externalId: expect.stringMatching(/^wamid\.fake/), delivery: { status: 'sent' } });
    await deliver(whatsappStatus(out!.externalId!, 'read', u));
    expect((await messageModel(server.connection).findById(out!._id).lean())?.delivery).toMatchObject({ status: 'read' });
    // Meta may report out of order: a late "delivered" does not undo "read".
    await deliver(whatsappStatus(out!.externalId!, 'delivered', u));
    expect((await messageModel(server.connection).findById(out!._id).lean())?.delivery).toMatchObject({ status: 'read' });
    await deliver(whatsappStatus(out!.externalId!, 'failed', u, { code: 131047, title: 'Re-engagement message' }));
    expect((await customerModel(server.connection).findById(customer!._id).lean())?.channelError).toMatchObject({ code: 131047 });
  });
  it('takes a whole order from a username customer known only by their BSUID, keeps them one customer once their phone comes, and erases both', async () => {
    const bsuid = 'MA.2086157822334836';
    const phone = '212633333333';
    // As Meta sends a username customer since June 2026: from_user_id, no from, no wa_id.
    const fromUser = (message: Record<string, unknown>, withPhone = false) => {
      const body = whatsappMessage(phone, message) as any;
      const value = body.entry[0].changes[0].value;
      value.contacts = [{ profile: { name: 'Salma', username: 'salma.argan' }, user_id: bsuid, ...(withPhone ? { wa_id: phone } : {}) }];
      const m = value.messages[0];
      if (!withPhone) delete m.from;
      m.from_user_id = bsuid;
      return body;
    };
    const says = async (message: Record<string, unknown>, withPhone = false) => {
      const before = graph.sent.length;
      expect((await deliver(fromUser(message, withPhone))).status).toBe(200);
      return graph.sent.slice(before);
    };
    const text = (body: string) => ({ type: 'text', text: { body } });
    const button = (id: string, title: string) => ({ type: 'interactive', interactive: { type: 'button_reply', button_reply: { id, title } } });
    const list = (id: string, title: string) => ({ type: 'interactive', interactive: { type: 'list_reply', list_reply: { id, title } } });
    const hello = await says(text('Bonjour'));
    // Replies go to the BSUID: Send API's "recipient" (the fake refuses a "to" that is no phone).
    expect(hello.map((m) => m.recipient)).toEqual([bsuid]);
    await says(text('Salma'));
    await says(list('ORDER', 'Commander'));
    await says(list('product:amlou', 'amlou'));
    await says(text('1'));
    await says(button('done', "C'est tout"));
    await says(text('0662223344'));
    await says(button('pickup', 'Retrait'));
    const payment = await says(button('cod', 'À la livraison'));
    const [done] = payment[0]!.text.startsWith('Récapitulatif') ? await says(button('yes', 'Oui')) : [payment[0]];
    expect(done!.text).toMatch(/commande TIF-\d{6} est enregistrée/);
    expect(done!.recipient).toBe(bsuid);
    const number = /TIF-\d{6}/.exec(done!.text)![0];
    const ids = customerIdModel(server.connection);
    const customerId = (await ids.findById(`whatsapp:bsuid:${bsuid}`).lean())!.customer;
    expect(await customerModel(server.connection).findById(customerId).lean()).toMatchObject({ whatsapp: { bsuid, username: 'salma.argan', profileName: 'Salma' } });
    // Later Meta sends their phone too: the same customer (history, dialog), answered on the phone now.
    // Every message Meta knows by an id is found by it (statuses, reactions): by _id, not by a scan.
    expect(await messageRefModel(server.connection).countDocuments({ customer: customerId })).toBeGreaterThanOrEqual(20);
    const later = await says(text('Où en est ma commande ?'), true);
    expect(later.map((m) => m.recipient)).toEqual([phone]);
    expect(String((await ids.findById(`whatsapp:phone:${phone}`).lean())!.customer)).toBe(String(customerId));
    expect(await customerModel(server.connection).countDocuments({ channel: 'whatsapp', $or: [{ externalId: bsuid }, { externalId: phone }] })).toBe(1);
    expect((await server.orders.find(number))?.customer).toEqual(customerId);
    expect(await messageModel(server.connection).countDocuments({ customer: customerId, direction: 'in' })).toBe(11);
    // Erased: nothing left under either id (the order stays, without name or phone).
    await says(text('supprimer mes données'), true);
    await says(button('yes', 'Oui'), true);
    expect(await ids.countDocuments({ customer: customerId })).toBe(0);
    expect(await ids.countDocuments({ _id: { $in: [`whatsapp:bsuid:${bsuid}`, `whatsapp:phone:${phone}`, `whatsapp:${bsuid}`] } })).toBe(0);
    expect(await customerModel(server.connection).findById(customerId).lean()).toBeNull();
    expect(await messageModel(server.connection).countDocuments({ customer: customerId })).toBe(0);
    expect(await messageRefModel(server.connection).countDocuments({ customer: customerId })).toBe(0);
    await server.inbox.idle();
    // Of the webhook archive, only the "yes" that erased was left (it was being handled): retention takes it.
    const left = await server.inbox.events.find({ channel: 'whatsapp', sender: { $in: [bsuid, phone] } }).lean();
    expect(left.map((e) => JSON.parse(e.event).text)).toEqual(['Oui']);
    expect(await server.orders.find(number)).toMatchObject({ name: null, phone: '' });
  });
  it('takes a 👍 reaction to the rating question as its answer, and keeps other reactions, edits and deletions without answering', async () => {
    const u = '212644444444';
    const [question] = await say(u, { type: 'text', text: { body: 'je veux donner mon avis' } });
    const customer = await customerModel(server.connection).findOne({ channel: 'whatsapp', externalId: u }).lean();
    const asked = await messageModel(server.connection).findOne({ customer: customer!._id, direction: 'out' }).sort({ at: -1, _id: -1 }).lean();
    expect(asked).toMatchObject({ flow: 'satisfaction', step: expect.stringMatching(/^score/), text: question!.text });
    const [next] = await say(u, { type: 'reaction', reaction: { message_id: asked!.externalId, emoji: '👍🏽' } });
    // A thumb up is a good score: the flow goes on to ask for a comment.
    expect(next!.text).toMatch(/^Voulez-vous ajouter un mot/);
    expect((await messageModel(server.connection).findById(asked!._id).lean())?.reaction).toMatchObject({ emoji: '👍🏽' });
    // The same reaction on a message that asks nothing is only kept.
    const hello = await messageModel(server.connection).findOne({ customer: customer!._id, direction: 'out' }).sort({ at: -1, _id: -1 }).lean();
    expect(await say(u, { type: 'reaction', reaction: { message_id: hello!.externalId, emoji: '❤️' } })).toEqual([]);
    expect((await messageModel(server.connection).findById(hello!._id).lean())?.reaction).toMatchObject({ emoji: '❤️' });
    // Taken back: an empty emoji.
    expect(await say(u, { type: 'reaction', reaction: { message_id: hello!.externalId } })).toEqual([]);
    expect((await messageModel(server.connection).findById(hello!._id).lean())?.reaction).toBeUndefined();
    // An edit and a deletion of the customer's own message: stored, not answered, and applied once when Meta sends them again.
    const mine = 'wamid.mine-' + Date.now();
    await deliver(whatsappMessage(u, { type: 'text', text: { body: 'non' } }, mine));
    const edit = whatsappMessage(u, { type: 'edit', edit: { original_message_id: mine, message: { type: 'text', text: { body: 'non merci' } } } }, `${mine}-edit`);
    const before = graph.sent.length;
    await deliver(edit);
    await deliver(edit);
    await deliver(whatsappMessage(u, { type: 'revoke', revoke: { original_message_id: mine } }, `${mine}-revoke`));
    expect(graph.sent.length).toBe(before);
    expect(await messageModel(server.connection).findOne({ externalId: mine }).lean()).toMatchObject({ text: 'non merci', edits: [{ text: 'non' }], deletedAt: expect.any(Date) });
  });
  it('keeps people apart when a phone changes hands, keeps customers stored before identities, and applies a replayed edit once', async () => {
    const withIds = (phone: string, bsuid: string, body: string) => {
      const b = whatsappMessage(phone, { type: 'text', text: { body } }) as any;
      b.entry[0].changes[0].value.contacts[0].user_id = bsuid;
      b.entry[0].changes[0].value.messages[0].from_user_id = bsuid;
      return b;
    };
    const sent = async (body: unknown) => {
      const before = graph.sent.length;
      await deliver(body);
      return graph.sent.slice(before).map((m) => m.recipient);
    };
    const ids = customerIdModel(server.connection);
    const owner = async (key: string) => (await ids.findById(key).lean())?.customer;
    // Amine writes from P; later P arrives with another person's user id: the number changed hands.
    const [p, q] = ['212655500001', '212655500002'];
    expect(await sent(withIds(p, 'MA.111', 'salam'))).toEqual([p]);
    const amine = (await owner('whatsapp:bsuid:MA.111'))!;
    expect(await sent(withIds(p, 'MA.222', 'bonjour'))).toEqual([p]);
    const newcomer = (await owner('whatsapp:bsuid:MA.222'))!;
    expect(String(newcomer)).not.toBe(String(amine));
    expect(String(await owner(`whatsapp:phone:${p}`))).toBe(String(newcomer));
    expect((await customerModel(server.connection).findById(amine).lean())?.whatsapp?.phone).toBeUndefined();
    // Amine comes back from a new phone: his own history, answered there, nobody else's.
    expect(await sent(withIds(q, 'MA.111', 'rani hna'))).toEqual([q]);
    expect(await messageModel(server.connection).countDocuments({ customer: amine, direction: 'in' })).toBe(2);
    expect(await messageModel(server.connection).countDocuments({ customer: newcomer, direction: 'in' })).toBe(1);

    // A customer stored before identities were kept (by phone, no whatsapp record) is found by it, and gets their user id linked.
    const legacyPhone = '212655500003';
    const [legacy] = await customerModel(server.connection).insertMany([{ channel: 'whatsapp', externalId: legacyPhone, tags: [], firstSeenAt: new Date(), lastSeenAt: new Date() }]);
    await ids.create({ _id: `whatsapp:${legacyPhone}`, customer: legacy!._id });
    expect(await sent(withIds(legacyPhone, 'MA.333', 'salam'))).toEqual([legacyPhone]);
    expect(String(await owner('whatsapp:bsuid:MA.333'))).toBe(String(legacy!._id));
    expect((await customerModel(server.connection).findById(legacy!._id).lean())?.whatsapp).toMatchObject({ phone: legacyPhone, bsuid: 'MA.333' });
    expect(String(await owner(`whatsapp:phone:${legacyPhone}`))).toBe(String(legacy!._id));
    // Writing from a new phone with the same user id: the old phone is theirs no more.
    const [r, t] = ['212655500005', '212655500006'];
    expect(await sent(withIds(r, 'MA.444', 'salam'))).toEqual([r]);
    const moving = (await owner('whatsapp:bsuid:MA.444'))!;
    expect(await sent(withIds(t, 'MA.444', 'rani b numero jdid'))).toEqual([t]);
    expect(await owner(`whatsapp:phone:${r}`)).toBeUndefined();
    expect((await customerModel(server.connection).findById(moving).lean())?.whatsapp).toMatchObject({ phone: t, formerPhones: [r] });

    // Edits replayed after a crash (several in a row) change the message once each.
    const [mine] = await messageModel(server.connection).insertMany([{ customer: newcomer, channel: 'whatsapp', direction: 'in', text: 'one', externalId: 'wamid.edited', at: new Date() }]);
    const edit = (id: string, text: string) => ({ id, sender: p, text, timestamp: Date.now(), kind: 'edit' as const, about: 'wamid.edited' });
    const options = { log: createLogger('silent', 'json'), handoffMs: 1000, receivedAt: new Date() };
    for (const e of [edit('e1', 'two'), edit('e2', 'three'), edit('e1', 'two'), edit('e2', 'three')]) await applyNotice(server.connection, 'whatsapp', e, newcomer, options);
    expect(await messageModel(server.connection).findById(mine!._id).lean()).toMatchObject({ text: 'three', edits: [{ text: 'one', event: 'e1' }, { text: 'two', event: 'e2' }] });
  });
});
