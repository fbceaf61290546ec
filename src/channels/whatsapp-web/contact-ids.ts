import type { Logger } from '../../logger';
import { parseWebChat, shownChat } from './web-ids';
import type { WebClient } from './whatsapp-web-client';

/** A person's two WhatsApp Web ids, as far as they are known. */
export interface WebPersonIds {
  phone?: string;
  lid?: string;
}

// An id the library failed on (a throw, no answer in time) is asked about again after at most a minute.
const FAILED_FOR_MS = 60_000;
const MAX_UNKNOWN = 10_000;

/**
 * Asks whatsapp-web.js for the other id of a person (phone ↔ hidden `@lid` id) with
 * `getContactLidAndPhone`, within a time limit. The library answers only what the linked
 * account already knows: an unknown mapping, a call that throws and one that hangs all give
 * the id the message came with alone, with a log line; an unknown id is not asked again for a while.
 */
export class WebContactIds {
  private readonly unknownUntil = new Map<string, number>();
  private missingSaid = false;

  constructor(
    private readonly client: () => WebClient | undefined,
    private readonly log: Logger,
    /** How long the library may take to answer, and how long an id it could not map is not asked about again. */
    private readonly limits: { timeLimitMs: number; againMs: number },
  ) {}

  /** Both ids of the person behind a chat id, as far as the library knows them; at least the one given (`client()` is undefined while not connected). */
  async of(chat: string, known: WebPersonIds): Promise<WebPersonIds> {
    if (known.phone && known.lid) return known;
    const client = this.client();
    // Not connected (a restart handling what was left): nothing to ask yet.
    if (!client) return known;
    if (!client.getContactLidAndPhone) {
      if (!this.missingSaid) this.log.warn('this whatsapp-web.js has no getContactLidAndPhone: a customer who moves to a hidden @lid id becomes a new customer (install the version package.json pins)');
      this.missingSaid = true;
      return known;
    }
    if ((this.unknownUntil.get(chat) ?? 0) > Date.now()) return known;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        client.getContactLidAndPhone([chat]),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.limits.timeLimitMs} ms`)), this.limits.timeLimitMs);
        }),
      ]);
      const found = this.read(chat, known, answer);
      if (!found.phone || !found.lid) this.markUnknown(chat, this.limits.againMs);
      return found;
    } catch (err) {
      this.log.warn({ chat: shownChat(chat), err: (err as Error)?.message ?? String(err) }, 'WhatsApp Web could not say the other id (phone or @lid) of a contact: going on with the one the message came with');
      this.markUnknown(chat, Math.min(FAILED_FOR_MS, this.limits.againMs));
      return known;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Forgets which ids were unknown (after an erasure: nothing is kept of them). */
  clear(): void {
    this.unknownUntil.clear();
  }

  private read(chat: string, known: WebPersonIds, answer: unknown): WebPersonIds {
    const first = Array.isArray(answer) ? (answer[0] as { lid?: unknown; pn?: unknown } | undefined) : undefined;
    if (!first || typeof first !== 'object') {
      this.log.warn({ chat: shownChat(chat), answer: typeof answer }, 'WhatsApp Web answered getContactLidAndPhone with something else than a list: ignored');
      return known;
    }
    const lid = first.lid === undefined || first.lid === null ? undefined : parseWebChat(first.lid);
    const pn = first.pn === undefined || first.pn === null ? undefined : parseWebChat(first.pn);
    const found: WebPersonIds = { ...known };
    if (lid?.kind === 'lid' && (!known.lid || known.lid === lid.lid)) found.lid = lid.lid;
    else if (first.lid) this.log.warn({ chat: shownChat(chat), lid: shownChat(String(first.lid)) }, 'WhatsApp Web gave a hidden id that is not one, or another one: ignored');
    if (pn?.kind === 'phone' && (!known.phone || known.phone === pn.phone)) found.phone = pn.phone;
    else if (first.pn) this.log.warn({ chat: shownChat(chat), pn: shownChat(String(first.pn)) }, 'WhatsApp Web gave a phone id that is not one, or another one: ignored');
    if (!found.phone || !found.lid) this.log.info({ chat: shownChat(chat) }, 'WhatsApp Web does not know the other id of this contact (phone or @lid) yet');
    return found;
  }

  private markUnknown(chat: string, forMs: number): void {
    if (forMs <= 0) return;
    if (this.unknownUntil.size >= MAX_UNKNOWN) this.unknownUntil.delete(this.unknownUntil.keys().next().value!);
    this.unknownUntil.set(chat, Date.now() + forMs);
  }
}
