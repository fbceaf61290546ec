import { isWhatsAppPhone } from '../whatsapp/whatsapp-identity';

/** What a WhatsApp Web chat id names: a person by phone or by hidden id, a group, or something that is no customer. */
export type WebChat =
  | { kind: 'phone'; phone: string; chat: string }
  | { kind: 'lid'; lid: string; chat: string }
  | { kind: 'group'; chat: string }
  | { kind: 'broadcast' | 'newsletter'; chat: string };

// "<user>[:<device>]@<server>": a device part may come on ids the library builds itself.
const WID = /^([0-9A-Za-z.-]{1,64})(?::\d{1,4})?@([a-z.]{1,20})$/;
// Hidden ids are long numbers (15 digits seen); a bound keeps junk out of the keys.
const LID = /^\d{6,24}$/;

/**
 * Reads a chat id as whatsapp-web.js gives it (`212612345678@c.us`, `179950657237125@lid`,
 * `120363…@g.us`, `status@broadcast`); undefined for anything else (a malformed id).
 */
export function parseWebChat(raw: unknown): WebChat | undefined {
  if (typeof raw !== 'string' || raw.length > 100) return undefined;
  const match = WID.exec(raw);
  if (!match) return undefined;
  const [, user, server] = match as unknown as [string, string, string];
  if (server === 'c.us' || server === 's.whatsapp.net') return isWhatsAppPhone(user) ? { kind: 'phone', phone: user, chat: phoneChat(user) } : undefined;
  if (server === 'lid') return LID.test(user) ? { kind: 'lid', lid: user, chat: lidChat(user) } : undefined;
  if (server === 'g.us') return /^\d+(-\d+)?$/.test(user) ? { kind: 'group', chat: raw } : undefined;
  if (server === 'broadcast') return { kind: 'broadcast', chat: raw };
  if (server === 'newsletter') return { kind: 'newsletter', chat: raw };
  return undefined;
}

/** The chat id of a phone ("212612345678@c.us"). */
export function phoneChat(phone: string): string {
  return `${phone}@c.us`;
}

/** The chat id of a hidden id ("179950657237125@lid"). */
export function lidChat(lid: string): string {
  return `${lid}@lid`;
}

/** A chat id for the log: its last four characters before the server ("…5678@c.us"), not the whole number. */
export function shownChat(chat: string): string {
  const at = chat.lastIndexOf('@');
  const user = at < 0 ? chat : chat.slice(0, at);
  return `…${user.slice(-4)}${at < 0 ? '' : chat.slice(at)}`.slice(0, 40);
}
