import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src/server';
import { chromiumPath, openBrowser } from '../support/browser';
import { adminGet, startTestServer, stopAndDrop } from '../support/server';

const executablePath = chromiumPath();
// CI installs chromium (.ci/run); a developer without it is told why this is skipped.
const describeWithBrowser = executablePath ? describe : describe.skip;
if (!executablePath) console.warn('web chat browser test skipped: install Debian chromium or set CHROMIUM_PATH');

async function customerOf(server: RunningServer, page: Page) {
  const token = await page.evaluate(() => localStorage.getItem('taawun.webchat.token'));
  const user = token!.slice(0, token!.lastIndexOf('.'));
  const { body } = await adminGet(server, '/api/customers?limit=200');
  return (body.items as { _id: string; externalId: string; name?: string }[]).find((c) => c.externalId === user);
}

describeWithBrowser('web chat in chromium', () => {
  jest.setTimeout(60_000);

  it('chats on a phone-sized page, keeps the history, and resumes the dialog after a restart', async () => {
    let server = await startTestServer({ label: 'browser' });
    const uri = server.databaseUri;
    const port = server.port;
    const browser = await openBrowser(executablePath!);
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/`);
      await page.getByText(/en ligne/).waitFor();

      await page.locator('#input').fill('السلام عليكم');
      await page.keyboard.press('Enter');
      await page.locator('.msg--out', { hasText: 'ما اسمك؟' }).waitFor();

      // Arabic reads right to left.
      const direction = await page.locator('.msg--out').first().evaluate((el) => getComputedStyle(el).direction);
      expect(direction).toBe('rtl');
      // The page fits a phone screen: nothing wider than the viewport.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

      const customer = await customerOf(server, page);
      expect(customer).toBeDefined();
      const history = await adminGet(server, `/api/customers/${customer!._id}/messages`);
      expect(history.body.items.map((m: { direction: string; text: string }) => [m.direction, m.text])).toEqual([
        ['in', 'السلام عليكم'],
        ['out', 'مرحبا بكم! أنا المساعد الآلي للتعاونية.'],
        ['out', 'ما اسمك؟'],
      ]);

      // Restart on the same port and database while the question is open.
      await server.stop();
      await page.getByText(/hors ligne/).waitFor();
      server = await startTestServer({ mongodbUri: uri, port });
      await page.getByText(/en ligne/).waitFor({ timeout: 20_000 });
      await page.reload();
      await page.locator('.msg--out', { hasText: 'ما اسمك؟' }).waitFor();
      expect(await page.locator('.msg').count()).toBe(3);

      await page.locator('#input').fill('Amina');
      await page.locator('#send').click();
      await page.locator('.msg--out', { hasText: 'تشرفنا يا Amina' }).waitFor();
      expect((await customerOf(server, page))?.name).toBe('Amina');
      // Quick replies are buttons; tapping one sends its payload.
      await page.getByRole('button', { name: 'منتجاتنا' }).click();
      await page.locator('.msg--out', { hasText: '• أملو — 90 MAD' }).waitFor();
      await page.getByRole('button', { name: 'طلب' }).click();
      await page.locator('.msg--out', { hasText: 'ما المنتج الذي تريد طلبه؟' }).waitFor();
      await page.getByRole('button', { name: 'أملو' }).click();
      await page.locator('.msg--out', { hasText: 'كم تريد؟' }).waitFor();
      await page.screenshot({ path: 'test-results/web-chat.png' });
    } finally {
      await browser.close();
      await stopAndDrop(server);
    }
  });
});
