import { MediaTooBigError, type VoiceSource } from '../../voice/voice-notes';
import type { Activity, TurnContext } from 'botbuilder';
import type { Connection, Types } from 'mongoose';
import { customerModel } from '../../db/models/customer';
import { messageModel } from '../../db/models/message';
import { customerFieldsOf } from '../../history/customers';
import { messagesByExternalId } from '../../history/message-refs';
import type { Logger } from '../../logger';
import type { Attempt, ChannelEvent } from '../inbox';
import type { GraphClient } from '../meta/graph-api';
import { laterThan, OutboxAdapter, type Delivered, type Resume } from '../outbox-adapter';
import { RateLimiter } from '../rate-limiter';
import type { Catalog } from '../../catalog/catalog';
import type { Language } from '../../config';
import { GraphApiError } from '../meta/graph-api';
import { toCloudMessages, type ProductShelf } from './cloud-messages';
import { productShelf } from './product-shelf';
import type { ParsedWhatsAppWebhook, WhatsAppStatus } from './whatsapp-events';
import { WhatsAppCustomers } from './whatsapp-customers';
import { isBsuid, isWhatsAppPhone } from './whatsapp-identity';

/** The channel id of WhatsApp Cloud API activities and customers. */
export const WHATSAPP_CHANNEL = 'whatsapp';

// The label of the button that opens a list, in the customer's language.
const LIST_BUTTON: Record<string, string> = { fr: 'Choisir', ar: 'اختر', ary: 'ختار', en: 'Choose' };
// Meta's pair rate limit: about one message every 6 seconds to one person, in bursts of up to 45.
const PAIR_RATE = { perSecond: 1 / 6, burst: 45 };
// Codes of failed statuses that mean the customer cannot be reached this way now.
const UNREACHABLE = new Set([131026, 131047, 131051, 131052]);

/**
 * WhatsApp through Meta's Cloud API, as a botbuilder adapter of ours: marks each inbound
 * message read, replies with text, reply buttons or lists, and outside the 24-hour window
 * sends only the configured approved template.
 */
export class WhatsAppCloudAdapter extends OutboxAdapter {
  private readonly perRecipient = new Map<string, RateLimiter>();
  private readonly customers: WhatsAppCustomers;
  // Where each conversation's replies go, as its customer last wrote (phone or BSUID); forgotten
  // when their phone goes to someone else (what the database says then decides).
  private readonly addresses = new Map<string, WhatsAppAddress & { customer: Types.ObjectId }>();
  /** The Meta catalog linked to the number (WHATSAPP_CATALOG_ID) and the live catalog.yml: product answers show the products from it. */
  shop: { catalogId: string; catalog: () => Catalog } | undefined;

  constructor(
    private readonly graph: GraphClient,
    private readonly phoneNumberId: string,
    private readonly template: { name: string; language: string } | undefined,
    connection: Connection,
    log: Logger,
    logic: (context: TurnContext) => Promise<boolean>,
  ) {
    super(WHATSAPP_CHANNEL, connection, log, logic);
    // A customer whose phone went to someone else is addressed as the database says (their BSUID), not where they last wrote.
    this.customers = new WhatsAppCustomers(connection, log, (customer) => {
      for (const [conversation, a] of this.addresses) if (a.customer.equals(customer)) this.addresses.delete(conversation);
    });
  }

  /** A voice note's audio: its media id's URL asked of the Graph API, then the file, both with the token. */
  override voiceSource(event: ChannelEvent): VoiceSource | undefined {
    const url = event.attachments?.find((a) => a.url?.startsWith('whatsapp-media:'))?.url;
    if (!url) return undefined;
    const mediaId = url.slice('whatsapp-media:'.length);
    return async (maxBytes) => {
      const media = (await this.graph.get(encodeURIComponent(mediaId), { phone_number_id: this.phoneNumberId })) as { url?: string; mime_type?: string; file_size?: number | string };
      if (typeof media.url !== 'string') throw new Error(`the Graph API gave no URL for media ${mediaId}`);
      if (Number(media.file_size) > maxBytes) throw new MediaTooBigError(Number(media.file_size));
      const file = await this.graph.download(media.url, maxBytes);
      return { bytes: file.bytes, ...(media.mime_type ?? file.mime ? { mime: media.mime_type ?? file.mime } : {}) };
    };
  }

