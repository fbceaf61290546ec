import { Types } from 'mongoose';
import { customerModel } from '../../src/db/models/customer';
import type { RunningServer } from '../../src/server';
import { chromiumPath, openBrowser } from '../support/browser';
import { FakeGraphApi, messengerText, signedWebhook } from '../support/fake-graph-api';
import { ADMIN_PASSWORD, startTestServer, stopAndDrop } from '../support/server';

const executablePath = chromiumPath();
const describeWithBrowser = executablePath ? describe : describe.skip;
if (!executablePath) console.warn('console browser test skipped: install Debian chromium or set CHROMIUM_PATH');

const SECRET = 'console-app-secret';
const TOKEN = 'console-page-token';

describeWithBrowser('the staff console in chromium, on a phone', () => {
  jest.setTimeout(90_000);
  let server: RunningServer;
  let graph: FakeGraphApi;

  beforeAll(async () => {
    graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0' });
    server = await startTestServer({ label: 'consolebrowser', messenger: { pageToken: TOKEN, appSecret: SECRET, verifyToken: 'v' }, graphApiUrl: await graph.start(), graphApiVersion: 'v21.0' });
  });
  afterAll(async () => {
    await stopAndDrop(server);
    await graph.stop();
  });

  async function customerWrites(psid: string, text: string): Promise<void> {
    const { raw, signature } = signedWebhook(messengerText(psid, text), SECRET);
    const res = await fetch(`${server.url}/webhooks/messenger`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    expect(res.status).toBe(200);
    await server.inbox.idle();
  }

  it('signs in, reads a conversation, answers a customer waiting for a person on Messenger, and moves an order on the board', async () => {
    // A Messenger customer asks for a person: the bot pauses for them.
    await customerWrites('psid-console', 'bonjour');
    await customerWrites('psid-console', 'Rachida');
    await customerWrites('psid-console', 'je veux parler à un conseiller');
    const customer = (await customerModel(server.connection).findOne({ externalId: 'psid-console' }).lean())!;
    expect(customer.handoff).toBeTruthy();
    // She also has an order.
    const placed = await server.orders.place({
      draft: 'console-test',
      prefix: 'TIF',
      customer: customer._id as Types.ObjectId,
      channel: 'messenger',
      language: 'fr',
      name: 'Rachida',
      phone: '+212612345678',
      lines: [{ product: 'amlou', quantity: 1, name: 'amlou', unitPrice: 90 }],
      deliveryFee: 0,
      currency: 'MAD',
      delivery: { mode: 'pickup', city: '', address: '', zone: 'pickup' },
      payment: 'cod',
    });
    if (!placed.ok) throw new Error('the order was not placed');

    const browser = await openBrowser(executablePath!);
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/admin/customers?lang=fr`);
      // Not signed in: the sign-in page, then where we were going.
      await page.locator('input[name=password]').fill('wrong password');
      await page.locator('form button').click();
      await page.locator('.error').waitFor();
      await page.locator('input[name=password]').fill(ADMIN_PASSWORD);
      await page.locator('form button').click();
      await page.locator('h1', { hasText: 'Clients' }).waitFor();
      // The customer waiting for a person is listed first, marked.
      await page.locator('tr', { hasText: 'Rachida' }).locator('.waiting').waitFor();
      await page.getByRole('link', { name: 'Rachida' }).click();
      await page.locator('#history .msg.in', { hasText: 'je veux parler à un conseiller' }).waitFor();
      await page.locator('#history .msg.out', { hasText: 'Une personne de la coopérative vous répond' }).waitFor();

      const before = graph.sent.length;
      await page.locator('textarea[name=text]').fill('Bonjour Rachida, ici Khadija de la coopérative. Que puis-je faire pour vous ?');
      await page.getByRole('button', { name: 'Envoyer' }).click();
      await page.locator('.notice', { hasText: 'Message envoyé' }).waitFor();
      await graph.waitForSent(before + 1);
      expect(graph.sent.at(-1)).toMatchObject({ recipient: 'psid-console', messagingType: 'UPDATE', text: 'Bonjour Rachida, ici Khadija de la coopérative. Que puis-je faire pour vous ?' });
      await page.locator('#history .msg.staff', { hasText: 'ici Khadija' }).waitFor();
      await page.getByRole('button', { name: 'Rendre la main au bot' }).click();
      await page.locator('.notice', { hasText: 'Le bot a repris la conversation' }).waitFor();

      // The orders board: confirm the order; the customer hears it on Messenger.
      await page.getByRole('link', { name: 'Commandes' }).click();
      const card = page.locator(`#order-${placed.order._id}`);
      await card.locator('select[name=status]').selectOption('confirmed');
      await card.locator('input[name=note]').fill('Prête demain matin');
      const sentBefore = graph.sent.length;
      await card.getByRole('button', { name: 'Changer' }).click();
      await page.locator('.notice', { hasText: 'Statut changé' }).waitFor();
      await page.locator(`#order-${placed.order._id} .status`, { hasText: 'confirmée' }).waitFor();
      await graph.waitForSent(sentBefore + 1);
      expect(graph.sent.at(-1)).toMatchObject({ recipient: 'psid-console', text: `Bonne nouvelle : votre commande ${placed.order._id} est confirmée. Prête demain matin` });

      // The console in Arabic reads right to left; it fits a phone's width.
      await page.goto(`${server.url}/admin/flows?lang=ar`);
      expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.screenshot({ path: 'test-results/console-flows-ar.png' });
    } finally {
      await browser.close();
    }
  });
});
