import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postJson } from '../../../src/channels/meta/post-json';

describe('postJson (the Graph API transport)', () => {
  let server: http.Server;
  let base: string;
  const seen: { body: string; type?: string; length?: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ body, type: req.headers['content-type'], length: req.headers['content-length'] });
        if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 500);
        if (req.url === '/html') return void res.writeHead(502, 'Bad Gateway').end('<html>proxy</html>');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: JSON.parse(body) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends JSON with its length and reads the JSON answer', async () => {
    const answer = await postJson(new URL(`${base}/ok`), { text: 'سلام ✓' }, 1000);
    expect(answer).toEqual({ status: 200, statusText: 'OK', ok: true, data: { echo: { text: 'سلام ✓' } } });
    expect(seen.at(-1)).toEqual({ body: '{"text":"سلام ✓"}', type: 'application/json', length: String(Buffer.byteLength('{"text":"سلام ✓"}')) });
  });

  it('gives a non-JSON answer as {} with its status', async () => {
    expect(await postJson(new URL(`${base}/html`), {}, 1000)).toEqual({ status: 502, statusText: 'Bad Gateway', ok: false, data: {} });
  });

  it('gives up after the timeout, and reports a refused connection', async () => {
    await expect(postJson(new URL(`${base}/slow`), {}, 100)).rejects.toThrow('no answer within 100 ms');
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(postJson(new URL(`http://127.0.0.1:${port}/`), {}, 1000)).rejects.toThrow(/ECONNREFUSED/);
    await expect(postJson(new URL('ftp://127.0.0.1/'), {}, 1000)).rejects.toThrow('ftp: is not http: or https:');
  });
});
