// Replays every real webhook body of ../shared/conformance/meta-webhooks/ through the real
// server (signed as Meta signs, a fake Graph API, the real database) and asserts, per file,
// what the customer receives and what is stored. Each file is its own customer(s): its phone
// numbers, user ids and Page-scoped ids get a per-file ending (consistently within the file),
// so one file's handoff or number change does not decide another's answer.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { customerIdModel, customerModel } from '../../../src/db/models/customer';
import { messageModel } from '../../../src/db/models/message';
import { messageRefModel } from '../../../src/db/models/message-ref';
import { loadConfig } from '../../../src/config';
import { dayOf } from '../../../src/satisfaction/periods';
import type { RunningServer } from '../../../src/server';
import { FakeGraphApi, signedWebhook, type SentMessage } from '../../support/fake-graph-api';
import { ADMIN_PASSWORD, ADMIN_TOKEN, LogLines, startTestServer, stopAndDrop } from '../../support/server';

// A copy of ../shared/conformance/meta-webhooks/ (the 60 bodies and their README), so that a
// clean clone and CI replay them too; the first test checks the copy against the original when it is there.
const DIR = path.resolve(__dirname, '../../fixtures/meta-webhooks');
const ORIGINAL = path.resolve(__dirname, '../../../../shared/conformance/meta-webhooks');
const SECRET = 'conformance-app-secret';
const TOKEN = 'conformance-token';
const PHONE_ID = '109876543210';
const PAGE_ID = '1029384756';

interface Fixture {
  file: string;
  n: number;
  channel: 'whatsapp' | 'messenger';
  expect: 'reply' | 'no-reply' | 'status';
  raw: unknown;
  /** The body as posted: prepared just before, so its timestamps are of then. */
  body: any;
}

// Keys whose values name a person (phones, BSUIDs, Page-scoped ids): given the file's ending.
const PERSON_KEYS = new Set(['from', 'wa_id', 'recipient_id', 'to', 'from_user_id', 'user_id', 'parent_user_id', 'from_parent_user_id', 'recipient_user_id', 'recipient_parent_user_id', 'recipient_participant_id', 'recipient_participant_user_id']);
const TIME_KEYS = new Set(['timestamp', 'watermark', 'time']);

function personalise(value: string, n: number): string {
  const tag = String(n).padStart(2, '0');
  if (/^\d{8,}$/.test(value)) return value.slice(0, -2) + tag;
  if (/^[A-Z]{2}\.[A-Za-z0-9.]+$/.test(value)) return `${value}${tag}`;
  return value;
}

/** The body as this run posts it: placeholders for this server, per-file people, timestamps of now (in the source's unit). */
function prepare(body: unknown, n: number, channel: string, parentKey = ''): any {
  if (Array.isArray(body)) return body.map((x) => prepare(x, n, channel, parentKey));
  if (body && typeof body === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) {
      if (TIME_KEYS.has(k) && (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)))) {
        const now = channel === 'whatsapp' ? Math.floor(Date.now() / 1000) : Date.now();
        out[k] = typeof v === 'number' ? now : String(now);
      } else if (typeof v === 'string' && (PERSON_KEYS.has(k) || (k === 'id' && (parentKey === 'sender' || parentKey === 'recipient')))) {
        const id = prepare(v, n, channel) as string;
        // The Page is this server's, not a person.
        out[k] = id === PAGE_ID ? id : personalise(id, n);
      }
      else out[k] = prepare(v, n, channel, k);
    }
    return out;
  }
  if (typeof body === 'string') return body.replace(/__PHONE_NUMBER_ID__/g, PHONE_ID).replace(/__PAGE_ID__/g, PAGE_ID);
  return body;
}

const fixtures: Fixture[] = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file, i) => {
    const raw = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
    return { file, n: i + 1, channel: raw.channel, expect: raw.expect, raw: raw.body, body: undefined };
  });

// The short answers, in every language (the customer's language is what understanding made of them).
const locales = ['fr', 'ar', 'ary', 'en'].map((l) => parseYaml(fs.readFileSync(path.resolve(__dirname, `../../../locales/${l}.yml`), 'utf8')) as { fallback: Record<string, string>; welcome: Record<string, string> });
const shortAnswer = (key: string) => locales.map((l) => l.fallback[key]);
const greeted = (text: string) => locales.some((l) => text.startsWith(l.welcome.hello!));

