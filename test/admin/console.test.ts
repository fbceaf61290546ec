import type { Router } from 'express';
import { customerModel } from '../../src/db/models/customer';
import { dialogStateModel } from '../../src/db/models/dialog-state';
import { messageModel } from '../../src/db/models/message';
import { orderModel } from '../../src/db/models/order';
import type { RunningServer } from '../../src/server';
import { httpChat, type Chat } from '../support/http-chat';
import { ADMIN_PASSWORD, ADMIN_TOKEN, startTestServer, stopAndDrop } from '../support/server';


/** Every route a router declares, with its methods: read from express's own route table. */
function routesOf(router: Router): { method: string; path: string }[] {
  const stack = (router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] }).stack;
  return stack.flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((method) => ({ method: method.toUpperCase(), path: layer.route!.path })) : []));
}

async function signIn(server: RunningServer, password = ADMIN_PASSWORD): Promise<{ cookie: string; csrf: string } | { status: number; location: string | null }> {
  const res = await fetch(`${server.url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${encodeURIComponent(password)}` });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) return { status: res.status, location: res.headers.get('location') };
  const page = await (await fetch(`${server.url}/admin/customers`, { headers: { cookie } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1]! };
}

describe('the staff console and its API (real database)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ label: 'console', handoffTimeoutHours: 2 });
  });
  afterAll(() => stopAndDrop(server));

  it('refuses an anonymous request on every admin route, listed from the routers themselves', async () => {
    const routes = server.adminRouters.flatMap(({ mount, router }) => routesOf(router).map((r) => ({ ...r, mount })));
    expect(routes.length).toBeGreaterThan(20);
    const open = routes.filter((r) => r.mount === '/admin' && r.path === '/login');
    expect(open.map((r) => r.method).sort()).toEqual(['GET', 'POST']);
    for (const route of routes.filter((r) => !open.includes(r))) {
      const url = `${server.url}${route.mount}${route.path.replace(':id', '0123456789abcdef01234567').replace(':number', 'TIF-000001')}`;
      const res = await fetch(url, { method: route.method, redirect: 'manual', headers: { 'content-type': 'application/json' }, body: route.method === 'GET' ? undefined : '{}' });
      const refused = res.status === 401 || (route.mount === '/admin' && route.method === 'GET' && res.status === 303 && res.headers.get('location')!.startsWith('/admin/login'));
      if (!refused) throw new Error(`${route.method} ${route.mount}${route.path} answered ${res.status} to an anonymous request`);
    }
  });

  it('refuses a form without the session’s CSRF token, and takes it with', async () => {
    const session = await signIn(server);
    if (!('cookie' in session)) throw new Error('could not sign in');
    const c = await httpChat(server);
    await c.texts('bonjour');
    const customer = (await customerModel(server.connection).findOne({ externalId: c.user }).lean())!;
    const post = (body: string) =>
      fetch(`${server.url}/admin/customers/${customer._id}/reply`, { method: 'POST', redirect: 'manual', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect((await post('text=hello')).status).toBe(403);
    expect((await post(`text=hello&_csrf=${'x'.repeat(session.csrf.length)}`)).status).toBe(403);
    const ok = await post(`text=${encodeURIComponent('Bonjour de la coopérative')}&_csrf=${session.csrf}`);
    expect(ok.status).toBe(303);
    expect(await messageModel(server.connection).findOne({ customer: customer._id, flow: 'staff', step: 'console' }).lean()).toMatchObject({ text: 'Bonjour de la coopérative' });
    // Signed out, the cookie opens nothing.
    await fetch(`${server.url}/admin/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${session.csrf}` });
    expect((await fetch(`${server.url}/admin/customers`, { redirect: 'manual', headers: { cookie: session.cookie } })).status).toBe(303);
  });

  it('signs in with the password only, limits guessing, and sets a safe cookie and security headers', async () => {
    const bad = await signIn(server, 'not-the-password');
    expect(bad).toEqual({ status: 303, location: '/admin/login?lang=fr&error=password&next=%2Fadmin%2Fcustomers' });
    const good = await signIn(server);
    expect('cookie' in good).toBe(true);
    const res = await fetch(`${server.url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${encodeURIComponent(ADMIN_PASSWORD)}` });
    expect(res.headers.get('set-cookie')).toMatch(/^taawun_admin=[\w-]+; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    const page = await fetch(`${server.url}/admin/login`);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    // Five wrong passwords from one address, then a wait even for the right one.
    for (let i = 0; i < 5; i += 1) await signIn(server, `wrong-${i}`);
    const blocked = await signIn(server);
    expect(blocked).toEqual({ status: 303, location: expect.stringMatching(/^\/admin\/login\?lang=fr&wait=\d+&next=/) });
  });

  it("shows one customer's conversation across channels: the same phone on the web chat and Messenger", async () => {
    // The admin token opens the console's pages too.
    const session = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const web = await customerModel(server.connection).create({ channel: 'web', externalId: 'w_same', name: 'Laila', phone: '+212611223344', firstSeenAt: new Date(), lastSeenAt: new Date(), tags: [] });
    const fb = await customerModel(server.connection).create({ channel: 'messenger', externalId: 'psid-same', name: 'Laila', phone: '+212611223344', firstSeenAt: new Date(), lastSeenAt: new Date(), tags: [] });
    await messageModel(server.connection).create({ customer: web._id, channel: 'web', direction: 'in', text: 'question sur le web', at: new Date(Date.now() - 60_000) });
    await messageModel(server.connection).create({ customer: fb._id, channel: 'messenger', direction: 'in', text: 'suite sur Messenger', at: new Date() });
    const page = await (await fetch(`${server.url}/admin/customers/${web._id}?lang=fr`, { headers: session })).text();
    const history = page.slice(page.indexOf('id="history"'));
    expect(history.indexOf('question sur le web')).toBeGreaterThan(0);
    expect(history.indexOf('suite sur Messenger')).toBeGreaterThan(history.indexOf('question sur le web'));
  });

  it('shows the state of the flows: when they went live, the last reload, and what the validator said', async () => {
    const page = await (await fetch(`${server.url}/admin/flows?lang=fr`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    expect(page).toMatch(/Flows en service depuis: \d{4}-\d\d-\d\d \d\d:\d\d<br>Dernier rechargement: \d{4}-\d\d-\d\d \d\d:\d\d — valide/);
    expect(page).toContain('Erreurs et avertissements</h2><p class="muted">Rien pour l’instant.</p>');
  });

  it('handoff: the bot pauses, the staff reply reaches the customer, "give back" resumes it; three misunderstandings bring a person', async () => {
    const c = await httpChat(server);
    await c.texts('bonjour');
    expect(await c.texts('Nadia')).toEqual(['Enchanté, Nadia !', 'Que puis-je faire pour vous ?']);
    expect(await c.texts('je veux parler à un conseiller')).toEqual([expect.stringMatching(/^Une personne de la coopérative vous répond ici/)]);
    const customer = (await customerModel(server.connection).findOne({ externalId: c.user }).lean())!;
    expect(customer.handoff).toMatchObject({ reason: 'human' });
    // Paused: kept, not answered.
    expect(await c.texts('allo ? combien coûte l amlou ?')).toEqual([]);
    expect(await messageModel(server.connection).countDocuments({ customer: customer._id, text: 'allo ? combien coûte l amlou ?' })).toBe(1);
    const waiting = await fetch(`${server.url}/api/handoffs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect((await waiting.json()).items.map((w: { _id: string }) => w._id)).toContain(String(customer._id));
    const api = (path: string, body: unknown) => fetch(`${server.url}/api${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await api(`/customers/${customer._id}/reply`, { text: "Bonjour Nadia, c'est Khadija de la coopérative : l'amlou est à 90 MAD." })).status).toBe(200);
    expect(await messageModel(server.connection).findOne({ customer: customer._id, flow: 'staff', step: 'api' }).lean()).toMatchObject({ direction: 'out', text: "Bonjour Nadia, c'est Khadija de la coopérative : l'amlou est à 90 MAD." });
    expect((await api(`/customers/${customer._id}/reply`, { text: '' })).status).toBe(400);
    expect((await api(`/customers/${customer._id}/handback`, {})).status).toBe(200);
    expect((await customerModel(server.connection).findById(customer._id).lean())!.handoff).toBeUndefined();
    expect((await c.texts('combien coûte l amlou ?'))[0]).toMatch(/90 MAD/);

    const lost = await httpChat(server);
    await converseSilently(lost, ['xqzw vbn', 'plop plop', 'grrr zut']);
    const lostCustomer = (await customerModel(server.connection).findOne({ externalId: lost.user }).lean())!;
    expect(lostCustomer.handoff).toMatchObject({ reason: 'repeated_fallbacks' });
    // The handoff times out: after HANDOFF_TIMEOUT_HOURS the bot answers again.
    const ended = new Date(Date.now() - 1000);
    await customerModel(server.connection).updateOne({ _id: lostCustomer._id }, { $set: { 'handoff.until': ended } });
    // The three misunderstood messages were counted before the handoff: one more starts a new count.
    expect((await lost.texts('zzz qqq')).join()).toMatch(/Je n'ai pas compris/);
    expect((await customerModel(server.connection).findById(lostCustomer._id).lean())!.handoff?.until).toEqual(ended);
    expect(await lost.texts('menu')).toEqual([expect.stringMatching(/Que puis-je faire pour vous/)]);
  });

  it('an erasure request is heard in the middle of another flow and while a person has the conversation', async () => {
    const midFlow = await httpChat(server);
    await midFlow.texts('bonjour');
    await midFlow.texts('Imane');
    expect((await midFlow.texts('je veux commander')).join()).toMatch(/Quel produit/);
    expect(await midFlow.texts('مسح بياناتي')).toEqual([expect.stringMatching(/^هل تريد فعلا مسح رسائلك وملفك؟/)]);
    expect(await midFlow.texts('لا')).toEqual(['حسنا، لن أمسح شيئا.']);
    const waiting = await httpChat(server);
    await waiting.texts('bonjour');
    await waiting.texts('Hind');
    await waiting.texts('je veux parler à quelqu’un');
    expect(await waiting.texts('supprimer mes données')).toEqual([expect.stringMatching(/^Voulez-vous vraiment effacer/)]);
    expect(await waiting.texts('oui')).toEqual([expect.stringMatching(/^C'est fait/)]);
    expect(await customerModel(server.connection).findOne({ externalId: waiting.user }).lean()).toBeNull();
  });

  it('erasure in French and in Darija: messages and profile go, orders stay anonymised; an export before has it all', async () => {
    for (const [words, yes, done] of [
      ['je veux supprimer mes données', 'oui', /^C'est fait : vos messages et votre profil sont effacés/],
      ['3afak mse7 les données dyali', 'ah', /^صافي: الميساجات والمعلومات ديالك تمسحو/],
    ] as const) {
      const c = await httpChat(server);
      await c.texts('je veux commander 1 amlou');
      await c.texts("c'est tout");
      await c.texts('Salma');
      await c.texts('0612555666');
      await c.texts('retrait');
      await c.texts('especes');
      const placed = (await c.texts('oui')).join('');
      const number = /TIF-\d{6}/.exec(placed)![0];
      const customer = (await customerModel(server.connection).findOne({ externalId: c.user }).lean())!;
      const exported = await fetch(`${server.url}/api/customers/${customer._id}/export`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const data = await exported.json();
      expect(data.customer).toMatchObject({ name: 'Salma', phone: '+212612555666' });
      expect(data.messages.length).toBeGreaterThan(10);
      expect(data.orders.map((o: { _id: string }) => o._id)).toEqual([number]);

      expect(await c.texts(words)).toEqual([expect.stringMatching(/[?؟]/)]);
      expect(await c.texts(yes)).toEqual([expect.stringMatching(done)]);
      expect(await customerModel(server.connection).findById(customer._id).lean()).toBeNull();
      expect(await messageModel(server.connection).countDocuments({ customer: customer._id })).toBe(0);
      expect(await orderModel(server.connection).findById(number).lean()).toMatchObject({ name: null, phone: '', delivery: { address: '', city: '' }, total: 90 });
      // Nothing of theirs is left in the saved dialogs either.
      const states = await dialogStateModel(server.connection).find({ key: new RegExp(c.user) }).lean();
      expect(states.filter((d) => d.item && /Salma|612555666/.test(d.item))).toEqual([]);
    }
  });
});

async function converseSilently(chat: Chat, lines: string[]): Promise<void> {
  for (const line of lines) await chat.texts(line);
}
