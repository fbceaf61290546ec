import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/logger';
import { VoiceNotes } from '../../src/voice/voice-notes';
import { VoiceStore } from '../../src/voice/voice-store';

const store = () => new VoiceStore(fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-voice-unit-')));
const notes = (s: VoiceStore, maxBytes = 1000) => new VoiceNotes({ store: s, transcriber: undefined, maxBytes, maxSeconds: 300, unsureBelow: -0.5, log: createLogger('silent') });

describe('voice notes kept on disk', () => {
  it('a download that fails is tried again with its event; on the last try the note is "unfetched" and waits for a person', async () => {
    const s = store();
    const failing = async () => {
      throw new Error('lookaside.fbsbx.com answered 500');
    };
    await expect(notes(s).hear('whatsapp', '212600000001', 'wamid.1', failing, { last: false })).rejects.toThrow('500');
    const note = await notes(s).hear('whatsapp', '212600000001', 'wamid.1', failing, { last: true });
    expect(note).toMatchObject({ status: 'unfetched', waiting: true, error: 'lookaside.fbsbx.com answered 500' });
  });

  it('fetches once: a retry or a restart reads the kept outcome, and the file is not fetched again', async () => {
    const s = store();
    let fetched = 0;
    const source = async () => {
      fetched += 1;
      return { bytes: Buffer.from('OggS...'), mime: 'audio/ogg; codecs=opus' };
    };
    const first = await notes(s).hear('messenger', 'psid', 'mid.1', source, { last: false });
    const again = await notes(s).hear('messenger', 'psid', 'mid.1', source, { last: false });
    expect(fetched).toBe(1);
    expect(again).toEqual(first);
    expect(first).toMatchObject({ status: 'off', mime: 'audio/ogg; codecs=opus', bytes: 7 });
    expect(first.file).toMatch(/^messenger\/[0-9a-f]{24}\/[0-9a-f]{24}\.ogg$/);
  });

  it('refuses audio over the size limit without keeping it, and a file name that leaves the folder', async () => {
    const s = store();
    const note = await notes(s, 10).hear('whatsapp', 'x', 'wamid.big', async () => ({ bytes: Buffer.alloc(11) }), { last: false });
    expect(note).toMatchObject({ status: 'too_big', waiting: true });
    expect(note.file).toBeUndefined();
    expect(() => s.absolute('../../etc/passwd')).toThrow('is not a voice note');
  });

  it('forgets a sender\'s notes, and prunes those older than the retention', async () => {
    const s = store();
    const kept = await notes(s).hear('whatsapp', 'a', 'e1', async () => ({ bytes: Buffer.from('1') }), { last: false });
    await notes(s).hear('whatsapp', 'b', 'e2', async () => ({ bytes: Buffer.from('2') }), { last: false });
    expect(s.forget('whatsapp', ['b'])).toBe(1);
    expect(fs.existsSync(s.absolute(kept.file!))).toBe(true);
    expect(s.prune(new Date(Date.now() + 1000))).toBe(1);
    expect(fs.existsSync(s.absolute(kept.file!))).toBe(false);
  });
});
