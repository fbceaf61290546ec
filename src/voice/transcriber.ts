/** What a transcriber heard in one audio file. */
export interface Heard {
  text: string;
  /** The audio's length. */
  seconds: number;
  /** The language it was heard in (ISO 639-1, as Whisper names them). */
  language?: string;
  /** Whisper's average log-probability of the words (0 is sure; below about -0.5 it often guesses). */
  avgLogprob?: number;
  /** Whisper's probability that the audio holds no speech. */
  noSpeechProb?: number;
}

/** Why a file was not transcribed: `unreadable` and `too_long` are the file's fault and final; the others may pass. */
export type TranscribeFailure = 'unreadable' | 'too_long' | 'timeout' | 'crashed' | 'unavailable' | 'failed';

/** A transcription that did not happen, with why. */
export class TranscribeError extends Error {
  constructor(
    readonly reason: TranscribeFailure,
    message: string,
    /** The audio's length, when it was read. */
    readonly seconds?: number,
  ) {
    super(message);
    this.name = 'TranscribeError';
  }
}

/** What a transcription is asked: the language to hear (the customer's), or the languages to choose from. */
export interface TranscribeRequest {
  file: string;
  language?: string;
  languages?: string[];
  maxSeconds: number;
}

/** Turns an audio file into text: the local speech worker, or a service. */
export interface Transcriber {
  /** How transcripts are labelled in the messages (`local:whisper-base`, `openai:whisper-1`). */
  readonly name: string;
  transcribe(request: TranscribeRequest): Promise<Heard>;
  stop(): Promise<void>;
}
