import type { RunningServer } from '../../../src/server';
import { FakeWebClient } from '../../support/fake-whatsapp-web';
import { ADMIN_TOKEN, adminGet, startTestServer, stopAndDrop } from '../../support/server';

describe('WhatsApp Web channel with a fake whatsapp-web.js client (real database)', () => {
  let server: RunningServer;
  const saved = { session: false };
  const clients: FakeWebClient[] = [];
  let failSetup = false;
  const client = () => clients[clients.length - 1]!;

  beforeAll(async () => {
    server = await startTestServer({
      label: 'waweb',
      whatsappWeb: { chromePath: '/usr/bin/chromium', groups: false },
      // The cooperative's own WhatsApp: told of each new order on the linked phone.
      coopNotify: { kind: 'channel', channel: 'whatsapp-web', id: '212600000099@c.us' },
      whatsappWebClient: async () => {
        if (failSetup) {
          failSetup = false;
          throw new Error("Cannot find module 'puppeteer'");
        }
        const c = new FakeWebClient(saved);
        clients.push(c);
        return c;
      },
    });
  });
  afterAll(async () => {
    await stopAndDrop(server);
  });

  /** A customer writes; resolves with the texts the bot sent back once the event is handled. */
  async function say(from: string, body: string): Promise<string[]> {
    const events = server.inbox.events;
    const handled = () => events.countDocuments({ channel: 'whatsapp-web', sender: from, status: { $ne: 'pending' } });
    const before = { sent: client().sent.length, handled: await handled() };
    client().receive(from, body);
    // The client's callback records the event on its own; wait (by polling the database, bounded) until it is handled.
    for (let i = 0; i < 200 && (await handled()) === before.handled; i += 1) await new Promise((r) => setTimeout(r, 10));
    await server.inbox.idle();
    return client().sent.slice(before.sent).map((m) => m.text);
  }

  it('shows the QR code on the admin API until the phone is linked', async () => {
    const res = await adminGet(server, '/api/whatsapp-web');
    expect(res.body.state).toBe('qr');
    expect(res.body.qrSvg).toMatch(/^<svg/);
    // The page is in the console: a visitor who is not signed in is sent to the sign-in.
    const page = await fetch(`${server.url}/admin/whatsapp-web`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fwhatsapp-web');
    expect((await adminGet(server, '/api/whatsapp-web', null)).status).toBe(401);
    client().link();
    expect((await adminGet(server, '/api/whatsapp-web')).body).toEqual({ state: 'ready', qrSvg: null });
    expect(ADMIN_TOKEN).toBeTruthy();
  });

  it('takes a whole order in English, choices as numbered lists', async () => {
    const u = '212633333333@c.us';
    expect(await say(u, 'hello')).toEqual(["Hello and welcome! I am the cooperative's assistant.\n\nWhat is your name?"]);
    expect(await say(u, 'Sam')).toEqual(['Nice to meet you, Sam!\n\nWhat can I do for you?\n1. Our products\n2. Order\n3. Give feedback\n4. Talk to a person']);
    const [which] = await say(u, '2');
    expect(which).toMatch(/^Which product would you like to order\?\n1\. cosmetic argan oil\n/);
    expect(await say(u, '3')).toEqual(['How many would you like? (1 to 20)']);
    expect(await say(u, 'two')).toEqual(["Your order:\n2 × amlou: 180 MAD\nIs that all?\n1. That's all\n2. Add a product\n3. Remove a product"]);
    expect(await say(u, '1')).toEqual([expect.stringMatching(/^Which phone number should the courier call\?/)]);
    expect(await say(u, '+212 6 33 33 33 33')).toEqual(['Home delivery, or pick-up at the cooperative?\n1. Delivery\n2. Pick-up']);
    expect(await say(u, '2')).toEqual(['Will you pay cash at pick-up, or by bank transfer?\n1. Cash at pick-up\n2. Bank transfer']);
    const [summary] = await say(u, '1');
    expect(summary).toMatch(/^Summary:\n2 × amlou: 180 MAD\nPick-up at the cooperative, Agadir road, Taroudant \(Monday to Saturday\), no fee\nTotal: 180 MAD, cash at pick-up\.\nName Sam, phone \+212633333333\.\nShall I confirm the order\?\n1\. Yes\n2\. No$/);
    // The cooperative's copy may go out on the same phone in the meantime.
    const placed = (await say(u, '1')).find((t) => !t.startsWith('Nouvelle commande'));
    expect(placed).toMatch(/^Thank you! Your order TIF-\d{6} is recorded \(180 MAD\)/);
    const number = /TIF-\d{6}/.exec(placed!)![0];
    expect(await server.orders.find(number)).toMatchObject({ channel: 'whatsapp-web', total: 180, delivery: { mode: 'pickup' } });
    await server.cooperative.flush();
    const note = client().sent.find((m) => m.to === '212600000099@c.us');
    expect(note?.text.split('\n')).toEqual([
      'Nouvelle commande',
      `Commande ${number} (en attente de confirmation)`,
      '2 × amlou : 180 MAD',
      "Retrait à la coopérative, route d'Agadir, Taroudant (du lundi au samedi), sans frais",
      'Total : 180 MAD, paiement au retrait',
      'Client : Sam, +212633333333 (whatsapp-web)',
      `${server.url}/admin/orders#order-${number}`,
    ]);
  });

  it('ignores status broadcasts, its own messages and groups', async () => {
    const before = client().sent.length;
    client().receive('status@broadcast', 'a story', { isStatus: true });
    client().receive('212644444444@c.us', 'sent from the phone', { fromMe: true });
    client().receive('120363000000000000@g.us', 'hello group');
    // A message after them is answered; nothing before it was.
    expect(await say('212666666666@c.us', 'hi')).toHaveLength(1);
    expect(client().sent.length).toBe(before + 1);
    expect(await server.inbox.events.countDocuments({ sender: { $in: ['status@broadcast', '120363000000000000@g.us', '212644444444@c.us'] } })).toBe(0);
  });

  it('reconnects after a disconnect, with the saved session and no new QR code', async () => {
    const first = client();
    first.emit('disconnected', 'NAVIGATION');
    for (let i = 0; i < 100 && clients.length < 2; i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(clients.length).toBe(2);
    expect(first.destroyed).toBe(true);
    expect((await adminGet(server, '/api/whatsapp-web')).body.state).toBe('ready');
    expect(await say('212655555555@c.us', 'bonjour')).toEqual(["Bonjour et bienvenue ! Je suis l'assistant de la coopérative.\n\nComment vous appelez-vous ?"]);
  });

  it('tries again when the client cannot even be made (a broken install), instead of crashing', async () => {
    failSetup = true;
    const before = clients.length;
    client().emit('disconnected', 'NAVIGATION');
    // The first try throws; the one after the backoff makes a client that links at once.
    for (let i = 0; i < 200 && clients.length === before; i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(failSetup).toBe(false);
    expect(clients.length).toBe(before + 1);
    expect((await adminGet(server, '/api/whatsapp-web')).body.state).toBe('ready');
    expect(await say('212677777777@c.us', 'hello')).toHaveLength(1);
  }, 20_000);
});
