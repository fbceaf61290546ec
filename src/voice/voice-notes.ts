import type { Language } from '../config';
import type { Logger } from '../logger';
import { TranscribeError, type Heard, type Transcriber } from './transcriber';
import { extensionOf, type VoiceStore } from './voice-store';

/**
 * What became of a voice note: `heard` goes on as if typed; `unsure` is said back for the
 * customer to confirm or type; the others get a kind answer and wait for a person.
 */
export type VoiceStatus = 'heard' | 'unsure' | 'nothing' | 'too_long' | 'too_big' | 'unreadable' | 'unfetched' | 'failed' | 'off';

/** A voice note as it is stored with its message. */
export interface VoiceNote {
  status: VoiceStatus;
  /** The audio, relative to the voice folder; absent when it could not be fetched. */
  file?: string;
  mime?: string;
  bytes?: number;
  seconds?: number;
  transcript?: string;
  /** Which transcriber heard it (`local:whisper-base`...). */
  transcribedBy?: string;
  avgLogprob?: number;
  /** The language Whisper was told, or found. */
  language?: string;
  /** Why it was not heard, for the staff. */
  error?: string;
  /** A person of the cooperative should listen to it (the bot could not). */
  waiting: boolean;
}

/** The payload of "yes, that is what I said" under a voice note the bot was unsure of. */
export const VOICE_CONFIRMED = 'VOICE_CONFIRMED';
/** The payload of "no, I will type it". */
export const VOICE_RETYPE = 'VOICE_RETYPE';

/** A voice note's bytes where its channel keeps them (Meta's media, WhatsApp Web's browser). */
export type VoiceSource = (maxBytes: number) => Promise<{ bytes: Buffer; mime?: string }>;

/** The audio is larger than VOICE_MAX_MB: not fetched again. */
export class MediaTooBigError extends Error {
  constructor(readonly bytes: number) {
    super(`the audio is ${Math.round(bytes / 1e6)} MB`);
    this.name = 'MediaTooBigError';
  }
}

// Whisper's language codes for the bot's languages: Darija is heard as Arabic (Whisper has no Darija).
const WHISPER_LANGUAGE: Record<Language, string> = { fr: 'fr', ar: 'ar', ary: 'ar', en: 'en' };

/**
 * Voice notes from every channel: each is fetched once, kept in the voice folder, heard by
 * the configured transcriber (or not, when it is off) and judged heard, unsure or not
 * usable. The outcome is kept beside the audio, so a retry or a restart hears nothing twice.
 */
export class VoiceNotes {
  private readonly inFlight = new Map<string, Promise<VoiceNote>>();

  constructor(
    private readonly options: {
      store: VoiceStore;
      transcriber: Transcriber | undefined;
      maxBytes: number;
      maxSeconds: number;
      /** Below this average log-probability, the bot says what it heard and asks. */
      unsureBelow: number;
      log: Logger;
    },
  ) {}

  get store(): VoiceStore {
    return this.options.store;
  }

  /** Whether notes are transcribed (false: they are kept for the staff only). */
  get transcribing(): boolean {
    return this.options.transcriber !== undefined;
  }

  /**
   * Fetches and hears an event's voice note, once however often it is asked. Rejects when
   * fetching failed and `last` is false (the event is tried again); on the last try a note
   * that cannot be fetched is `unfetched`.
   */
  hear(channel: string, sender: string, event: string, source: VoiceSource, options: { language?: Language; last: boolean }): Promise<VoiceNote> {
    const base = this.options.store.baseOf(channel, sender, event);
    const kept = this.options.store.readResult<VoiceNote>(base);
    if (kept) return Promise.resolve(kept);
    const running = this.inFlight.get(base);
    if (running) return running;
    const work = this.fetchAndHear(base, source, options).finally(() => this.inFlight.delete(base));
    this.inFlight.set(base, work);
    return work;
  }