  /**
   * Finds the customer whoever Meta says they are (phone and/or BSUID), applies what changes
   * their identity, marks a message read on its first try (blue ticks), then runs it through the bot.
   */
  override async processEvent(event: ChannelEvent, attempt?: Attempt): Promise<boolean> {
    const identity = event.identity;
    if (identity) {
      // Only a message, or the cooperative's own reply from the Business app, makes a customer.
      const who = await this.customers.resolve(identity, { create: !event.kind || event.kind === 'echo' });
      if (!who) {
        this.log.warn({ channel: WHATSAPP_CHANNEL, event: event.id, kind: event.kind }, 'notice for a customer this server does not know: dropped');
        return true;
      }
      event = { ...event, sender: who.conversation };
      // Where this conversation's replies go: where the customer writes from now (an erasure or a
      // move in a turn changes nothing of it); the Business app's echo names them too.
      if (event.kind !== 'number-change') this.remember(who.conversation, who.customer, identity.phone ? { to: identity.phone } : { recipient: identity.bsuid! });
      if (event.kind === 'number-change') {
        const next = event.content as { newPhone?: string; newBsuid?: string };
        await this.customers.move(who.customer, { phone: next.newPhone, hidden: next.newBsuid });
        if (next.newPhone) this.remember(who.conversation, who.customer, { to: next.newPhone });
        this.log.info({ channel: WHATSAPP_CHANNEL, customer: String(who.customer) }, 'a customer changed their WhatsApp number or user id: they are known by the new one');
        return true;
      }
      if (event.kind === 'identity-change') {
        await customerModel(this.connection).updateOne({ _id: who.customer }, { $set: { 'whatsapp.identityChangedAt': new Date(event.timestamp) } });
        this.log.info({ channel: WHATSAPP_CHANNEL, customer: String(who.customer) }, 'a customer reinstalled WhatsApp or changed phone (identity changed)');
        return true;
      }
    }
    // Alongside the turn, not before it: the reply never waits for the receipt (nor for its
    // retries when Meta is slow). A later try is Meta being down: no receipt then.
    const receipt =
      !event.kind && (attempt?.number ?? 1) === 1
        ? this.graph
            .post(`${this.phoneNumberId}/messages`, { messaging_product: 'whatsapp', status: 'read', message_id: event.id }, { unmetered: true })
            .catch((err: Error) => this.log.warn({ channel: WHATSAPP_CHANNEL, err: err.message }, 'could not mark a WhatsApp message read'))
        : undefined;
    try {
      return await super.processEvent(event, attempt);
    } finally {
      await receipt;
    }
  }

  /** Keeps delivery reports on the sent messages, and unreachable customers (by phone or BSUID) on their record. */
  async recordStatuses(statuses: WhatsAppStatus[]): Promise<void> {
    const Message = messageModel(this.connection);
    for (const s of statuses) {
      // Found by _id through its reference; Meta may report out of order: a late "delivered" does not undo "read".
      const ref = await messagesByExternalId(this.connection, WHATSAPP_CHANNEL, s.id);
      for (const id of ref?.messages ?? []) {
        await Message.updateOne(
          { _id: id, 'delivery.status': { $nin: laterThan(s.status) } },
          { $set: { delivery: { status: s.status, at: s.at, ...(s.error ? { error: `${s.error.code} ${s.error.title}` } : {}) } } },
        );
      }
      const recipient = s.recipient ?? s.recipientUserId;
      if (s.status !== 'failed' || !s.error || !UNREACHABLE.has(s.error.code) || !recipient) continue;
      const customer = await this.customers.customerOf(isBsuid(recipient) ? { hidden: recipient } : { phone: recipient });
      this.log.warn({ channel: WHATSAPP_CHANNEL, code: s.error.code, err: s.error.title }, 'cannot reach this customer now');
      if (customer) await customerModel(this.connection).updateOne({ _id: customer }, { $set: { channelError: { code: s.error.code, message: s.error.title, at: s.at } } });
    }
  }

  /** Keeps a customer's marketing choice (user_preferences) on their record; unknown customers are logged. */
  async recordPreferences(preferences: ParsedWhatsAppWebhook['preferences']): Promise<void> {
    for (const p of preferences) {
      const who = await this.customers.resolve(p.identity, { create: false });
      if (!who) {
        this.log.warn({ channel: WHATSAPP_CHANNEL, category: p.category }, 'marketing preference of a customer this server does not know: dropped');
        continue;
      }
      await customerModel(this.connection).updateOne({ _id: who.customer }, { $set: { marketing: { value: p.value, category: p.category, at: p.at } } });
    }
  }

