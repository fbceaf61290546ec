import path from 'node:path';
import { Catalog } from '../../src/catalog/catalog';
import { Locales } from '../../src/i18n/locales';
import { projectRoot } from '../../src/paths';
import { digestCommand } from '../../src/cli/digest';
import { customerModel } from '../../src/db/models/customer';
import { ratingModel } from '../../src/db/models/rating';
import { suggestionModel } from '../../src/db/models/suggestion';
import { createLogger } from '../../src/logger';
import { DigestDays } from '../../src/satisfaction/digest-days';
import { DigestSender } from '../../src/satisfaction/digest-sender';
import { period } from '../../src/satisfaction/periods';
import type { RunningServer } from '../../src/server';
import { chromiumPath, openBrowser } from '../support/browser';
import { startCoopWebhook } from '../support/coop-webhook';
import { ADMIN_PASSWORD, ADMIN_TOKEN, adminGet, startTestServer, stopAndDrop } from '../support/server';

const TZ = 'Africa/Casablanca';
const executablePath = chromiumPath();

describe('the digest: API, text, sending once, CLI and page (real database)', () => {
  jest.setTimeout(60_000);
  let server: RunningServer;
  let coop: Awaited<ReturnType<typeof startCoopWebhook>>;

  beforeAll(async () => {
    coop = await startCoopWebhook();
    server = await startTestServer({ label: 'digestapi', coopNotify: { kind: 'webhook', url: coop.url } });
    const customer = await customerModel(server.connection).create({ channel: 'web', externalId: 'dg', name: 'Zineb', firstSeenAt: new Date('2026-11-01'), lastSeenAt: new Date('2026-11-20'), tags: [] });
    const rate = (score: number, at: string, comment: string | null = null) =>
      ratingModel(server.connection).create({ customer: customer._id, score, comment, channel: 'web', products: ['amlou'], answeredAt: new Date(at) });
    await rate(5, '2026-11-17T10:00:00Z');
    await rate(4, '2026-11-18T10:00:00Z');
    await rate(1, '2026-11-19T10:00:00Z', 'emballage abîmé');
    await suggestionModel(server.connection).create({ customer: customer._id, channel: 'web', text: 'du safran svp', product: null, language: 'fr', at: new Date('2026-11-18T12:00:00Z') });
  });
  afterAll(async () => {
    await stopAndDrop(server);
    await coop.close();
  });

  it('answers GET /api/digest as JSON or text, and refuses a bad period or no token', async () => {
    const { status, body } = await adminGet(server, '/api/digest?from=2026-11-16&to=2026-11-22');
    expect(status).toBe(200);
    expect(body.csat).toMatchObject({ count: 3, average: 3.33, distribution: { '1': 1, '2': 0, '3': 0, '4': 1, '5': 1 } });
    expect(body.lowRatings).toEqual([expect.objectContaining({ score: 1, comment: 'emballage abîmé', name: 'Zineb' })]);
    const text = await fetch(`${server.url}/api/digest?from=2026-11-16&to=2026-11-22&format=text&lang=fr`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(await text.text()).toBe(
      [
        'Bilan du 2026-11-16 au 2026-11-22 — Coopérative Tifawin',
        'Satisfaction : 3.33/5 sur 3 notes',
        'Répartition : 5★ 1 · 4★ 1 · 3★ 0 · 2★ 0 · 1★ 1',
        'Notes basses (2 ou moins) : 1',
        '• 1/5 Zineb (web) : « emballage abîmé »',
        'Commandes : 0, 0 MAD',
        '',
        'Par produit :',
        '• amlou : 3.33/5 (3)',
        '',
        'Par canal :',
        '• web : 3.33/5 (3)',
        '',
        'Suggestions :',
        '• du safran svp',
      ].join('\n'),
    );
    for (const bad of ['from=2026-11-22&to=2026-11-16', 'from=2026-11-16', 'from=yesterday&to=2026-11-22', 'from=2026-02-30&to=2026-03-01', 'from=2024-01-01&to=2026-01-01', 'from=2030-01-01&to=2030-01-02'])
      expect((await adminGet(server, `/api/digest?${bad}`)).status).toBe(400);
    expect((await adminGet(server, '/api/digest', null)).status).toBe(401);
  });

  it('two processes sending the same week: the cooperative gets one digest, short, with the link', async () => {
    const other = new DigestSender(
      server.connection,
      new DigestDays(server.connection, TZ, createLogger('silent', 'json')),
      { catalog: () => Catalog.load(path.join(projectRoot, 'flows', 'catalog.yml')), locales: () => Locales.load(path.join(projectRoot, 'locales')) },
      server.cooperative,
      { timeZone: TZ, cron: '0 8 * * 1', staffLanguage: 'fr', baseUrl: () => 'https://bot.example.ma' },
      'another-process',
      createLogger('silent', 'json'),
    );
    const week = period('2026-11-16', '2026-11-22', TZ);
    const sent = await Promise.all([server.digests.send(week), other.send(week), server.digests.send(week)]);
    expect(sent.filter(Boolean)).toHaveLength(1);
    await server.cooperative.flush();
    const digests = coop.received.filter((n) => n.event === 'digest');
    expect(digests).toHaveLength(1);
    expect(String(digests[0]!.text)).toMatch(/^Bilan du 2026-11-16 au 2026-11-22 — Coopérative Tifawin\nSatisfaction : 3\.33\/5 sur 3 notes\nNotes basses \(2 ou moins\) : 1\nCommandes : 0, 0 MAD\n\nLe détail : \S+\/admin\/digest\?from=2026-11-16&to=2026-11-22$/);
    expect(digests[0]!.digest).toMatchObject({ csat: { count: 3 } });
  });

  it('a digest that fails to compute is not counted as sent: the next run sends it', async () => {
    const sender = (days: DigestDays) =>
      new DigestSender(
        server.connection,
        days,
        { catalog: () => Catalog.load(path.join(projectRoot, 'flows', 'catalog.yml')), locales: () => Locales.load(path.join(projectRoot, 'locales')) },
        server.cooperative,
        { timeZone: TZ, cron: '0 8 * * 1', staffLanguage: 'fr', baseUrl: () => 'https://bot.example.ma' },
        'a-process',
        createLogger('silent', 'json'),
      );
    const days = new DigestDays(server.connection, TZ, createLogger('silent', 'json'));
    const broken = Object.assign(Object.create(days) as DigestDays, { figures: async () => Promise.reject(new Error('database hiccup')) });
    const week = period('2026-11-09', '2026-11-15', TZ);
    await expect(sender(broken).send(week)).rejects.toThrow('database hiccup');
    expect(await sender(days).send(week)).toBe(true);
  });

  it('prints the digest with npm run cli -- digest', async () => {
    const lines: string[] = [];
    const saved = process.env.MONGODB_URI;
    process.env.MONGODB_URI = server.databaseUri;
    try {
      expect(await digestCommand(['--from', '2026-11-16', '--to', '2026-11-22', '--lang', 'en'], (l) => lines.push(l))).toBe(0);
      expect(await digestCommand(['--from', '2026-11-22', '--to', '2026-11-16'], (l) => lines.push(l))).toBe(2);
    } finally {
      process.env.MONGODB_URI = saved;
    }
    expect(lines[0]).toMatch(/^Summary from 2026-11-16 to 2026-11-22 — Coopérative Tifawin\nSatisfaction: 3\.33\/5 from 3 ratings\n/);
  });

  (executablePath ? it : it.skip)('shows the page on a phone, in Arabic right to left and in French, with charts', async () => {
    const browser = await openBrowser(executablePath!);
    try {
      const page = await browser.context.newPage();
      // Not signed in: the console's sign-in comes first, then the page asked for.
      await page.goto(`${server.url}/admin/digest?from=2026-11-16&to=2026-11-22&lang=ar`);
      await page.locator('input[name=password]').fill(ADMIN_PASSWORD);
      await page.locator('form button').click();
      await page.locator('#kpi-csat', { hasText: '3.33/5' }).waitFor();
      expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
      expect(await page.locator('h1').textContent()).toBe('حصيلة الرضا');
      expect(await page.locator('#chart-distribution rect').count()).toBe(5);
      expect(await page.locator('main').textContent()).toContain('emballage abîmé');
      await page.locator('#lang').selectOption('fr');
      await page.locator('h1', { hasText: 'Bilan de satisfaction' }).waitFor();
      expect(await page.evaluate(() => document.documentElement.dir)).toBe('ltr');
      // The page fits a phone: nothing wider than the screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.screenshot({ path: 'test-results/digest.png', fullPage: true });
    } finally {
      await browser.close();
    }
  });
});

