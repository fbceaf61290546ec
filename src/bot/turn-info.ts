import type { TurnContext } from 'botbuilder';
import type { Customer } from '../history/customers';
import type { Types } from 'mongoose';
import type { Language } from '../config';
import type { VoiceNote } from '../voice/voice-notes';

/** What the middleware learns about a turn, kept in the turn state for handlers and the log line. */
export interface TurnInfo {
  channel: string;
  customer?: Customer;
  inboundId?: Types.ObjectId;
  /** What understanding made of the message (absent for events and until it ran). */
  lang?: Language;
  /** Whether the message's words told its language. */
  langSure?: boolean;
  intent?: string | null;
  product?: string | null;
  confidence?: number;
  /** A person of the cooperative has this customer: the bot stays quiet (the message is still kept). */
  paused?: boolean;
  /** The customer just said "stop" to a rating question: never asked again. */
  ratingOptOut?: boolean;
  /** The customer was erased in this turn: nothing more of it is stored, their message included. */
  forgotten?: boolean;
  /** Why the conversation state could not be saved: the turn failed. */
  unsaved?: Error;
  /**
   * The inbox event this turn applies ("messenger:<mid>"), for channels that redeliver: the
   * turn's state is then committed once, with its replies, after the turn (see TurnCommits).
   */
  event?: string;
  /** Which try of the inbox event this is (from 1). */
  attempt?: number;
  /** When the event reached the inbox: the time the customer's message is stored with. */
  receivedAt?: Date;
  /** Builds the turn's journal (its replies and message records) for the commit; set by the adapter. */
  journal?: () => string;
  /** The conversation version this turn's event was applied at before (a replay): nothing runs again. */
  replayed?: number;
  /** The conversation version this turn committed. */
  committed?: number;
  /** The platform's id of the customer's message (wamid, mid), kept on the stored message. */
  externalId?: string;
  /** What the message carried besides its text (see ChannelEvent.content), kept on the stored message. */
  content?: Record<string, unknown>;
  /** The voice note the message was, and what was heard in it (src/voice), kept on the stored message. */
  voice?: VoiceNote;
}

const KEY = Symbol('taawun.turnInfo');

/** The turn's info, created on first use. */
export function turnInfo(context: TurnContext): TurnInfo {
  let info = context.turnState.get(KEY) as TurnInfo | undefined;
  if (!info) {
    // Adapters set channelId to our channel names ("web", later "messenger", "whatsapp").
    info = { channel: context.activity.channelId ?? 'unknown' };
    context.turnState.set(KEY, info);
  }
  return info;
}