describe('the 60 real Meta webhook bodies, replayed through the real server', () => {
  let graph: FakeGraphApi;
  let server: RunningServer;
  const logs = new LogLines();

  beforeAll(async () => {
    graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0', phoneNumberId: PHONE_ID });
    server = await startTestServer({
      label: 'conformance',
      logLines: logs,
      whatsapp: { token: TOKEN, phoneNumberId: PHONE_ID, appSecret: SECRET, verifyToken: 'v', template: undefined },
      messenger: { pageToken: TOKEN, appSecret: SECRET, verifyToken: 'v', pageId: PAGE_ID },
      graphApiUrl: await graph.start(),
      graphApiVersion: 'v21.0',
    });
  });
  afterAll(async () => {
    await stopAndDrop(server);
    await graph.stop();
  });

  const Message = () => messageModel(server.connection);
  const Customer = () => customerModel(server.connection);

  async function post(channel: string, body: unknown): Promise<{ status: number; sent: SentMessage[]; json: any }> {
    const before = graph.sent.length;
    const { raw, signature } = signedWebhook(body, SECRET);
    const res = await fetch(`${server.url}/webhooks/${channel}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    await server.inbox.idle();
    return { status: res.status, sent: graph.sent.slice(before), json: await res.json() };
  }

  /** A text from a WhatsApp customer, to set the scene for a file (the customer exists, a message has a known id). */
  const waText = (who: { from?: string; from_user_id?: string }, text: string, id = `wamid.setup.${Math.random().toString(36).slice(2)}`) => ({
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: PHONE_ID }, ...(who.from ? { contacts: [{ wa_id: who.from, profile: { name: 'Setup' } }] } : {}), messages: [{ ...who, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }] } }] }],
  });
  const fbText = (sender: string, text: string, mid = `mid.setup.${Math.random().toString(36).slice(2)}`) => ({
    object: 'page',
    entry: [{ id: PAGE_ID, time: Date.now(), messaging: [{ sender: { id: sender }, recipient: { id: PAGE_ID }, timestamp: Date.now(), message: { mid, text } }] }],
  });

  /** The customer an id belongs to, through customer_ids as the server finds them (WhatsApp phones and BSUIDs have keys of their own). */
  async function customerOf(channel: string, id: string) {
    const key = channel === 'whatsapp' ? (/^\d+$/.test(id) ? `whatsapp:phone:${id}` : `whatsapp:bsuid:${id}`) : `${channel}:${id}`;
    const link = await customerIdModel(server.connection).findById(key).lean();
    return link ? Customer().findById(link.customer).lean() : null;
  }

  /** Makes the bot's last message to a customer the one Meta knows by `externalId` (reactions and statuses name it). */
  async function lastReplyIs(channel: string, id: string, externalId: string) {
    const customer = await customerOf(channel, id);
    const last = await Message().findOne({ customer: customer!._id, direction: 'out' }).sort({ at: -1, _id: -1 }).lean();
    await Message().updateOne({ _id: last!._id }, { $set: { externalId } });
    // As if Meta had answered that id when it was sent: its reference replaces the fake's.
    await messageRefModel(server.connection).deleteMany({ messages: last!._id });
    await messageRefModel(server.connection).replaceOne({ _id: `${channel}:${externalId}` }, { messages: [last!._id], customer: customer!._id, at: last!.at }, { upsert: true });
    return last!._id;
  }

  const v = (f: Fixture) => f.body.entry[0].changes?.[0]?.value;
  const waMessage = (f: Fixture) => v(f).messages[0];
  const fbItem = (f: Fixture) => f.body.entry[0].messaging?.[0];
  const stored = (externalId: string) => Message().findOne({ externalId }).lean();

  // What each file must do beyond its expect (reply, no-reply, status): set up first, checked after.
  const checks: Record<string, { setup?: (f: Fixture) => Promise<unknown>; check: (f: Fixture, r: { sent: SentMessage[]; json: any }, setup: any) => Promise<void> }> = {
    'wa-01': {
      check: async (f) => {
        const c = await customerOf('whatsapp', waMessage(f).from);
        expect(c?.whatsapp).toMatchObject({ phone: waMessage(f).from, profileName: 'Sheena Nelson' });
        expect(await stored(waMessage(f).id)).toMatchObject({ direction: 'in', text: 'Does it come in another color?' });
      },
    },
    'wa-02': {
      check: async (f) => {
        const contact = v(f).contacts[0];
        const byPhone = await customerOf('whatsapp', contact.wa_id);
        expect(byPhone?.whatsapp).toMatchObject({ phone: contact.wa_id, bsuid: contact.user_id, parentBsuid: contact.parent_user_id });
        // Both ids are one customer.
        expect(String((await customerOf('whatsapp', contact.user_id))?._id)).toBe(String(byPhone?._id));
      },
    },
    'wa-03': { check: async (f) => expect((await stored(waMessage(f).id))?.content).toMatchObject({ image: { id: '65463453' }, attachments: [{ type: 'image', url: 'whatsapp-media:65463453' }] }) },
    'wa-04': {
      check: async (f) => {
        // The caption is read as text; the video and that it was forwarded are kept.
        expect(await stored(waMessage(f).id)).toMatchObject({ text: 'caption', content: { video: { id: '765756756' }, context: { forwarded: true } } });
      },
    },
    'wa-05': { check: async (f) => expect(await stored(waMessage(f).id)).toMatchObject({ text: 'caption', content: { document: { filename: 'filename.pdf' } } }) },
    'wa-06': {
      // The voice note's media, as the Graph API would serve it (id → URL → bytes with the token).
      setup: async () => {
        graph.media.set('1234567890987654321', { bytes: Buffer.from('OggS fake voice note bytes'), mime: 'audio/ogg; codecs=opus' });
      },
      check: async (f, r) => {
        // Fetched and kept for the staff; this server's transcriber is off, which the customer is told.
        const m = await stored(waMessage(f).id);
        expect(m).toMatchObject({ content: { audio: { voice: true, id: '1234567890987654321' }, attachments: [{ type: 'voice' }] }, voice: { status: 'off', waiting: true } });
        expect(graph.downloads).toContain('1234567890987654321');
        expect(r.sent[0]!.text).toMatch(/voice notes|messages vocaux|الرسائل الصوتية|الأوديوات/);
      },
    },
    'wa-07': { check: async (_f, r) => expect(shortAnswer('sticker')).toContain(r.sent[0]!.text) },
    'wa-08': {
      setup: async (f) => {
        await post('whatsapp', waText({ from: waMessage(f).from }, 'salam'));
        return lastReplyIs('whatsapp', waMessage(f).from, waMessage(f).reaction.message_id);
      },
      check: async (_f, _r, target) => expect((await Message().findById(target).lean())?.reaction).toMatchObject({ emoji: '😮' }),
    },
    'wa-09': { check: async (f) => expect(await stored(waMessage(f).id)).toMatchObject({ text: `${waMessage(f).location.latitude},${waMessage(f).location.longitude}` }) },
    'wa-10': { check: async (f) => expect(await stored(waMessage(f).id)).toMatchObject({ text: 'Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025' }) },
    'wa-11': { check: async (f, r) => {
      expect(shortAnswer('contacts')).toContain(r.sent[0]!.text);
      expect(((await stored(waMessage(f).id))?.content as any).contacts).toHaveLength(3);
    } },
    'wa-12': { check: async (f, r) => {
      // Another shop's cart: none of its products is this cooperative's. Said plainly, then a product is asked (the order flow).
      const said = r.sent.map((m) => m.text).join('\n');
      expect(said).toMatch(/HAMBURGER, FRENCH_FRIES, SODA/);
      expect(said).toMatch(/Quel produit voulez-vous commander \?|Which product would you like to order\?/);
      expect((await stored(waMessage(f).id))?.content).toMatchObject({ order: { catalog_id: '354160437058781', product_items: [{ product_retailer_id: 'HAMBURGER', quantity: 3, item_price: 30, currency: 'ILS' }, {}, {}] } });
    } },
    'wa-13': { check: async (f, r) => {
      expect(shortAnswer('unsupported')).toContain(r.sent[0]!.text);
      expect((await stored(waMessage(f).id))?.content).toMatchObject({ unsupported: 'pool', errors: [{ code: 131051 }] });
    } },
    'wa-14': { check: async (f) => expect(await stored(waMessage(f).id)).toMatchObject({ text: 'replied text', content: { context: { id: 'wamid.xyzxyz==' } } }) },
    'wa-15': { check: async (_f, r) => {
      expect(shortAnswer('unsupported')).toContain(r.sent[0]!.text);
      await logs.waitFor((l) => l.msg === 'WhatsApp reported an error' && l.code === 131000);
    } },
    'wa-16': { check: async (f) => {
      const c = await customerOf('whatsapp', waMessage(f).from);
      expect(c?.origin).toMatchObject({ source: 'ad', adId: '120208496520430128', sourceUrl: 'https://fb.me/3cr4Wqqkv', ctwaClid: expect.stringMatching(/^ARAk/), channel: 'whatsapp' });
      expect(c?.lastReferral).toMatchObject({ source: 'ad' });
    } },
    'wa-17': { check: async (f) => expect(await stored(waMessage(f).id)).toMatchObject({ text: 'title', payload: 'callback_data' }) },
    'wa-18': { check: async (f) => expect(await stored(waMessage(f).id)).toMatchObject({ text: 'title', payload: 'callback_data' }) },
    'wa-19': { check: async (f) => expect(await stored(waMessage(f).id)).toMatchObject({ text: 'title', payload: 'callback_data' }) },
    'wa-20': { check: async (f, r) => {
      expect(shortAnswer('form')).toContain(r.sent[0]!.text);
      expect((await stored(waMessage(f).id))?.content).toMatchObject({ flowResponse: { comment_text: 'Comment Text', delivery_rating: '4', flow_token: 'AQAAAAACS5FpgQ_cAAAAAD0QI3s.' } });
    } },
    'wa-21': {
      setup: (f) => post('whatsapp', waText({ from: waMessage(f).from }, 'salam')),
      check: async (f) => {
        const m = waMessage(f);
        const moved = await customerOf('whatsapp', m.system.wa_id);
        expect(moved?.whatsapp).toMatchObject({ phone: m.system.wa_id, formerPhones: [m.from] });
        expect(await customerOf('whatsapp', m.from)).toBeNull();
        // Their next message, from the new number, continues the same customer, answered there.
        const { sent } = await post('whatsapp', waText({ from: m.system.wa_id }, 'salam'));
        expect(sent[0]?.recipient).toBe(m.system.wa_id);
        expect(await Message().countDocuments({ customer: moved!._id, direction: 'in' })).toBe(2);
        // The old number stays theirs no more: its next owner is someone else, answered there.
        expect(await customerOf('whatsapp', m.from)).toBeNull();
        const { sent: toNewOwner } = await post('whatsapp', waText({ from: m.from }, 'salam'));
        expect(toNewOwner.map((x) => x.recipient)).toEqual([m.from]);
        const newOwner = await customerOf('whatsapp', m.from);
        expect(String(newOwner?._id)).not.toBe(String(moved!._id));
        expect((await Customer().findById(moved!._id).lean())?.whatsapp?.phone).toBe(m.system.wa_id);
      },
    },
    'wa-22': {
      setup: (f) => post('whatsapp', waText({ from: waMessage(f).from }, 'salam')),
      check: async (f) => expect((await customerOf('whatsapp', waMessage(f).from))?.whatsapp?.identityChangedAt).toBeInstanceOf(Date),
    },
    'wa-23': {
      setup: (f) => post('whatsapp', waText({ from: waMessage(f).from }, 'je veux 3 pots', waMessage(f).revoke.original_message_id)),
      check: async (f) => expect(await stored(waMessage(f).revoke.original_message_id)).toMatchObject({ text: 'je veux 3 pots', deletedAt: expect.any(Date) }),
    },
    'wa-24': {
      setup: (f) => post('whatsapp', waText({ from: waMessage(f).from }, 'first caption', waMessage(f).edit.original_message_id)),
      check: async (f) => expect(await stored(waMessage(f).edit.original_message_id)).toMatchObject({ text: 'Updated image caption', edits: [{ text: 'first caption' }] }),
    },
    ...Object.fromEntries(
      ['wa-25', 'wa-26', 'wa-27', 'wa-28'].map((name) => [
        name,
        {
          setup: async (f: Fixture) => {
            const s = v(f).statuses[0];
            await post('whatsapp', waText({ from: s.recipient_id }, 'salam'));
            return lastReplyIs('whatsapp', s.recipient_id, s.id);
          },
          check: async (f: Fixture, _r: unknown, target: unknown) => {
            const s = v(f).statuses[0];
            expect((await Message().findById(target).lean())?.delivery).toMatchObject({ status: s.status, ...(s.errors ? { error: '130472 User\'s number is part of an experiment' } : {}) });
          },
        },
      ]),
    ),
    'wa-29': {
      // A group's read report names no customer of ours: even a message of that id keeps its status.
      setup: async (f) => {
        const s = v(f).statuses[0];
        await post('whatsapp', waText({ from: s.recipient_participant_id }, 'salam'));
        return lastReplyIs('whatsapp', s.recipient_participant_id, s.id);
      },
      check: async (_f, _r, target) => expect((await Message().findById(target).lean())?.delivery).toMatchObject({ status: 'sent' }),
    },
    'wa-30': {
      setup: async (f) => {
        const s = v(f).statuses[0];
        await post('whatsapp', waText({ from_user_id: s.recipient_user_id }, 'salam'));
        return lastReplyIs('whatsapp', s.recipient_user_id, s.id);
      },
      check: async (f, _r, target) => {
        const s = v(f).statuses[0];
        expect((await Message().findById(target).lean())?.delivery).toMatchObject({ status: 'failed', error: '131026 Message undeliverable' });
        expect((await customerOf('whatsapp', s.recipient_user_id))?.channelError).toMatchObject({ code: 131026 });
      },
    },
    'wa-31': {
      check: async (f, r) => {
        const bsuid = waMessage(f).from_user_id;
        // No phone: the reply goes to the BSUID, in Send API's "recipient".
        expect(r.sent.every((m) => m.recipient === bsuid)).toBe(true);
        const c = await customerOf('whatsapp', bsuid);
        expect(c?.whatsapp).toMatchObject({ bsuid, username: 'Julianzlc', profileName: 'Julian' });
        expect(c?.whatsapp?.phone).toBeUndefined();
      },
    },
    'wa-32': {
      check: async (f, r) => {
        const m = waMessage(f);
        expect(r.sent[0]!.recipient).toBe(m.from);
        expect((await customerOf('whatsapp', m.from_user_id))?.whatsapp).toMatchObject({ phone: m.from, bsuid: m.from_user_id, username: 'testusername' });
      },
    },
    'wa-33': {
      check: async (f, r) => {
        const m = waMessage(f);
        expect(r.sent[0]!.recipient).toBe(m.from);
        // "user:…" is no business-scoped user id: left out, and said in the log.
        expect((await customerOf('whatsapp', m.from))?.whatsapp?.bsuid).toBeUndefined();
        await logs.waitFor((l) => l.msg === 'webhook: part of the body dropped' && String(l.reason).includes('user:'));
      },
    },
    'wa-34': {
      check: async (f) => {
        const echo = v(f).message_echoes[0];
        expect(await stored(echo.id)).toMatchObject({ direction: 'out', staff: true, text: 'Hi! Thanks for reaching out, this is a human replying.' });
        const c = await customerOf('whatsapp', echo.to);
        expect(c?.handoff).toMatchObject({ reason: 'business_app' });
        // The bot keeps quiet for that customer while the person has them.
        expect((await post('whatsapp', waText({ from: echo.to }, 'merci'))).sent).toEqual([]);
      },
    },
    'wa-35': { check: async () => void (await logs.waitFor((l) => l.msg === 'WhatsApp reported an error' && l.code === 130429)) },
    'wa-36': {
      setup: (f) => post('whatsapp', waText({ from: v(f).user_preferences[0].wa_id }, 'salam')),
      check: async (f) => expect((await customerOf('whatsapp', v(f).user_preferences[0].wa_id))?.marketing).toMatchObject({ value: 'resume', category: 'marketing_messages' }),
    },
    'fb-01': { check: async (f) => expect(await stored(fbItem(f).message.mid)).toMatchObject({ direction: 'in', text: 'Hi', channel: 'messenger' }) },
    'fb-02': { check: async (f) => expect(await stored(fbItem(f).message.mid)).toMatchObject({ text: 'Red', payload: 'MY_PAYLOAD' }) },
    'fb-03': { check: async (f) => expect(await Message().findOne({ customer: (await customerOf('messenger', fbItem(f).sender.id))!._id, payload: 'MY_PAYLOAD', externalId: /^postback:/ }).lean()).not.toBeNull() },
    'fb-04': { check: async (f) => expect((await customerOf('messenger', fbItem(f).sender.id))?.origin).toMatchObject({ source: 'SHORTLINK', ref: 'USER_DEFINED_REFERRAL_PARAM' }) },
    'fb-05': { check: async (f, r) => {
      expect(greeted(r.sent[0]!.text)).toBe(true);
      expect((await customerOf('messenger', fbItem(f).sender.id))?.origin).toMatchObject({ source: 'SHORTLINK', ref: 'aaaa' });
    } },
    'fb-06': { check: async (f, r) => {
      expect(shortAnswer('attachment')).toContain(r.sent[0]!.text);
      expect((await stored(fbItem(f).message.mid))?.content).toMatchObject({ attachments: [{ type: 'image', url: expect.stringMatching(/^https:\/\/scontent/) }] });
    } },
    'fb-07': { check: async (f) => expect((await stored(fbItem(f).message.mid))?.content).toMatchObject({ attachments: [{ type: 'location' }] }) },
    'fb-08': { check: async (f) => {
      const m = await stored(fbItem(f).message.mid);
      // The shared link's title is what the customer meant: read as text.
      expect(m?.text).toContain("Huile d'argan bio 250 ml");
      expect((m?.content as any).attachments).toHaveLength(3);
    } },
    'fb-09': { check: async (f) => expect((await stored(fbItem(f).message.mid))?.text).toContain('Amlou traditionnel') },
    'fb-10': { check: async (_f, r) => expect(shortAnswer('sticker')).toContain(r.sent[0]!.text) },
    'fb-11': { check: async (_f, r) => expect(shortAnswer('attachment')).toContain(r.sent[0]!.text) },
    'fb-12': { check: async (f) => expect((await stored(fbItem(f).message.mid))?.content).toMatchObject({ context: { mid: 'm_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU' } }) },
    'fb-13': { check: async (f) => expect(await stored(fbItem(f).message.mid)).toBeNull() },
    'fb-14': { check: async (f) => expect(await stored(fbItem(f).message.mid)).toBeNull() },
    'fb-15': { check: async (f) => expect(await stored(fbItem(f).message.mid)).toBeNull() },
    'fb-16': {
      setup: async (f) => {
        await post('messenger', fbText(fbItem(f).sender.id, 'salam'));
        return lastReplyIs('messenger', fbItem(f).sender.id, fbItem(f).delivery.mids[0]);
      },
      check: async (_f, _r, target) => expect((await Message().findById(target).lean())?.delivery).toMatchObject({ status: 'delivered' }),
    },
    'fb-17': {
      setup: async (f) => {
        await post('messenger', fbText(fbItem(f).sender.id, 'salam'));
        return lastReplyIs('messenger', fbItem(f).sender.id, 'm_read_by_watermark');
      },
      check: async (_f, _r, target) => expect((await Message().findById(target).lean())?.delivery).toMatchObject({ status: 'read' }),
    },
    'fb-18': {
      setup: async (f) => {
        await post('messenger', fbText(fbItem(f).sender.id, 'salam'));
        return lastReplyIs('messenger', fbItem(f).sender.id, fbItem(f).reaction.mid);
      },
      check: async (_f, _r, target) => expect((await Message().findById(target).lean())?.reaction).toMatchObject({ emoji: '❤️' }),
    },
    'fb-19': { check: async (f, r) => {
      expect(greeted(r.sent[0]!.text)).toBe(true);
      expect((await customerOf('messenger', fbItem(f).sender.id))?.origin).toMatchObject({ source: 'SHORTLINK', ref: 'promo_argan_ramadan' });
    } },
    'fb-20': { check: async (f) => expect((await customerOf('messenger', fbItem(f).sender.id))?.origin).toMatchObject({ source: 'ADS', adId: '23851234567890123', ref: 'ad_amlou_2026' }) },
    'fb-21': { check: async () => void (await logs.waitFor((l) => String(l.reason ?? '').startsWith('an opt-in without a sender'))) },
    'fb-22': { check: async () => void (await logs.waitFor((l) => String(l.reason ?? '').includes('standby'))) },
    'fb-23': {
      setup: (f) => post('messenger', fbText(fbItem(f).sender.id, 'Je voudrais 3 bouteilles', fbItem(f).message_edit.mid)),
      check: async (f) => expect(await stored(fbItem(f).message_edit.mid)).toMatchObject({ text: 'Je voudrais 2 bouteilles, pas 3', edits: [{ text: 'Je voudrais 3 bouteilles' }] }),
    },
    'fb-24': { check: async (_f, r) => expect(r.sent.length).toBeGreaterThanOrEqual(2) },
  };

  it('has a check for every file, and the files are the shared ones', () => {
    if (fs.existsSync(ORIGINAL)) {
      const files = (dir: string) => fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]);
      expect(files(DIR)).toEqual(files(ORIGINAL));
    }
    expect(fixtures).toHaveLength(60);
    expect(fixtures.map((f) => f.file.slice(0, 5)).filter((name) => !checks[name])).toEqual([]);
  });

  it.each(fixtures.map((f) => [f.file, f] as const))('%s', async (_name, f) => {
    const check = checks[f.file.slice(0, 5)]!;
    f.body = prepare(f.raw, f.n, f.channel);
    const setup = await check.setup?.(f);
    // Stamped after the setup's messages: a read watermark of now covers them.
    f.body = prepare(f.raw, f.n, f.channel);
    const r = await post(f.channel, f.body);
    expect(r.status).toBe(200);
    if (f.expect === 'reply') {
      expect(r.sent.length).toBeGreaterThan(0);
      // Each reply goes to the person who wrote, through this server's number or Page.
      const sender = f.channel === 'whatsapp' ? (waMessage(f).from ?? waMessage(f).from_user_id) : fbItem(f).sender.id;
      for (const m of r.sent) expect(m.recipient).toBe(sender);
    } else expect(r.sent).toEqual([]);
    await check.check(f, r, setup);
  });

  it('answers nothing for another phone number id or Page, and says why in the log', async () => {
    const first = (prefix: string) => fixtures.find((f) => f.file.startsWith(prefix))!;
    const wa = prepare(first('wa-01').raw, 90, 'whatsapp');
    wa.entry[0].changes[0].value.metadata.phone_number_id = '555000111';
    wa.entry[0].changes[0].value.messages[0].id = 'wamid.other-number';
    expect((await post('whatsapp', wa)).sent).toEqual([]);
    expect(await stored('wamid.other-number')).toBeNull();
    const fb = prepare(first('fb-01').raw, 91, 'messenger');
    fb.entry[0].id = '999888777';
    fb.entry[0].messaging[0].message.mid = 'mid.other-page';
    expect((await post('messenger', fb)).sent).toEqual([]);
    expect(await stored('mid.other-page')).toBeNull();
    await logs.waitFor((l) => String(l.reason ?? '').includes('555000111'));
    await logs.waitFor((l) => String(l.reason ?? '').includes('999888777'));
  });

  it('drops bad input with a logged reason: an unknown type, a BSUID without a country, a system message or a reaction for nobody known', async () => {
    const body = (message: Record<string, unknown>) => ({
      object: 'whatsapp_business_account',
      entry: [{ id: 'WABA', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: PHONE_ID }, messages: [{ id: `wamid.bad.${Math.random()}`, timestamp: '1', ...message }] } }] }],
    });
    expect((await post('whatsapp', body({ from: '212699000001', type: 'hologram', hologram: {} }))).sent).toEqual([]);
    await logs.waitFor((l) => String(l.reason ?? '').includes('"hologram" is unknown'));
    expect((await post('whatsapp', body({ from_user_id: '1047385771169864', type: 'text', text: { body: 'salut' } }))).sent).toEqual([]);
    await logs.waitFor((l) => String(l.reason ?? '').includes('"1047385771169864" is not a business-scoped user id'));
    expect((await post('whatsapp', body({ from: '212699000002', type: 'system', system: { type: 'user_changed_number', wa_id: '212699000003' } }))).sent).toEqual([]);
    expect(await customerOf('whatsapp', '212699000003')).toBeNull();
    expect((await post('whatsapp', body({ from: '212699000002', type: 'reaction', reaction: { message_id: 'wamid.nobody', emoji: '👍' } }))).sent).toEqual([]);
    expect(await customerOf('whatsapp', '212699000002')).toBeNull();
    await logs.waitFor((l) => l.msg === 'notice for a customer this server does not know: dropped' && l.kind === 'number-change');
    // A known customer's reaction to a message nobody here sent.
    await post('whatsapp', waText({ from: '212699000004' }, 'salam'));
    expect((await post('whatsapp', body({ from: '212699000004', type: 'reaction', reaction: { message_id: 'wamid.never-sent', emoji: '👍' } }))).sent).toEqual([]);
    await logs.waitFor((l) => l.msg === 'notice about a message this server does not know: dropped' && l.about === 'wamid.never-sent');
    // Not a WhatsApp body at all: a 400 that says why.
    const { raw, signature } = signedWebhook({ object: 'page', entry: [] }, SECRET);
    const res = await fetch(`${server.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toContain('unknown object "page"');
  });
  it('shows what the files left in the console, and counts the referrals in the digest', async () => {
    const login = await fetch(`${server.url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${encodeURIComponent(ADMIN_PASSWORD)}` });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const page = async (prefix: string, id: (f: Fixture) => string, channel: string) => {
      const f = fixtures.find((x) => x.file.startsWith(prefix))!;
      const c = await customerOf(channel, id(f));
      return (await fetch(`${server.url}/admin/customers/${c!._id}?lang=en`, { headers: { cookie } })).text();
    };
    // A reaction on the message it reacts to; an edit with its first wording; a deletion; a username customer's ids.
    expect(await page('wa-08', (f) => waMessage(f).from, 'whatsapp')).toContain('<span class="reaction" title="reaction">😮</span>');
    expect(await page('wa-24', (f) => waMessage(f).from, 'whatsapp')).toContain('edited; first « <span dir="auto">first caption</span> »');
    expect(await page('wa-23', (f) => waMessage(f).from, 'whatsapp')).toContain('deleted by the customer');
    const julian = await page('wa-31', (f) => waMessage(f).from_user_id, 'whatsapp');
    expect(julian).toContain('user id (BSUID) <code>CO.1047385771169864');
    expect(julian).toContain('username <b dir="ltr">@Julianzlc</b>');
    expect(await page('fb-20', (f) => fbItem(f).sender.id, 'messenger')).toContain('Came from: ADS · ad_amlou_2026 · ad 23851234567890123');
    expect(await page('wa-34', (f) => v(f).message_echoes[0].to, 'whatsapp')).toContain('<div class="msg staff">');
    // The digest counts the cooperative's days (TZ): between 23:00 and midnight UTC, Casablanca is already on tomorrow.
    const today = dayOf(new Date(), loadConfig({}).timeZone);
    const digest = (await (await fetch(`${server.url}/api/digest?from=${today}&to=${today}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { referrals: { source: string; channel: string; count: number }[] };
    // fb-04, fb-05, fb-19 came by m.me links, fb-20 by a Messenger ad, wa-16 by a click-to-WhatsApp ad.
    expect(digest.referrals).toEqual([
      { source: 'SHORTLINK', channel: 'messenger', count: 3 },
      { source: 'ad', channel: 'whatsapp', count: 1 },
      { source: 'ADS', channel: 'messenger', count: 1 },
    ]);
  });
});