  private async fetchAndHear(base: string, source: VoiceSource, options: { language?: Language; last: boolean }): Promise<VoiceNote> {
    const log = this.options.log;
    let file = this.options.store.existing(base);
    let mime: string | undefined;
    let bytes: number | undefined;
    if (!file) {
      try {
        const media = await source(this.options.maxBytes);
        if (media.bytes.length > this.options.maxBytes) throw new MediaTooBigError(media.bytes.length);
        file = this.options.store.write(base, extensionOf(media.mime), media.bytes);
        mime = media.mime;
        bytes = media.bytes.length;
      } catch (err) {
        if (err instanceof MediaTooBigError) return this.keep(base, { status: 'too_big', bytes: err.bytes, error: err.message, waiting: true });
        if (!options.last) throw err;
        log.error({ err: (err as Error).message }, 'voice: a voice note could not be fetched after every try; the customer is told and it waits for a person');
        return this.keep(base, { status: 'unfetched', error: (err as Error).message, waiting: true });
      }
    }
    const kept = { file, ...(mime ? { mime } : {}), ...(bytes !== undefined ? { bytes } : {}) };
    const transcriber = this.options.transcriber;
    if (!transcriber) return this.keep(base, { status: 'off', ...kept, waiting: true });
    const language = options.language ? WHISPER_LANGUAGE[options.language] : undefined;
    let heard: Heard;
    try {
      heard = await transcriber.transcribe({ file: this.options.store.absolute(file), maxSeconds: this.options.maxSeconds, ...(language ? { language } : { languages: ['ar', 'fr', 'en'] }) });
    } catch (err) {
      const e = err instanceof TranscribeError ? err : new TranscribeError('failed', (err as Error).message);
      const status: VoiceStatus = e.reason === 'too_long' ? 'too_long' : e.reason === 'unreadable' ? 'unreadable' : 'failed';
      log.warn({ reason: e.reason, err: e.message, file }, `voice: a voice note was not transcribed (${e.reason}); the customer is told and it waits for a person`);
      const note: VoiceNote = { status, ...kept, ...(e.seconds !== undefined ? { seconds: e.seconds } : {}), transcribedBy: transcriber.name, error: e.message, waiting: true };
      // A worker that died or ran out of time may hear it another day: only the file's own faults are kept.
      return status === 'failed' ? note : this.keep(base, note);
    }
    const status = this.judge(heard);
    const note: VoiceNote = {
      status,
      ...kept,
      seconds: Math.round(heard.seconds * 10) / 10,
      transcript: heard.text,
      transcribedBy: transcriber.name,
      ...(heard.avgLogprob !== undefined ? { avgLogprob: Math.round(heard.avgLogprob * 1000) / 1000 } : {}),
      ...(heard.language ? { language: heard.language } : {}),
      waiting: status === 'nothing',
    };
    log.info({ status, seconds: note.seconds, avgLogprob: note.avgLogprob, language: note.language, transcribedBy: transcriber.name }, 'voice: a voice note was transcribed');
    return this.keep(base, note);
  }

  /** Heard, unsure, or nothing usable (silence, noise, a cough). */
  private judge(heard: Heard): VoiceStatus {
    // Whisper's own rule for a silent segment, and text with no letter in it ("...", "♪").
    if (!/\p{L}/u.test(heard.text) || ((heard.noSpeechProb ?? 0) > 0.6 && (heard.avgLogprob ?? 0) < -1)) return 'nothing';
    return heard.avgLogprob !== undefined && heard.avgLogprob < this.options.unsureBelow ? 'unsure' : 'heard';
  }

  private keep(base: string, note: VoiceNote): VoiceNote {
    try {
      this.options.store.writeResult(base, note);
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'voice: could not keep a transcript beside its audio; a retry hears it again');
    }
    return note;
  }

  /** Stops the transcriber (its worker processes). */
  async stop(): Promise<void> {
    await this.options.transcriber?.stop();
  }
}
