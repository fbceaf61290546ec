import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The cooperative's webhook (COOP_NOTIFY) on loopback: every JSON body it receives, in order. */
export async function startCoopWebhook(): Promise<{ url: string; received: Record<string, unknown>[]; close(): Promise<void> }> {
  const received: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      received.push(JSON.parse(raw) as Record<string, unknown>);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=secret`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
