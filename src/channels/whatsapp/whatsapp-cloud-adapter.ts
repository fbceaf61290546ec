import type { Activity, TurnContext } from 'botbuilder';
import type { Connection } from 'mongoose';
import { messageModel } from '../../db/models/message';
import { customerFieldsOf } from '../../history/customers';
import type { Logger } from '../../logger';
import type { Attempt, ChannelEvent } from '../inbox';
import type { GraphClient } from '../meta/graph-api';
import { OutboxAdapter, type Delivered, type Resume } from '../outbox-adapter';
import { RateLimiter } from '../rate-limiter';
import { toCloudMessages } from './cloud-messages';
import type { WhatsAppStatus } from './whatsapp-events';

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

  constructor(
    private readonly graph: GraphClient,
    private readonly phoneNumberId: string,
    private readonly template: { name: string; language: string } | undefined,
    connection: Connection,
    log: Logger,
    logic: (context: TurnContext) => Promise<boolean>,
  ) {
    super(WHATSAPP_CHANNEL, connection, log, logic);
  }

  /** Marks the message read (the customer sees blue ticks) on its first try, then runs it through the bot. */
  override async processEvent(event: ChannelEvent, attempt?: Attempt): Promise<boolean> {
    // A later try is Meta being down: the receipt would spend its own retries before the reply.
    if ((attempt?.number ?? 1) === 1) {
      await this.graph
        .post(`${this.phoneNumberId}/messages`, { messaging_product: 'whatsapp', status: 'read', message_id: event.id })
        .catch((err: Error) => this.log.warn({ channel: WHATSAPP_CHANNEL, err: err.message }, 'could not mark a WhatsApp message read'));
    }
    return super.processEvent(event, attempt);
  }

  /** Keeps delivery reports on the sent messages, and unreachable customers on their record. */
  async recordStatuses(statuses: WhatsAppStatus[]): Promise<void> {
    const Message = messageModel(this.connection);
    for (const s of statuses) {
      await Message.updateMany({ channel: WHATSAPP_CHANNEL, externalId: s.id }, { $set: { delivery: { status: s.status, at: s.at, ...(s.error ? { error: `${s.error.code} ${s.error.title}` } : {}) } } });
      if (s.status === 'failed' && s.error && UNREACHABLE.has(s.error.code)) await this.recordError(s.recipient, s.error.code, s.error.title);
    }
  }

  protected async deliver(recipient: string, activities: Partial<Activity>[], proactive: boolean, inWindow: boolean, resume: Resume): Promise<Delivered[]> {
    const ids = activities.flatMap((a) => OutboxAdapter.messageIdOf(a));
    if (proactive && !inWindow) {
      if (!this.template) {
        await this.recordError(recipient, 131047, 'outside the 24-hour window: only an approved template may be sent; set WHATSAPP_TEMPLATE');
        return [];
      }
      const res = await this.post(recipient, { type: 'template', template: { name: this.template.name, language: { code: this.template.language } } });
      return [{ externalId: res, messageIds: ids }];
    }
    const customer = await customerFieldsOf(this.connection, WHATSAPP_CHANNEL, recipient, ['language']);
    const messages = toCloudMessages(activities, LIST_BUTTON[customer?.language ?? 'fr'] ?? LIST_BUTTON.fr!);
    return this.sendEach(messages, resume, async (m, last) => ({ externalId: await this.post(recipient, m.body), messageIds: last ? ids : [], ...(m.numbered ? { numbered: m.numbered } : {}) }));
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

  private async post(to: string, body: Record<string, unknown>): Promise<string | undefined> {
    await this.pace(to);
    const res = (await this.graph.post(`${this.phoneNumberId}/messages`, { messaging_product: 'whatsapp', recipient_type: 'individual', to, ...body })) as { messages?: { id?: string }[] };
    return res.messages?.[0]?.id;
  }
}
