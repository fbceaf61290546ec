import { toCloudMessages } from '../../../src/channels/whatsapp/cloud-messages';
import { parseWhatsAppWebhook } from '../../../src/channels/whatsapp/whatsapp-events';
import { customerModel } from '../../../src/db/models/customer';
import { messageModel } from '../../../src/db/models/message';
import type { RunningServer } from '../../../src/server';
import { FakeGraphApi, signedWebhook, TEST_PHONE_NUMBER_ID, whatsappMessage, whatsappStatus } from '../../support/fake-graph-api';
import { startTestServer, stopAndDrop } from '../../support/server';

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
    expect((await say(u, { type: 'text', text: { body: 'Casablanca' } }))[0]!.text).toBe('Quelle adresse ? (quartier, rue, numéro)');
    expect((await say(u, { type: 'location', location: { latitude: 33.58, longitude: -7.62, name: 'Maarif, rue 12' } }))[0]!.text).toMatch(/^Comment voulez-vous payer/);
    const [summary] = await say(u, button('cod', 'À la livraison'));
    expect(summary).toMatchObject({ messagingType: 'interactive:button', quickReplies: [{ title: 'Oui', payload: 'yes' }, { title: 'Non', payload: 'no' }] });
    expect(summary!.text).toBe(
      'Récapitulatif :\n2 × amlou : 180 MAD\nLivraison (Maarif, rue 12, Casablanca) : 35 MAD\nTotal : 215 MAD, paiement à la livraison.\nAu nom de Nadia, téléphone +212661234567.\nJe confirme la commande ?',
    );
    const [done] = await say(u, button('yes', 'Oui'));
    expect(done!.text).toMatch(/^Merci ! Votre commande TIF-\d{6} est enregistrée \(215 MAD\)/);
    const order = await server.orders.find(/TIF-\d{6}/.exec(done!.text)![0]);
    expect(order).toMatchObject({ channel: 'whatsapp', name: 'Nadia', phone: '+212661234567', total: 215, deliveryFee: 35, delivery: { mode: 'delivery', city: 'Casablanca', address: 'Maarif, rue 12', zone: 'other' } });
    expect(graph.reads.length - readsBefore).toBe(12);
  });

  it('keeps delivery statuses on the sent messages, and an unreachable customer on their record', async () => {
    const u = '212622222222';
    await say(u, { type: 'text', text: { body: 'hello' } });
    const customer = await customerModel(server.connection).findOne({ channel: 'whatsapp', externalId: u }).lean();
    const out = await messageModel(server.connection).findOne({ customer: customer!._id, direction: 'out' }).sort({ at: -1 }).lean();
    expect(out).toMatchObject({ externalId: expect.stringMatching(/^wamid\.fake/), delivery: { status: 'sent' } });
    await deliver(whatsappStatus(out!.externalId!, 'read', u));
    expect((await messageModel(server.connection).findById(out!._id).lean())?.delivery).toMatchObject({ status: 'read' });
    await deliver(whatsappStatus(out!.externalId!, 'failed', u, { code: 131047, title: 'Re-engagement message' }));
    expect((await customerModel(server.connection).findById(customer!._id).lean())?.channelError).toMatchObject({ code: 131047 });
  });
});
