import fs from 'node:fs';
import path from 'node:path';
import { customerModel } from '../../src/db/models/customer';
import { messageModel } from '../../src/db/models/message';
import type { RunningServer } from '../../src/server';
import { LocalTranscriber } from '../../src/voice/local-transcriber';
import { FakeGraphApi, signedWebhook, TEST_PHONE_NUMBER_ID, whatsappMessage } from '../support/fake-graph-api';
import { LogLines, startTestServer, stopAndDrop, waitFor } from '../support/server';
import { describeVoice, silentVoiceNote, synthesizeVoiceNote } from '../support/speech';

const SECRET = 'whatsapp-app-secret-for-tests';
const TOKEN = 'whatsapp-token-for-tests';

describeVoice('WhatsApp voice notes heard by the real local model (espeak-ng speech, fake Graph API media, real database)', () => {
  let graph: FakeGraphApi;
  let server: RunningServer;
  const logs = new LogLines();
  let mediaIds = 7_000_000_000;
  // Made before the server starts: encoding 10 minutes takes seconds, which a test's kept-alive connection would not survive.
  let tenMinutes: Buffer;

  beforeAll(async () => {
    tenMinutes = silentVoiceNote(600);
    graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0', phoneNumberId: TEST_PHONE_NUMBER_ID });
    const base = await graph.start();
    server = await startTestServer({
      label: 'voice',
      logLines: logs,
      whatsapp: { token: TOKEN, phoneNumberId: TEST_PHONE_NUMBER_ID, appSecret: SECRET, verifyToken: 'wa-verify', template: undefined },
      graphApiUrl: base,
      graphApiVersion: 'v21.0',
      voice: { ...(await import('../../src/config')).loadConfig({}).voice, transcriber: 'local', dir: fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'taawun-voice-')), maxSeconds: 300, timeLimitMs: 60_000 },
    });
  }, 60_000);
  afterAll(async () => {
    await stopAndDrop(server);
    await graph.stop();
  });

  async function deliver(body: unknown): Promise<void> {
    const { raw, signature } = signedWebhook(body, SECRET);
    const res = await fetch(`${server.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    expect(res.status).toBe(200);
    await server.inbox.idle();
  }
  async function says(body: unknown) {
    const before = graph.sent.length;
    await deliver(body);
    return graph.sent.slice(before);
  }
  const text = (from: string, t: string) => whatsappMessage(from, { type: 'text', text: { body: t } });
  const tap = (from: string, id: string, title: string) => whatsappMessage(from, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id, title } } });
  /** A voice note as WhatsApp's webhook names it: an audio media id with voice: true, its bytes kept by the fake Graph API. */
  function voiceNote(from: string, bytes: Buffer) {
    const id = String(++mediaIds);
    graph.media.set(id, { bytes, mime: 'audio/ogg; codecs=opus' });
    return { body: whatsappMessage(from, { type: 'audio', audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'x', id, voice: true } }), id };
  }
  async function lastInbound(phone: string) {
    const customer = await customerModel(server.connection).findOne({ 'whatsapp.phone': phone }).lean();
    return messageModel(server.connection).findOne({ customer: customer!._id, direction: 'in' }).sort({ at: -1, _id: -1 }).lean();
  }

  it('an English voice note ordering honey reaches the order flow\'s next step, its transcript, length and file kept with the message', async () => {
    const u = '212611000001';
    await says(text(u, 'Hello'));
    await says(text(u, 'John'));
    const note = voiceNote(u, synthesizeVoiceNote('Hello, I would like to order two jars of honey, please.', 'en-us'));
    const replies = await says(note.body);
    // Fetched as Meta serves it: the media id's URL, then the bytes with the token.
    expect(graph.downloads).toContain(note.id);
    const stored = await lastInbound(u);
    expect(stored!.voice).toMatchObject({ status: 'heard', transcribedBy: 'local:whisper-base', language: 'en' });
    expect(stored!.voice!.transcript).toMatch(/order two jars of honey/i);
    expect(stored!.text).toBe(stored!.voice!.transcript);
    expect(stored!.voice!.seconds).toBeGreaterThan(2);
    expect(stored!.voice!.seconds).toBeLessThan(6);
    expect(stored!.intent).toBe('order');
    expect(fs.existsSync(path.join(server.voice.store.dir, stored!.voice!.file!))).toBe(true);
    // The order flow asks its next question (which honey), in English.
    expect(replies.length).toBeGreaterThan(0);
    const out = await messageModel(server.connection).find({ customer: stored!.customer, direction: 'out', at: { $gte: stored!.at } }).lean();
    expect(out.some((m) => m.flow === 'order')).toBe(true);
    expect(replies.map((r) => r.text).join(' ')).toMatch(/which product/i);
  }, 60_000);

  it('a French espeak note, heard unsure, is said back with "yes" and "I will type it"; yes goes on with what was heard, and a typed message after "no" is answered', async () => {
    const u = '212611000002';
    await says(text(u, 'Bonjour'));
    await says(text(u, 'Salma'));
    const replies = await says(voiceNote(u, synthesizeVoiceNote('Bonjour, je voudrais commander deux pots de miel.', 'fr-fr')).body);
    const stored = await lastInbound(u);
    expect(['unsure', 'heard']).toContain(stored!.voice!.status);
    expect(stored!.voice!.language).toBe('fr');
    if (stored!.voice!.status === 'unsure') {
      expect(replies).toHaveLength(1);
      expect(replies[0]!.text).toContain(`J'ai entendu : « ${stored!.voice!.transcript} »`);
      expect(replies[0]!.quickReplies?.map((q) => q.title)).toEqual(["Oui, c'est ça", "Non, je l'écris"]);
      // Not a misunderstood message.
      expect((await customerModel(server.connection).findById(stored!.customer).lean())!.fallbacks ?? 0).toBe(0);
      const confirmed = await says(tap(u, replies[0]!.quickReplies![0]!.payload, "Oui, c'est ça"));
      expect(confirmed.length).toBeGreaterThan(0);
      expect(confirmed[0]!.text).not.toContain("J'ai entendu");
      const taken = await lastInbound(u);
      expect(taken!.text).toBe(stored!.voice!.transcript);
    } else expect(replies.length).toBeGreaterThan(0);
    // The other way: "no, I will type it", then a typed message is answered by the flows.
    await says(voiceNote(u, synthesizeVoiceNote('Je voudrais du miel de thym.', 'fr-fr')).body);
    const again = await lastInbound(u);
    if (again!.voice!.status === 'unsure') {
      const retype = await says(tap(u, 'VOICE_RETYPE', "Non, je l'écris"));
      expect(retype[0]!.text).toMatch(/écrivez votre message/);
    }
    const typed = await says(text(u, 'menu'));
    expect(typed.length).toBeGreaterThan(0);
  }, 90_000);

  it('an Arabic espeak note ends well: said back to confirm, or answered, never stuck', async () => {
    const u = '212611000003';
    await says(text(u, 'السلام عليكم'));
    await says(text(u, 'فاطمة'));
    const replies = await says(voiceNote(u, synthesizeVoiceNote('السلام عليكم، أريد أن أطلب العسل', 'ar')).body);
    const stored = await lastInbound(u);
    expect(stored!.voice!.language).toBe('ar');
    expect(replies.length).toBeGreaterThan(0);
    if (stored!.voice!.status === 'unsure') expect(replies[0]!.text).toContain('سمعت');
    expect((await says(text(u, 'menu'))).length).toBeGreaterThan(0);
  }, 60_000);

  it('silence is "nothing heard": said kindly, waiting for a person, not counted as misunderstood', async () => {
    const u = '212611000004';
    await says(text(u, 'Hello'));
    await says(text(u, 'John'));
    const replies = await says(voiceNote(u, silentVoiceNote(4)).body);
    const stored = await lastInbound(u);
    expect(stored!.voice).toMatchObject({ status: 'nothing', waiting: true });
    expect(replies.map((r) => r.text)).toEqual([expect.stringMatching(/could not hear anything/)]);
    expect((await customerModel(server.connection).findById(stored!.customer).lean())!.fallbacks ?? 0).toBe(0);
  }, 60_000);

  it('a corrupt file and a 10-minute recording each get a clear answer and a log line, and wait for a person', async () => {
    const u = '212611000005';
    await says(text(u, 'Hello'));
    await says(text(u, 'John'));
    const corrupt = await says(voiceNote(u, Buffer.concat([Buffer.from('OggS'), Buffer.alloc(3000, 7)])).body);
    expect(corrupt.map((r) => r.text)).toEqual([expect.stringMatching(/could not open that audio/)]);
    expect((await lastInbound(u))!.voice).toMatchObject({ status: 'unreadable', waiting: true });
    await logs.waitFor((l) => String(l.msg).includes('was not transcribed (unreadable)'));
    const long = await says(voiceNote(u, tenMinutes).body);
    expect(long.map((r) => r.text)).toEqual([expect.stringMatching(/too long for me/)]);
    const stored = await lastInbound(u);
    expect(stored!.voice).toMatchObject({ status: 'too_long', waiting: true });
    expect(stored!.voice!.seconds).toBeGreaterThan(590);
    await logs.waitFor((l) => String(l.msg).includes('was not transcribed (too_long)'));
  }, 90_000);

  it('a worker killed mid-transcription: the note is heard once more by a fresh worker; killed again, the customer is told, the log says so, and the next note is heard', async () => {
    const u = '212611000006';
    await says(text(u, 'Hello'));
    await says(text(u, 'John'));
    const transcriber = (server.voice as unknown as { options: { transcriber: LocalTranscriber } }).options.transcriber;
    // A long recording keeps the worker busy a few seconds.
    const sentence = Array.from({ length: 6 }, () => 'I would like to order some argan oil and two jars of honey for my family.').join(' ');
    const note = voiceNote(u, synthesizeVoiceNote(sentence, 'en-us'));
    const { raw, signature } = signedWebhook(note.body, SECRET);
    const before = graph.sent.length;
    await fetch(`${server.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    const deaths = () => logs.lines.filter((l) => String(l.msg).includes('died during a transcription')).length;
    const died = deaths();
    for (let kill = 1; kill <= 2; kill += 1) {
      const killed = new Set<number>();
      // Killed once it has the file: a worker is running and busy (the note was fetched).
      await waitFor(() => graph.downloads.includes(note.id) && transcriber.pids.length > 0 && transcriber.waiting === 0, 15_000, 'a worker on the note');
      await new Promise((r) => setTimeout(r, 500));
      for (const pid of transcriber.pids) {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      }
      await waitFor(() => deaths() === died + kill, 10_000, `death ${kill} logged`);
      if (kill === 1) await waitFor(() => transcriber.pids.some((p) => !killed.has(p)), 15_000, 'a fresh worker');
    }
    await server.inbox.idle();
    await waitFor(() => graph.sent.length > before, 10_000, 'an answer');
    expect(graph.sent.slice(before).map((r) => r.text)).toEqual([expect.stringMatching(/could not listen to your voice note/)]);
    expect((await lastInbound(u))!.voice).toMatchObject({ status: 'failed', waiting: true });
    const next = await says(voiceNote(u, synthesizeVoiceNote('Hello, I would like to order two jars of honey, please.', 'en-us')).body);
    expect((await lastInbound(u))!.voice!.status).toBe('heard');
    expect(next.length).toBeGreaterThan(0);
  }, 90_000);
});
