import WebSocket from 'ws';
import { customerModel } from '../src/db/models/customer';
import type { RunningServer } from '../src/server';
import { ChatClient } from './support/chat-client';
import { ADMIN_TOKEN, adminGet, LogLines, startTestServer, stopAndDrop } from './support/server';

describe('Taawun server (real database)', () => {
  let server: RunningServer;
  const chats: ChatClient[] = [];
  const chat = async () => {
    const c = await ChatClient.connect(server.url);
    chats.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startTestServer({ label: 'server' });
  });
  afterAll(async () => {
    await Promise.all(chats.map((c) => c.close()));
    await stopAndDrop(server);
  });

  it('answers /healthz while the database is up', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', db: 'up' });
  });

  it('builds the indexes its queries and uniqueness rely on at start', async () => {
    const indexes = await customerModel(server.connection).collection.indexes();
    expect(indexes.find((i) => i.key.channel === 1 && i.key.externalId === 1)?.unique).toBe(true);
  });

  it('serves the chat page at /', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('name="viewport"');
    expect(html).toContain('/webchat/chat.js');
  });

  it('greets, asks the name, keeps it, and stores every message in both directions', async () => {
    const c = await chat();
    expect((await c.next('history')).messages).toEqual([]);
    // No customer exists for a visitor who only opened the page.
    expect(await customerModel(server.connection).countDocuments({ externalId: c.user })).toBe(0);

    await c.say('Salam');
    await c.expectReply(/مرحبا/);
    await c.expectReply(/سميتك/);
    await c.say('Khadija');
    await c.expectReply('متشرفين آ Khadija!');
    await c.expectReply('أشنو نقدر نعاونك؟');

    const customer = await customerModel(server.connection).findOne({ channel: 'web', externalId: c.user }).lean();
    expect(customer).toMatchObject({ name: 'Khadija', language: 'ary' });
    const { body } = await adminGet(server, `/api/customers/${customer!._id}/messages`);
    expect(body.items.map((m: { direction: string; text: string }) => `${m.direction}: ${m.text}`)).toEqual([
      'in: Salam',
      expect.stringMatching(/^out: مرحبا/),
      expect.stringMatching(/^out: .*سميتك/),
      'in: Khadija',
      'out: متشرفين آ Khadija!',
      'out: أشنو نقدر نعاونك؟',
    ]);
    // Understanding labels each inbound message; a reply carries none.
    expect(body.items[0]).toMatchObject({ channel: 'web', language: 'ary', intent: 'greeting', product: null, flow: null, step: null });
    expect(body.items[1]).toMatchObject({ direction: 'out', language: null, intent: null });
    // The answer and the replies carry the flow and step they belong to.
    expect(body.items[3]).toMatchObject({ direction: 'in', flow: 'welcome', step: 'ask_name' });
    expect(body.items[5]).toMatchObject({ direction: 'out', flow: 'welcome', step: 'menu', payload: { quick_replies: expect.arrayContaining([{ title: 'المنتوجات ديالنا', payload: 'PRODUCTS' }]) } });
    expect(new Date(body.items[0].at).getTime()).toBeLessThanOrEqual(new Date(body.items[5].at).getTime());
  });

  it('retries a name it cannot use once, then takes its way out to the menu', async () => {
    const c = await chat();
    await c.say('hi');
    await c.expectReply(/Hello and welcome/);
    await c.expectReply('What is your name?');
    await c.say('x'.repeat(61));
    await c.expectReply(/could not read your name/);
    await c.say('y'.repeat(61));
    const menu = await c.expectReply('What can I do for you?');
    expect(menu.quick_replies?.map((q) => q.payload)).toEqual(['PRODUCTS', 'ORDER', 'RATE', 'HUMAN']);
    const customer = await customerModel(server.connection).findOne({ externalId: c.user }).lean();
    expect(customer?.name).toBeUndefined();
    expect(customer?.language).toBe('en');
  });

  it('greets a returning customer by name', async () => {
    const c = await chat();
    await c.say('salut');
    await c.expectReply(/Bonjour/);
    await c.expectReply(/appelez/);
    await c.say('Hassan');
    await c.expectReply('Enchanté, Hassan !');
    await c.expectReply('Que puis-je faire pour vous ?');
    await c.say('bonjour');
    await c.expectReply('Re-bonjour Hassan !');
    await c.expectReply('Que puis-je faire pour vous ?');
  });

  it('resumes a valid web chat session and replaces an invalid one', async () => {
    const post = (body: unknown) =>
      fetch(`${server.url}/webchat/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const issued = await post({});
    expect(issued.status).toBe(201);
    const session = (await issued.json()) as { user: string; token: string };
    const resumed = await post({ token: session.token });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toEqual(session);
    const forged = await post({ token: `${session.user}.forged` });
    expect(forged.status).toBe(201);
    expect(((await forged.json()) as { user: string }).user).not.toBe(session.user);
  });

  it('handles two messages sent at once in order, the second answering the question the first raised', async () => {
    const c = await chat();
    await c.next('history');
    await c.say('Bonjour');
    await c.say('Youssef');
    await c.expectReply(/Bonjour et bienvenue/);
    await c.expectReply(/Comment vous appelez-vous/);
    await c.expectReply('Enchanté, Youssef !');
    await c.expectReply('Que puis-je faire pour vous ?');
  });

  it('sends a reply to every open tab of the visitor', async () => {
    const first = await chat();
    const second = await ChatClient.connect(server.url, { token: first.token, user: first.user });
    chats.push(second);
    await first.say('hello');
    await first.expectReply(/Hello and welcome/);
    await second.expectReply(/Hello and welcome/);
  });

  it('answers a malformed, empty, too long or binary frame with an error and keeps the socket', async () => {
    const c = await chat();
    c.sendRaw('{not json');
    expect(await c.next('error')).toMatchObject({ code: 'bad_frame' });
    await c.say('   ');
    expect(await c.next('error')).toMatchObject({ code: 'empty' });
    await c.say('x'.repeat(4097));
    expect(await c.next('error')).toMatchObject({ code: 'too_long' });
    c.sendRaw(Buffer.from([1, 2, 3]));
    expect(await c.next('error')).toMatchObject({ code: 'bad_frame' });
    c.sendRaw(JSON.stringify({ type: 'message', text: 'hi', user: 'someone-else' }));
    await c.expectReply(/Hello and welcome/);
    expect(await customerModel(server.connection).countDocuments({ externalId: 'someone-else' })).toBe(0);
  });

  it('refuses a websocket without a valid token, and other upgrade paths', async () => {
    for (const path of ['/ws', '/ws?token=w_fake.c2lnbmF0dXJl', '/other?token=x']) {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`);
      const status = await new Promise<number | undefined>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode)));
      expect(status).toBe(path.startsWith('/other') ? 404 : 401);
    }
  });

  describe('admin API', () => {
    it('refuses a missing or wrong token with 401', async () => {
      expect((await adminGet(server, '/api/customers', null)).status).toBe(401);
      const wrong = await adminGet(server, '/api/customers', 'wrong-token-wrong-token');
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ error: 'unauthorized', message: 'the bearer token is wrong' });
    });

    it('lists customers newest first, page by page', async () => {
      for (const name of ['a', 'b', 'c']) {
        const c = await chat();
        await c.say(`bonjour`);
        await c.expectReply(/Bonjour/);
        await c.expectReply(/appelez/);
        await c.say(`client-${name}`);
        await c.expectReply(new RegExp(`client-${name}`));
      }
      const all = await adminGet(server, '/api/customers?limit=200');
      const firstSeen = all.body.items.map((c: { firstSeenAt: string }) => Date.parse(c.firstSeenAt));
      expect([...firstSeen].sort((x, y) => y - x)).toEqual(firstSeen);
      expect(all.body.items[0].name).toBe('client-c');

      const page1 = await adminGet(server, '/api/customers?limit=2');
      expect(page1.body).toMatchObject({ total: all.body.total, limit: 2, offset: 0, next: '?limit=2&offset=2' });
      const page2 = await adminGet(server, `/api/customers${page1.body.next}`);
      expect(page2.body.items[0]._id).toBe(all.body.items[2]._id);
    });

    it.each([
      ['/api/customers?limit=0', 'limit must be a whole number from 1 to 200, got "0"'],
      ['/api/customers?limit=201', 'limit must be a whole number from 1 to 200, got "201"'],
      ['/api/customers?offset=-1', 'offset must be a whole number from 0 to 10000000, got "-1"'],
      ['/api/customers?limit=ten', 'limit must be a whole number from 1 to 200, got "ten"'],
      ['/api/customers?limit=1&limit=2', 'limit must be a whole number from 1 to 200, got ["1","2"]'],
    ])('refuses %s with 400', async (path, message) => {
      const res = await adminGet(server, path);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'bad_pagination', message });
    });

    it('answers 404 for an unknown or malformed customer id', async () => {
      const unknown = await adminGet(server, '/api/customers/64b000000000000000000000/messages');
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe('unknown_customer');
      expect((await adminGet(server, '/api/customers/not-an-id/messages')).status).toBe(404);
      expect((await adminGet(server, '/api/nothing-here')).status).toBe(404);
    });
  });

  describe('Botkit webhook over HTTP (POST /webchat/messages)', () => {
    const post = (body: unknown) =>
      fetch(`${server.url}/webchat/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    it('answers with the replies, continuing the dialog the websocket started', async () => {
      const c = await chat();
      await c.say('hello');
      await c.expectReply(/Hello and welcome/);
      await c.expectReply('What is your name?');
      const res = await post({ token: c.token, type: 'message', text: 'Nadia' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        messages: [
          { type: 'message', text: 'Nice to meet you, Nadia!' },
          { type: 'message', text: 'What can I do for you?', quick_replies: expect.arrayContaining([{ title: 'Order', payload: 'ORDER' }]) },
        ],
      });
    });

    it('refuses a missing or forged token with 401 and a bad frame with 400', async () => {
      expect((await post({ type: 'message', text: 'hi' })).status).toBe(401);
      expect((await post({ token: 'w_x.forged', type: 'message', text: 'hi' })).status).toBe(401);
      const { token } = (await (await fetch(`${server.url}/webchat/session`, { method: 'POST' })).json()) as { token: string };
      const empty = await post({ token, type: 'message', text: '' });
      expect(empty.status).toBe(400);
      expect(await empty.json()).toEqual({ error: 'empty', message: 'the message has no text' });
      expect((await post({ token, type: 'message', text: 'x'.repeat(5000) })).status).toBe(413);
    });
  });

  it('refuses a request body over 1 MB with 413 and bad JSON with 400', async () => {
    const big = await fetch(`${server.url}/webchat/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }),
    });
    expect(big.status).toBe(413);
    expect((await big.json()).error).toBe('body_too_large');
    const bad = await fetch(`${server.url}/webchat/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    expect(bad.status).toBe(400);
  });
});

describe('Taawun server lifecycle (real database)', () => {
  it('resumes an open dialog and shows the history after a restart', async () => {
    const first = await startTestServer({ label: 'restart' });
    const uri = first.databaseUri;
    const c = await ChatClient.connect(first.url);
    await c.next('history');
    await c.say('Bonsoir');
    await c.expectReply(/Bonjour et bienvenue/);
    await c.expectReply(/Comment vous appelez-vous/);
    await c.close();
    await first.stop();

    const second = await startTestServer({ mongodbUri: uri });
    try {
      const again = await ChatClient.connect(second.url, { token: c.token, user: c.user });
      const history = await again.next('history');
      expect(history.messages.map((m) => m.direction)).toEqual(['in', 'out', 'out']);
      expect(history.messages[0]!.text).toBe('Bonsoir');
      await again.say('Salma');
      await again.expectReply(/Enchanté, Salma/);
      await again.close();
    } finally {
      await stopAndDrop(second);
    }
  });

  it('logs one line per handled message, with customer, channel, intent and latency, and no secret', async () => {
    const logs = new LogLines();
    const server = await startTestServer({ label: 'logs', logLines: logs });
    try {
      const c = await ChatClient.connect(server.url);
      await c.say('bonjour');
      await c.expectReply(/Bonjour/);
      await c.expectReply(/appelez/);
      await adminGet(server, '/api/customers');
      await c.close();
      const handled = await logs.waitFor((l) => l.msg === 'message handled');
      expect(handled).toEqual(
        expect.objectContaining({ customer: expect.stringMatching(/^[0-9a-f]{24}$/), channel: 'web', intent: 'greeting', latencyMs: expect.any(Number) }),
      );
      expect(logs.lines.filter((l) => l.msg === 'message handled')).toHaveLength(1);
      const all = JSON.stringify(logs.lines);
      expect(all).not.toContain(ADMIN_TOKEN);
      expect(all).not.toContain(c.token.split('.')[1]);
    } finally {
      await stopAndDrop(server);
    }
  });

  it('answers /healthz with 503 and the reason when the database is gone', async () => {
    const server = await startTestServer({ label: 'health' });
    await server.connection.close();
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unavailable', db: 'down', reason: expect.stringMatching(/disconnected/) });
    await stopAndDrop(server);
  });

  it('keeps the admin API off without ADMIN_TOKEN and says how to turn it on', async () => {
    const server = await startTestServer({ label: 'noadmin', adminToken: undefined, adminPassword: undefined });
    try {
      const res = await adminGet(server, '/api/customers');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: 'admin_api_off', message: 'the admin API is off: set ADMIN_TOKEN (or ADMIN_PASSWORD for the console) in .env and restart' });
    } finally {
      await stopAndDrop(server);
    }
  });
});
