import type { Connection } from 'mongoose';
import type { Attempt, ChannelEvent, EventHandler, EventPreparer } from '../channels/inbox';
import { LANGUAGES, type Language } from '../config';
import { customerFieldsOf } from '../history/customers';
import type { VoiceNotes, VoiceSource } from './voice-notes';

/** The attachment kinds that are speech: WhatsApp Cloud's `voice`/`audio`, Messenger's `audio`, WhatsApp Web's `ptt`/`audio`. */
const SPEECH = new Set(['voice', 'audio', 'ptt']);

/** The event's voice note attachment, if it carries one and nothing was typed. */
export function speechOf(event: ChannelEvent): { type: string; url?: string } | undefined {
  if (event.kind || event.voice) return undefined;
  return event.attachments?.find((a) => SPEECH.has(a.type));
}

/** Where a channel fetches an event's audio from. */
export interface VoiceSourceOf {
  voiceSource(event: ChannelEvent): VoiceSource | undefined;
}

/**
 * Wraps a channel's event handler so a voice note reaches the bot as its transcript (or,
 * not heard, with what became of it), and gives the inbox the preparation that hears it
 * before its turn. Fetching that fails is retried with the event; its last try goes on.
 */
export function hearingVoice(voice: VoiceNotes, connection: Connection, channel: string, adapter: VoiceSourceOf, handler: EventHandler): { handle: EventHandler; prepare: EventPreparer } {
  const hear = async (event: ChannelEvent, last: boolean): Promise<ChannelEvent> => {
    const speech = speechOf(event);
    const source = speech ? adapter.voiceSource(event) : undefined;
    if (!speech || !source) return event;
    const known = await customerFieldsOf(connection, channel, event.sender, ['language']).catch(() => null);
    const language = (LANGUAGES as readonly string[]).includes(known?.language ?? '') ? (known!.language as Language) : undefined;
    const note = await voice.hear(channel, event.sender, event.id, source, { ...(language ? { language } : {}), last });
    return { ...event, text: note.status === 'heard' ? note.transcript! : event.text, voice: note };
  };
  return {
    handle: async (event: ChannelEvent, attempt: Attempt) => {
      let heard: ChannelEvent;
      try {
        heard = await hear(event, attempt.last);
      } catch {
        // Fetching failed and another try is left: the inbox tries the event again.
        return false;
      }
      return handler(heard, attempt);
    },
    prepare: (event: ChannelEvent) => (speechOf(event) ? hear(event, false) : Promise.resolve(event)),
  };
}