  protected async deliver(recipient: string, activities: Partial<Activity>[], proactive: boolean, inWindow: boolean, resume: Resume): Promise<Delivered[]> {
    const ids = activities.flatMap((a) => OutboxAdapter.messageIdOf(a));
    const customer = await customerFieldsOf(this.connection, WHATSAPP_CHANNEL, recipient, ['language', 'whatsapp']);
    const address = proactive ? addressOf(recipient, customer) : (this.addresses.get(recipient) ?? addressOf(recipient, customer));
    if (!address) {
      await this.recordError(recipient, 131062, 'no phone and no business-scoped user id known for this customer');
      return [];
    }
    if (proactive && !inWindow) {
      if (!this.template) {
        await this.recordError(recipient, 131047, 'outside the 24-hour window: only an approved template may be sent; set WHATSAPP_TEMPLATE');
        return [];
      }
      const res = await this.post(address, { type: 'template', template: { name: this.template.name, language: { code: this.template.language } } });
      return [{ externalId: res, messageIds: ids }];
    }
    const lang = (customer?.language ?? 'fr') as Language;
    const messages = toCloudMessages(activities, LIST_BUTTON[lang] ?? LIST_BUTTON.fr!, (products) => this.shelfOf(products, lang));
    return this.sendEach(messages, resume, async (m, last) => ({ externalId: await this.postOr(address, m), messageIds: last ? ids : [], ...(m.numbered ? { numbered: m.numbered } : {}) }));
  }

  /** Sends a message; one WhatsApp refuses for good that has a fallback (a product the Meta catalog lacks) goes as its text. */
  private async postOr(address: WhatsAppAddress, m: { body: Record<string, unknown>; fallback?: Record<string, unknown> }): Promise<string | undefined> {
    try {
      return await this.post(address, m.body);
    } catch (err) {
      if (!m.fallback || !(err instanceof GraphApiError) || err.retryable) throw err;
      const kind = (m.body.interactive as { type?: string } | undefined)?.type;
      this.log.warn({ channel: WHATSAPP_CHANNEL, err: err.message, kind }, kind === 'location_request_message' ? 'WhatsApp refused the location request: sent as text' : 'WhatsApp refused the product message (is every product published? npm run cli -- catalog publish): sent as text');
      return this.post(address, m.fallback);
    }
  }

  /** The products a message is about, from the linked catalog; undefined without one. */
  private shelfOf(products: unknown, lang: Language): ProductShelf | undefined {
    return this.shop ? productShelf(this.shop.catalog(), this.shop.catalogId, products, lang) : undefined;
  }

  /** Keeps where a conversation's replies go, from its customer's last message (bounded). */
  private remember(conversation: string, customer: Types.ObjectId, address: WhatsAppAddress): void {
    this.addresses.delete(conversation);
    if (this.addresses.size >= 50_000) this.addresses.delete(this.addresses.keys().next().value!);
    this.addresses.set(conversation, { ...address, customer });
  }

  /** Waits for the recipient's turn under Meta's pair rate limit; idle recipients are forgotten. */
  private async pace(to: string): Promise<void> {
    let limiter = this.perRecipient.get(to);
    if (!limiter) {
      if (this.perRecipient.size > 10_000) {
        for (const [key, l] of this.perRecipient) if (Date.now() - l.lastUsed > 5 * 60_000) this.perRecipient.delete(key);
      }
      limiter = new RateLimiter(PAIR_RATE.perSecond, PAIR_RATE.burst);
      this.perRecipient.set(to, limiter);
    }
    await limiter.take();
  }

  private async post(address: WhatsAppAddress, body: Record<string, unknown>): Promise<string | undefined> {
    await this.pace(address.to ?? address.recipient!);
    // A customer known only by their BSUID is addressed with "recipient" (Meta: "to" wins when both are given).
    const who = address.to ? { to: address.to } : { recipient: address.recipient };
    const res = (await this.graph.post(`${this.phoneNumberId}/messages`, { messaging_product: 'whatsapp', recipient_type: 'individual', ...who, ...body })) as { messages?: { id?: string }[] };
    return res.messages?.[0]?.id;
  }
}

/** Where a WhatsApp message goes: a phone (`to`) or a business-scoped user id (`recipient`). */
interface WhatsAppAddress {
  to?: string;
  recipient?: string;
}

/**
 * The customer's phone when one is known, else their BSUID. A customer stored before
 * identities were kept (no `whatsapp` record), and a number that is no customer's (the
 * cooperative's, COOP_NOTIFY), are addressed by the id itself.
 */
function addressOf(recipient: string, customer: { whatsapp?: { phone?: string | null; bsuid?: string | null } | null } | null): WhatsAppAddress | undefined {
  const w = customer?.whatsapp;
  if (w) return w.phone ? { to: w.phone } : w.bsuid ? { recipient: w.bsuid } : undefined;
  const digits = recipient.replace(/^\+/, '').replace(/[\s-]/g, '');
  if (isWhatsAppPhone(digits)) return { to: digits };
  return isBsuid(recipient) ? { recipient } : undefined;
}
