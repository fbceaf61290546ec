import type { TurnContext } from 'botbuilder';
import type { Customer } from '../history/customers';
import type { Types } from 'mongoose';
import type { Language } from '../config';

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
