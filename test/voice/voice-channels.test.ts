import fs from 'node:fs';
import path from 'node:path';
import { customerModel } from '../../src/db/models/customer';
import { messageModel } from '../../src/db/models/message';
import type { RunningServer } from '../../src/server';
import { FakeGraphApi, signedWebhook } from '../support/fake-graph-api';
import { FakeWebClient } from '../support/fake-whatsapp-web';
import { startTestServer, stopAndDrop, waitFor } from '../support/server';

const SECRET = 'messenger-app-secret-for-tests';
const TOKEN = 'messenger-page-token-for-tests';
const NOTE = Buffer.from('OggS\u0000\u0002 a voice note as the channel gives it');

/** Every file under a folder. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * Messenger's and WhatsApp Web's voice notes reach the same path as WhatsApp Cloud's (the
 * model itself is run in voice-notes.test.ts): fetched where each channel keeps them, kept
 * with the message, answered (here the transcriber is off), and removed by an erasure.
 */
describe('voice notes from Messenger and WhatsApp Web (fake Graph API CDN, fake whatsapp-web.js page, real database)', () => {
  let graph: FakeGraphApi;
  let server: RunningServer;
  let client: FakeWebClient;

  beforeAll(async () => {
    graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0' });
    server = await startTestServer({
      label: 'voicech',
      messenger: { pageToken: TOKEN, appSecret: SECRET, verifyToken: 'verify' },
      graphApiUrl: await graph.start(),
      graphApiVersion: 'v21.0',
      whatsappWeb: { chromePath: '/usr/bin/chromium', groups: false, lookupTimeLimitMs: 300, lookupAgainMinutes: 0 },
      whatsappWebClient: async () => (client = new FakeWebClient({ session: true })),
    });
    await waitFor(() => server.whatsappWeb?.state === 'ready', 5000, 'WhatsApp Web ready');
  });
  afterAll(async () => {
    await stopAndDrop(server);
    await graph.stop();
  });

  async function messenger(sender: string, message: Record<string, unknown>) {
    const body = { object: 'page', entry: [{ id: 'PAGE_ID', time: Date.now(), messaging: [{ sender: { id: sender }, recipient: { id: 'PAGE_ID' }, timestamp: Date.now(), message }] }] };
    const { raw, signature } = signedWebhook(body, SECRET);
    const before = graph.sent.length;
    const res = await fetch(`${server.url}/webhooks/messenger`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    expect(res.status).toBe(200);
    await server.inbox.idle();
    return graph.sent.slice(before).map((m) => m.text);
  }

  it('Messenger: the audio attachment is fetched from its address, kept with the message, answered, and erased with the customer', async () => {
    const psid = '6100000000000001';
    await messenger(psid, { mid: 'mid.voice-text-1', text: 'Bonjour' });
    graph.cdn.set('audioclip-1.mp4', { bytes: NOTE, mime: 'audio/mp4' });
    const replies = await messenger(psid, { mid: 'mid.voice-1', attachments: [{ type: 'audio', payload: { url: graph.cdnUrl('audioclip-1.mp4') } }] });
    expect(graph.downloads).toContain('audioclip-1.mp4');
    expect(replies).toEqual([expect.stringContaining('messages vocaux')]);
    const customer = await customerModel(server.connection).findOne({ channel: 'messenger', externalId: psid }).lean();
    const stored = await messageModel(server.connection).findOne({ customer: customer!._id, direction: 'in', externalId: 'mid.voice-1' }).lean();
    expect(stored!.voice).toMatchObject({ status: 'off', waiting: true, mime: 'audio/mp4' });
    const file = path.join(server.voice.store.dir, stored!.voice!.file!);
    expect(fs.readFileSync(file)).toEqual(NOTE);
    await messenger(psid, { mid: 'mid.voice-erase', text: 'supprimer mes données' });
    await messenger(psid, { mid: 'mid.voice-erase-yes', text: 'oui' });
    expect(await customerModel(server.connection).exists({ _id: customer!._id })).toBeNull();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('WhatsApp Web: a ptt note is downloaded through the library\'s own downloadMedia, kept and answered', async () => {
    const chat = '212622000001@c.us';
    const before = client.sent.length;
    const id = client.receiveVoice(chat, NOTE);
    await waitFor(async () => (await server.inbox.events.countDocuments({ _id: `whatsapp-web:${id}`, status: 'done' })) === 1, 8000, 'the note handled');
    await server.inbox.idle();
    await waitFor(() => client.sent.length > before, 5000, 'an answer');
    const stored = await messageModel(server.connection).findOne({ channel: 'whatsapp-web', externalId: id }).lean();
    expect(stored!.voice).toMatchObject({ status: 'off', waiting: true });
    expect(fs.readFileSync(path.join(server.voice.store.dir, stored!.voice!.file!))).toEqual(NOTE);
    expect(filesUnder(path.join(server.voice.store.dir, 'whatsapp-web')).length).toBeGreaterThan(0);
  });
});
