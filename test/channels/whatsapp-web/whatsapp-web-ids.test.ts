import { customerIdModel, customerModel } from '../../../src/db/models/customer';
import { messageModel } from '../../../src/db/models/message';
import type { RunningServer } from '../../../src/server';
import { FakeWebClient } from '../../support/fake-whatsapp-web';
import { ADMIN_PASSWORD, LogLines, startTestServer, stopAndDrop, waitFor } from '../../support/server';

/**
 * WhatsApp Web customers who come as a phone id (`…@c.us`) and as a hidden id (`…@lid`):
 * one customer whichever id they write from, with the library's real message shapes and
 * its getContactLidAndPhone answers (known, unknown, failing, hanging).
 */
describe('WhatsApp Web phone and hidden @lid ids (real database, fake whatsapp-web.js client)', () => {
  let server: RunningServer;
  let client: FakeWebClient;
  const logs = new LogLines();

  beforeAll(async () => {
    server = await startTestServer({
      label: 'walid',
      logLines: logs,
      // Asked on every message: what is cached between them is tested on its own (contact-ids.test.ts).
      whatsappWeb: { chromePath: '/usr/bin/chromium', groups: false, lookupTimeLimitMs: 300, lookupAgainMinutes: 0 },
      whatsappWebClient: async () => (client = new FakeWebClient({ session: true })),
    });
    await waitFor(() => server.whatsappWeb?.state === 'ready', 5000, 'WhatsApp Web ready');
  });
  afterAll(async () => {
    await stopAndDrop(server);
  });
  afterEach(() => {
    client.mapping = 'answer';
  });

  /** A customer writes from a chat id; resolves with the texts sent back, and where they went, once the event is handled. */
  async function say(from: string, body: string, extra: { notifyName?: string } = {}): Promise<{ to: string; text: string }[]> {
    const before = client.sent.length;
    const id = client.receive(from, body, extra);
    // Handled once it is no longer pending (an erasure deletes the archive, but not the event that asked for it while it runs).
    await waitFor(async () => (await server.inbox.events.countDocuments({ _id: `whatsapp-web:${id}`, status: { $ne: 'pending' } })) === 1, 5000, `the message "${body}" handled`);
    await server.inbox.idle();
    return client.sent.slice(before);
  }
  const texts = (sent: { text: string }[]) => sent.map((m) => m.text);
  const customersOf = (ids: string[]) => customerIdModel(server.connection).find({ _id: { $in: ids.map((id) => `whatsapp-web:${id}`) } }).lean();

  it('keeps one customer, history, cart and dialog when they move from @c.us to @lid mid-order, and places one order', async () => {
    const pn = '212611110001@c.us';
    const lid = '179950657237125@lid';
    // The account does not know their hidden id yet: the message goes on with the phone alone.
    expect(texts(await say(pn, 'hello', { notifyName: 'Sam B.' }))).toEqual(["Hello and welcome! I am the cooperative's assistant.\n\nWhat is your name?"]);
    expect(client.asked).toContain(pn);
    await say(pn, 'Sam');
    expect(texts(await say(pn, '2'))[0]).toMatch(/^Which product would you like to order\?/);
    expect(texts(await say(pn, '3'))).toEqual(['How many would you like? (1 to 20)']);
    // WhatsApp moves the contact to a hidden id; the linked account now knows both.
    client.know(pn, lid);
    expect(texts(await say(lid, 'two'))).toEqual(["Your order:\n2 × amlou: 180 MAD\nIs that all?\n1. That's all\n2. Add a product\n3. Remove a product"]);
    expect(texts(await say(lid, '1'))).toEqual([expect.stringMatching(/^Which phone number should the courier call\?/)]);
    await say(lid, '+212 6 11 11 00 01');
    await say(lid, '2');
    expect(texts(await say(lid, '1'))[0]).toMatch(/^Summary:\n2 × amlou: 180 MAD\n/);
    const placed = await say(lid, '1');
    expect(placed[0]!.text).toMatch(/^Thank you! Your order TIF-\d{6} is recorded \(180 MAD\)/);
    // Replies go to the id that last worked: the phone id, which WhatsApp Web opens as the same chat.
    expect(new Set(placed.map((m) => m.to))).toEqual(new Set([pn]));
    const number = /TIF-\d{6}/.exec(placed[0]!.text)![0];

    const links = await customersOf(['phone:212611110001', 'lid:179950657237125', pn]);
    expect(links).toHaveLength(3);
    expect(new Set(links.map((l) => String(l.customer))).size).toBe(1);
    const customer = await customerModel(server.connection).findById(links[0]!.customer).lean();
    expect(customer).toMatchObject({ externalId: pn, name: 'Sam', whatsapp: { phone: '212611110001', lid: '179950657237125', profileName: 'Sam B.', sendTo: pn } });
    expect(await customerModel(server.connection).countDocuments({ channel: 'whatsapp-web', externalId: { $in: [pn, lid] } })).toBe(1);
    expect(await server.orders.find(number)).toMatchObject({ customer: customer!._id, channel: 'whatsapp-web', total: 180, lines: [expect.objectContaining({ quantity: 2 })] });
    expect(await messageModel(server.connection).countDocuments({ customer: customer!._id, direction: 'in' })).toBe(10);
  });

  it('takes an order from a @lid-only customer (no phone known): asks for their phone, and shows them under their name and hidden id', async () => {
    const lid = '203948572019384@lid';
    await say(lid, 'bonjour', { notifyName: 'Khadija' });
    await say(lid, 'Khadija');
    await say(lid, '2');
    await say(lid, '1');
    await say(lid, '1');
    // No phone: the flow asks for it, as on the web chat.
    expect(texts(await say(lid, '1'))).toEqual([expect.stringMatching(/^Quel numéro de téléphone pour le livreur \?/)]);
    await say(lid, '0661234567');
    await say(lid, '2');
    await say(lid, '1');
    const placed = await say(lid, 'oui');
    expect(placed[0]!.text).toMatch(/commande TIF-\d{6} est enregistrée/);
    expect(placed[0]!.to).toBe(lid);
    const customer = await customerModel(server.connection).findOne({ channel: 'whatsapp-web', externalId: lid }).lean();
    expect(customer).toMatchObject({ phone: '+212661234567', whatsapp: { lid: '203948572019384', profileName: 'Khadija' } });
    expect(customer!.whatsapp!.phone).toBeUndefined();
    const login = await fetch(`${server.url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${encodeURIComponent(ADMIN_PASSWORD)}` });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await fetch(`${server.url}/admin/customers/${customer!._id}?lang=en`, { headers: { cookie } })).text();
    expect(page).toContain('hidden id (WhatsApp Web) <code>203948572019384@lid</code>');
    expect(page).toContain('profile name « <span dir="auto">Khadija</span> »');
    const list = await (await fetch(`${server.url}/admin/customers?lang=en&q=Khadija`, { headers: { cookie } })).text();
    expect(list).toContain(`/admin/customers/${customer!._id}?lang=en">Khadija</a>`);
  });

  it('sends to the other id when WhatsApp Web cannot open a chat with the phone id, and keeps to the one that worked', async () => {
    const pn = '212622220002@c.us';
    const lid = '118273645501928@lid';
    client.know(pn, lid);
    client.cannotOpen(pn, 'no-lid');
    const first = await say(pn, 'salam');
    expect(first.map((m) => m.to)).toEqual([lid]);
    await logs.waitFor((l) => l.msg === "WhatsApp Web could not send to this id: trying the customer's other id" && l.chat === '…0002@c.us' && l.err === 'No LID for user' && l.next === '…1928@lid');
    const customer = await customerModel(server.connection).findOne({ channel: 'whatsapp-web', externalId: pn }).lean();
    expect(customer?.whatsapp?.sendTo).toBe(lid);
    // The next reply goes straight to the id that worked: no second failure.
    const failures = () => logs.lines.filter((l) => l.chat === '…0002@c.us' && l.err === 'No LID for user').length;
    const before = failures();
    expect((await say(pn, 'Amina')).map((m) => m.to)).toEqual([lid]);
    expect(failures()).toBe(before);
    // Neither id opens: the customer is marked unreachable for the staff, and the reply kept as failed.
    client.cannotOpen(lid, 'no-chat');
    expect(await say(pn, '1')).toEqual([]);
    await waitFor(async () => Boolean((await customerModel(server.connection).findById(customer!._id).lean())?.channelError), 5000, 'the channel error kept');
    const after = await customerModel(server.connection).findById(customer!._id).lean();
    expect(after!.channelError!.message).toMatch(/WhatsApp Web cannot reach this customer \(…1928@lid: WhatsApp Web found no chat for this id; …0002@c.us: No LID for user\)/);
    const reply = await messageModel(server.connection).findOne({ customer: customer!._id, direction: 'out' }).sort({ at: -1, _id: -1 }).lean();
    expect(reply?.delivery?.status).toBe('failed');
  });

  it('erases a customer under both ids: nothing left under @c.us or @lid, and a new message starts afresh', async () => {
    const pn = '212633330003@c.us';
    const lid = '165432109876543@lid';
    client.know(pn, lid);
    await say(pn, 'bonjour');
    await say(lid, 'Yasmine');
    const customer = await customerModel(server.connection).findOne({ channel: 'whatsapp-web', externalId: pn }).lean();
    expect(customer?.whatsapp).toMatchObject({ phone: '212633330003', lid: '165432109876543' });
    const exported = await (await fetch(`${server.url}/api/customers/${customer!._id}/export`, { headers: { authorization: 'Bearer test-admin-token-0123456789' } })).json();
    expect(exported.customer.whatsapp).toMatchObject({ phone: '212633330003', lid: '165432109876543' });
    expect(exported.messages.filter((m: { direction: string }) => m.direction === 'in').map((m: { text: string }) => m.text)).toEqual(['bonjour', 'Yasmine']);
    expect(texts(await say(lid, 'supprimer mes données'))[0]).toMatch(/^Voulez-vous vraiment effacer vos messages et votre profil/);
    await say(lid, 'oui');
    expect(await customerModel(server.connection).findById(customer!._id).lean()).toBeNull();
    expect(await customerIdModel(server.connection).countDocuments({ customer: customer!._id })).toBe(0);
    expect(await customersOf(['phone:212633330003', 'lid:165432109876543', pn])).toEqual([]);
    expect(await messageModel(server.connection).countDocuments({ customer: customer!._id })).toBe(0);
    await server.inbox.idle();
    // Of the archive, only the "oui" that erased is left (it was being handled): retention takes it.
    const left = await server.inbox.events.find({ channel: 'whatsapp-web', sender: { $in: [pn, lid] } }).lean();
    expect(left.map((e) => JSON.parse(e.event).text)).toEqual(['oui']);
    // Either id now is someone new: the welcome again, no name remembered.
    expect(texts(await say(pn, 'bonjour'))).toEqual(["Bonjour et bienvenue ! Je suis l'assistant de la coopérative.\n\nComment vous appelez-vous ?"]);
  });

  it('keeps a customer stored before ids were kept (keyed by @c.us) when they write again, and then as @lid', async () => {
    const pn = '212644440004@c.us';
    const lid = '190000000000044@lid';
    const now = new Date();
    const [old] = await customerModel(server.connection).insertMany([{ channel: 'whatsapp-web', externalId: pn, name: 'Hassan', language: 'fr', tags: [], firstSeenAt: now, lastSeenAt: now }]);
    await customerIdModel(server.connection).create({ _id: `whatsapp-web:${pn}`, customer: old!._id });
    client.know(pn, lid);
    expect(texts(await say(pn, 'bonjour'))[0]).toMatch(/Hassan/);
    expect(texts(await say(lid, 'merci'))).toHaveLength(1);
    expect(await customerModel(server.connection).countDocuments({ channel: 'whatsapp-web', externalId: { $in: [pn, lid] } })).toBe(1);
    expect(await customerModel(server.connection).findById(old!._id).lean()).toMatchObject({ whatsapp: { phone: '212644440004', lid: '190000000000044' } });
    expect(await messageModel(server.connection).countDocuments({ customer: old!._id, direction: 'in' })).toBe(2);
  });

  it('keeps a customer stored before ids were kept under their @lid (the old sender) when their phone becomes known', async () => {
    const pn = '212648480048@c.us';
    const lid = '148484848484848@lid';
    const now = new Date();
    const [old] = await customerModel(server.connection).insertMany([{ channel: 'whatsapp-web', externalId: lid, name: 'Rachid', language: 'fr', tags: [], firstSeenAt: now, lastSeenAt: now }]);
    await customerIdModel(server.connection).create({ _id: `whatsapp-web:${lid}`, customer: old!._id });
    client.know(pn, lid);
    expect(texts(await say(lid, 'bonjour'))[0]).toMatch(/Rachid/);
    expect(texts(await say(pn, 'merci'))).toHaveLength(1);
    expect(await customerModel(server.connection).countDocuments({ channel: 'whatsapp-web', externalId: { $in: [pn, lid] } })).toBe(1);
    expect(await customerModel(server.connection).findById(old!._id).lean()).toMatchObject({ whatsapp: { phone: '212648480048', lid: '148484848484848' } });
    expect(await messageModel(server.connection).countDocuments({ customer: old!._id, direction: 'in' })).toBe(2);
  });

  it('joins the two customers a phone and a hidden id made while the account knew neither mapping, from the message that brings both', async () => {
    const pn = '212659590059@c.us';
    const lid = '159595959595959@lid';
    // WhatsApp finds neither (the lookup answers {}): two customers for now.
    client.notOnWhatsApp(pn);
    client.notOnWhatsApp(lid);
    await say(pn, 'bonjour');
    await say(lid, 'Nadia');
    const byPhone = await customerModel(server.connection).findOne({ channel: 'whatsapp-web', externalId: pn }).lean();
    const byLid = await customerModel(server.connection).findOne({ channel: 'whatsapp-web', externalId: lid }).lean();
    expect(byPhone!._id).not.toEqual(byLid!._id);
    expect(byLid!.whatsapp?.phone).toBeUndefined();
    // The account learns both: the hidden id's customer has the phone from now on, and says so in the log.
    client.know(pn, lid);
    await say(lid, 'merci');
    await logs.waitFor((l) => l.msg === 'a phone moves to another customer: their user id came with it, or they changed to it' && l.customer === String(byLid!._id) && l.from === String(byPhone!._id));
    expect((await customerModel(server.connection).findById(byLid!._id).lean())!.whatsapp).toMatchObject({ phone: '212659590059', lid: '159595959595959' });
    expect((await customerModel(server.connection).findById(byPhone!._id).lean())!.whatsapp?.phone).toBeUndefined();
    // Their next message from the phone id is the hidden id's customer's; the first history stays where it was.
    await say(pn, 'à bientôt');
    expect(await messageModel(server.connection).find({ customer: byLid!._id, direction: 'in' }).sort({ at: 1, _id: 1 }).lean().then((ms) => ms.map((m) => m.text))).toEqual(['Nadia', 'merci', 'à bientôt']);
    expect(await messageModel(server.connection).countDocuments({ customer: byPhone!._id, direction: 'in' })).toBe(1);
  });

  it('sends to the hidden id when WhatsApp Web finds no chat for the phone id (sendMessage answers nothing)', async () => {
    const pn = '212670700070@c.us';
    const lid = '170707070707070@lid';
    client.know(pn, lid);
    client.cannotOpen(pn, 'no-chat');
    expect((await say(pn, 'salut')).map((m) => m.to)).toEqual([lid]);
    await logs.waitFor((l) => l.chat === '…0070@c.us' && l.err === 'WhatsApp Web found no chat for this id' && l.next === '…7070@lid');
    expect((await customerModel(server.connection).findOne({ channel: 'whatsapp-web', externalId: pn }).lean())?.whatsapp?.sendTo).toBe(lid);
  });

  it('lets a message whose other id is unknown wait while WhatsApp Web is not connected, then joins it to the right customer', async () => {
    const pn = '212681810081@c.us';
    const lid = '181818181818181@lid';
    client.notOnWhatsApp(pn);
    await say(pn, 'bonjour');
    const customer = await customerModel(server.connection).findOne({ channel: 'whatsapp-web', externalId: pn }).lean();
    expect(customer!.whatsapp?.lid).toBeUndefined();
    // The account learns the mapping, but the session drops (refused): a message from the hidden id nobody here knows yet.
    client.know(pn, lid);
    client.emit('auth_failure', 'test');
    const id = client.receive(lid, 'Omar');
    await waitFor(async () => ((await server.inbox.events.findById(`whatsapp-web:${id}`).lean())?.attempts ?? 0) >= 1, 5000, 'a first try');
    expect((await server.inbox.events.findById(`whatsapp-web:${id}`).lean())?.status).toBe('pending');
    expect(await customerModel(server.connection).countDocuments({ channel: 'whatsapp-web', externalId: lid })).toBe(0);
    // Connected again: the next try asks the library and finds the customer the phone is.
    client.emit('ready');
    await waitFor(async () => (await server.inbox.events.findById(`whatsapp-web:${id}`).lean())?.status === 'done', 15_000, 'the message handled after the reconnection');
    expect(await customerModel(server.connection).countDocuments({ channel: 'whatsapp-web', externalId: lid })).toBe(0);
    expect((await customerModel(server.connection).findById(customer!._id).lean())!.name).toBe('Omar');
  }, 30_000);

  it('answers through a mapping call that throws or hangs (within the time limit), with a log line', async () => {
    client.mapping = 'throw';
    expect(await say('212655550005@c.us', 'hello')).toHaveLength(1);
    await logs.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('WhatsApp Web could not say the other id') && l.chat === '…0005@c.us' && String(l.err).includes('Evaluation failed'));
    client.mapping = 'hang';
    const started = Date.now();
    expect(await say('177777777777055@lid', 'salam')).toHaveLength(1);
    // The 300 ms limit, not the 5 s default, let it go on.
    expect(Date.now() - started).toBeLessThan(2000);
    await logs.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('WhatsApp Web could not say the other id') && l.chat === '…7055@lid' && l.err === 'no answer within 300 ms');
    expect(await customerModel(server.connection).findOne({ channel: 'whatsapp-web', externalId: '177777777777055@lid' }).lean()).toMatchObject({ whatsapp: { lid: '177777777777055' } });
  });

  it('drops a malformed id and a group message (its author a hidden id), with a log line, and goes on', async () => {
    const before = client.sent.length;
    client.receive('not-an-id', 'hello');
    client.receive('12@c.us', 'hello');
    client.receive('120363025555555555@g.us', 'hello group', { author: '166666666666066@lid' });
    await logs.waitFor((l) => l.msg === 'WhatsApp Web gave a message from an id that is not one, or without an id: dropped' && l.from === '…n-id');
    await logs.waitFor((l) => l.msg === 'WhatsApp Web gave a message from an id that is not one, or without an id: dropped' && l.from === '…12@c.us');
    await logs.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('a WhatsApp group message: ignored') && l.chat === '…5555@g.us');
    expect(await say('212666660006@c.us', 'hi')).toHaveLength(1);
    expect(client.sent.length).toBe(before + 1);
    expect(await server.inbox.events.countDocuments({ sender: { $in: ['not-an-id', '12@c.us', '120363025555555555@g.us'] } })).toBe(0);
    // A mapping answer that is not one is ignored, with a log line.
    const real = client.getContactLidAndPhone;
    client.getContactLidAndPhone = async () => [{ lid: 'garbage', pn: '212600000000@c.us' }];
    expect(await say('212677770007@c.us', 'hi')).toHaveLength(1);
    client.getContactLidAndPhone = real;
    await logs.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('WhatsApp Web gave a hidden id that is not one') && l.chat === '…0007@c.us');
    await logs.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('WhatsApp Web gave a phone id that is not one, or another one') && l.chat === '…0007@c.us');
    expect(await customerModel(server.connection).findOne({ channel: 'whatsapp-web', externalId: '212677770007@c.us' }).lean()).toMatchObject({ whatsapp: { phone: '212677770007' } });
  });
});
