import { MediaTooBigError, type VoiceSource } from '../../voice/voice-notes';
import type { Activity, TurnContext } from 'botbuilder';
import type { Connection, Types } from 'mongoose';
import QRCode from 'qrcode';
import qrcodeTerminal from 'qrcode-terminal';
import { customerModel } from '../../db/models/customer';
import { customerIdOf, onIdentitiesForgotten } from '../../history/customers';
import type { Logger } from '../../logger';
import type { Attempt, ChannelEvent, Inbox } from '../inbox';
import { OutboxAdapter, UnreachableError, type Delivered, type Resume } from '../outbox-adapter';
import { WhatsAppCustomers, type WhatsAppIdScheme } from '../whatsapp/whatsapp-customers';
import { WebContactIds, type WebPersonIds } from './contact-ids';
import { toNumberedTexts } from './numbered-texts';
import { lidChat, parseWebChat, phoneChat, shownChat } from './web-ids';
import type { WebClient, WebMessage } from './whatsapp-web-client';

/** The channel id of WhatsApp Web activities and customers. */
export const WHATSAPP_WEB_CHANNEL = 'whatsapp-web';
const BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000, 60_000];
// How long the library may take to say a contact's other id before the message goes on without it.
const LOOKUP_TIME_LIMIT_MS = 5000;
// How long a contact the library could not map is not asked about again (the account may learn it).
const LOOKUP_AGAIN_MINUTES = 10;
// What whatsapp-web.js throws for an id the account cannot open a chat with ("No LID for user"
// for a @c.us it has no hidden id for, "invalid wid" for one it cannot read).
const UNKNOWN_CONTACT = /no lid for user|invalid wid|wid error|not a contact|contact not found/i;

/** WhatsApp Web's ids: the phone and the hidden @lid id; conversations under the chat id a customer first wrote from. */
const WEB_IDS: WhatsAppIdScheme = {
  channel: WHATSAPP_WEB_CHANNEL,
  hidden: 'lid',
  conversationOf: (id) => ('phone' in id ? phoneChat(id.phone) : lidChat(id.hidden)),
};

/** Where the WhatsApp Web session stands, for the log and the admin page. */
export type WebState = 'starting' | 'qr' | 'authenticated' | 'ready' | 'disconnected' | 'auth_failure';

/**
 * WhatsApp through whatsapp-web.js, for a cooperative without a verified Meta business
 * account: one browser session for one number. Its messages go through the same durable
 * inbox as Meta's; the QR code to link the phone is printed in the terminal and kept for
 * the admin page; a lost session reconnects with backoff. Status broadcasts, the account's
 * own messages and (unless allowed) groups are ignored.
 *
 * A person may write from their phone id (`…@c.us`) and later from a hidden id (`…@lid`):
 * the library is asked for the other one, both are kept, and either finds the same customer.
 * Replies go to the id that last worked, and to the other one when WhatsApp Web cannot open
 * a chat with it.
 */
export class WhatsAppWebChannel extends OutboxAdapter {
  state: WebState = 'starting';
  qr: string | undefined;
  private client: WebClient | undefined;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly customers: WhatsAppCustomers;
  private readonly contacts: WebContactIds;
  // The chat each conversation's customer last wrote from, tried first when nothing has worked yet (bounded).
  private readonly lastFrom = new Map<string, { chat: string; customer: Types.ObjectId }>();
  // Voice notes received and not fetched yet: their audio is in the browser, reached through the message.
  private readonly voiceMessages = new Map<string, WebMessage>();

  constructor(
    private readonly makeClient: () => Promise<WebClient>,
    private readonly inbox: Inbox,
    private readonly options: { groups: boolean; printQr: boolean; lookupTimeLimitMs?: number; lookupAgainMinutes?: number },
    connection: Connection,
    log: Logger,
    logic: (context: TurnContext) => Promise<boolean>,
  ) {
    super(WHATSAPP_WEB_CHANNEL, connection, log, logic);
    const forget = (customer: Types.ObjectId) => {
      for (const [conversation, last] of this.lastFrom) if (last.customer.equals(customer)) this.lastFrom.delete(conversation);
    };
    this.customers = new WhatsAppCustomers(connection, log, forget, WEB_IDS);
    // An erasure (or a move) leaves nothing of the customer in this process's memory either.
    onIdentitiesForgotten(connection, (customer) => {
      forget(customer);
      this.contacts.clear();
    });
    this.contacts = new WebContactIds(() => (this.state === 'ready' ? this.client : undefined), log, {
      timeLimitMs: options.lookupTimeLimitMs ?? LOOKUP_TIME_LIMIT_MS,
      againMs: (options.lookupAgainMinutes ?? LOOKUP_AGAIN_MINUTES) * 60_000,
    });
  }

  /** Starts the client; resolves once it is initialising (the QR code or the saved session follows). */
  async start(): Promise<void> {
    this.stopped = false;
    let client: WebClient;
    try {
      client = await this.makeClient();
    } catch (err) {
      // A client that cannot even be made (a broken install) is logged and tried again, not a crash of the server.
      this.log.error({ err: (err as Error)?.message ?? String(err) }, 'WhatsApp Web could not be set up; retrying');
      this.reconnect();
      return;
    }
    this.client = client;
    client.on('qr', (qr: string) => {
      this.state = 'qr';
      this.qr = qr;
      this.log.warn('WhatsApp Web: scan the QR code with the phone (WhatsApp > Linked devices), or open /admin/whatsapp-web');
      if (this.options.printQr) qrcodeTerminal.generate(qr, { small: true });
    });
    client.on('authenticated', () => {
      this.state = 'authenticated';
      this.qr = undefined;
    });
    client.on('ready', () => {
      this.state = 'ready';
      this.attempts = 0;
      this.log.info('WhatsApp Web is connected');
    });
    client.on('auth_failure', (message: string) => {
      this.state = 'auth_failure';
      this.log.error({ err: message }, 'WhatsApp Web refused the saved session: scan a new QR code');
    });
    client.on('disconnected', (reason: string) => {
      this.state = 'disconnected';
      this.log.warn({ reason }, 'WhatsApp Web disconnected; reconnecting');
      this.reconnect();
    });
    client.on('message', (message: WebMessage) => {
      void this.receive(message).catch((err: Error) => this.log.error({ channel: WHATSAPP_WEB_CHANNEL, err: err.message }, 'WhatsApp Web message not recorded'));
    });
    await client.initialize().catch((err: Error) => {
      this.log.error({ err: err.message }, 'WhatsApp Web could not start; retrying');
      this.reconnect();
    });
  }

  /** Stops the client and any pending reconnection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.client?.destroy().catch(() => undefined);
  }

  /** The QR code to scan as an SVG image, if the session waits for one. */
  async qrSvg(): Promise<string | undefined> {
    return this.qr ? QRCode.toString(this.qr, { type: 'svg', margin: 2 }) : undefined;
  }

  private async receive(message: WebMessage): Promise<void> {
    if (message.fromMe || message.isStatus) return;
    const chat = parseWebChat(message.from);
    if (!chat || typeof message.id?._serialized !== 'string') {
      this.log.warn({ channel: WHATSAPP_WEB_CHANNEL, from: shownChat(String(message.from)) }, 'WhatsApp Web gave a message from an id that is not one, or without an id: dropped');
      return;
    }
    if (chat.kind === 'broadcast' || chat.kind === 'newsletter') return;
    if (chat.kind === 'group' && !this.options.groups) {
      this.log.info({ channel: WHATSAPP_WEB_CHANNEL, chat: shownChat(chat.chat) }, 'a WhatsApp group message: ignored (WHATSAPP_WEB_GROUPS=true answers groups)');
      return;
    }
    const attachments = message.location
      ? [{ type: 'location', url: `https://maps.google.com/?q=${message.location.latitude},${message.location.longitude}` }]
      : message.hasMedia
        ? [{ type: message.type }]
        : undefined;
    const name = typeof message._data?.notifyName === 'string' ? message._data.notifyName.trim().slice(0, 100) : '';
    // A group is one conversation, whoever writes in it: no person's identity.
    const identity = chat.kind === 'phone' ? { phone: chat.phone } : chat.kind === 'lid' ? { lid: chat.lid } : undefined;
    const event: ChannelEvent = {
      id: message.id._serialized,
      sender: chat.chat,
      text: message.location?.description ?? (typeof message.body === 'string' ? message.body : ''),
      timestamp: Number.isFinite(message.timestamp) ? message.timestamp * 1000 : Date.now(),
      ...(attachments ? { attachments } : {}),
      ...(identity ? { identity: { ...identity, ...(name ? { name } : {}) } } : {}),
    };
    if ((message.type === 'ptt' || message.type === 'audio') && message.hasMedia) {
      if (this.voiceMessages.size >= 500) this.voiceMessages.delete(this.voiceMessages.keys().next().value!);
      this.voiceMessages.set(event.id, message);
    }
    await this.inbox.record(WHATSAPP_WEB_CHANNEL, [event]);
  }

  /**
   * A voice note's audio, from the browser: through the message received (or, after a
   * restart, the message looked up by its id), decoded from the base64 the library gives.
   */
  override voiceSource(event: ChannelEvent): VoiceSource | undefined {
    if (!event.attachments?.some((a) => a.type === 'ptt' || a.type === 'audio')) return undefined;
    return async (maxBytes) => {
      const message = this.voiceMessages.get(event.id) ?? (this.state === 'ready' ? await this.client?.getMessageById?.(event.id) : undefined);
      if (!message?.downloadMedia) throw new Error(this.state === 'ready' ? 'WhatsApp Web no longer has this voice note' : 'WhatsApp Web is not connected');
      const media = await message.downloadMedia();
      if (!media?.data) throw new Error('WhatsApp Web gave no audio for this voice note');
      // Base64 is 4/3 of the bytes: refused before decoding a file too large.
      if ((media.data.length * 3) / 4 > maxBytes) throw new MediaTooBigError(Math.round((media.data.length * 3) / 4));
      this.voiceMessages.delete(event.id);
      return { bytes: Buffer.from(media.data, 'base64'), ...(media.mimetype ? { mime: media.mimetype } : {}) };
    };
  }

  /**
   * Finds the customer whichever id they wrote from, with the other one when the library
   * knows it (asked within a time limit), then runs the message through the bot.
   */
  override async processEvent(event: ChannelEvent, attempt?: Attempt): Promise<boolean> {
    const identity = event.identity;
    if (identity?.phone || identity?.lid) {
      const kept = await this.customers.idsOf(identity);
      const phone = identity.phone ?? kept?.phone;
      const lid = identity.lid ?? kept?.hidden;
      let ids: WebPersonIds = { ...(phone ? { phone } : {}), ...(lid ? { lid } : {}) };
      if (!ids.phone || !ids.lid) {
        // Not connected (a start handling what a stop left, a reconnection): the library cannot
        // be asked, and resolving without it could make a second customer. Tried again later;
        // the last try goes on with the id it has.
        if (this.state !== 'ready' && !(attempt?.last ?? true)) return false;
        ids = await this.contacts.of(event.sender, ids);
      }
      const who = (await this.customers.resolve({ ...identity, ...ids }, { create: true }))!;
      if (this.lastFrom.size >= 50_000) this.lastFrom.delete(this.lastFrom.keys().next().value!);
      this.lastFrom.set(who.conversation, { chat: event.sender, customer: who.customer });
      event = { ...event, sender: who.conversation };
    }
    return super.processEvent(event, attempt);
  }

  protected async deliver(recipient: string, activities: Partial<Activity>[], _proactive: boolean, _inWindow: boolean, resume: Resume): Promise<Delivered[]> {
    if (!this.client || this.state !== 'ready') throw new Error(`WhatsApp Web is ${this.state}, not ready to send`);
    const ids = activities.flatMap((a) => OutboxAdapter.messageIdOf(a));
    const client = this.client;
    const route = await this.routeOf(recipient);
    return this.sendEach(toNumberedTexts(activities), resume, async (t, last) => {
      const externalId = await this.sendOnRoute(client, route, t.text);
      return { externalId, messageIds: last ? ids : [], ...(t.numbered ? { numbered: t.numbered } : {}) };
    });
  }

  /**
   * The chats a conversation's replies may go to, in order: the one that last worked, the one
   * the customer last wrote from, their hidden id, their phone. A number that is no customer's
   * (the cooperative's, COOP_NOTIFY) is its own chat.
   */
  private async routeOf(recipient: string): Promise<Route> {
    const customer = await customerIdOf(this.connection, WHATSAPP_WEB_CHANNEL, recipient);
    const w = customer ? (await customerModel(this.connection).findById(customer, { whatsapp: 1 }).lean())?.whatsapp : undefined;
    if (!customer || !w) return { chats: [recipient] };
    const theirs = [w.lid ? lidChat(w.lid) : undefined, w.phone ? phoneChat(w.phone) : undefined].filter((c): c is string => Boolean(c));
    // What last worked only while it is still theirs (a phone that went to someone else is not).
    const worked = w.sendTo && theirs.includes(w.sendTo) ? [w.sendTo] : [];
    const wrote = this.lastFrom.get(recipient);
    const chats = [...new Set([...worked, ...(wrote && theirs.includes(wrote.chat) ? [wrote.chat] : []), ...theirs])];
    return { customer, sendTo: w.sendTo ?? undefined, chats: chats.length > 0 ? chats : [recipient] };
  }

  /** Sends one text to the first chat of the route that takes it; an unknown contact passes to the next, with a log line. */
  private async sendOnRoute(client: WebClient, route: Route, text: string): Promise<string> {
    const failures: string[] = [];
    for (const [i, chat] of route.chats.entries()) {
      let failure: string;
      try {
        const sent = await client.sendMessage(chat, text);
        if (typeof sent?.id?._serialized === 'string') {
          if (route.customer && route.sendTo !== chat) {
            route.sendTo = chat;
            // The text went out: a failed write must not make it count as unsent (and go out twice).
            await customerModel(this.connection)
              .updateOne({ _id: route.customer }, { $set: { 'whatsapp.sendTo': chat } })
              .catch((err: Error) => this.log.warn({ channel: WHATSAPP_WEB_CHANNEL, err: err.message }, 'could not keep which WhatsApp Web id worked; the next reply tries the same order again'));
          }
          // The rest of the turn goes where this one went.
          if (i > 0) route.chats = [chat, ...route.chats.filter((c) => c !== chat)];
          return sent.id._serialized;
        }
        // 1.34 returns nothing when it finds no chat for the id; also (rarely) when the message was
        // added but not found again: then the other id may get it a second time.
        failure = 'WhatsApp Web found no chat for this id';
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        if (!UNKNOWN_CONTACT.test(message)) throw err;
        failure = message;
      }
      failures.push(`${shownChat(chat)}: ${failure}`);
      const next = route.chats[i + 1];
      this.log.warn(
        { channel: WHATSAPP_WEB_CHANNEL, chat: shownChat(chat), err: failure, ...(next ? { next: shownChat(next) } : {}) },
        next ? 'WhatsApp Web could not send to this id: trying the customer\'s other id' : 'WhatsApp Web could not send to this id, and the customer has no other',
      );
    }
    throw new UnreachableError(0, `WhatsApp Web cannot reach this customer (${failures.join('; ')})`);
  }

  private reconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const wait = BACKOFF_MS[Math.min(this.attempts, BACKOFF_MS.length - 1)]!;
    this.attempts += 1;
    this.timer = setTimeout(() => {
      void (async () => {
        await this.client?.destroy().catch(() => undefined);
        if (!this.stopped) await this.start();
      })();
    }, wait);
    this.timer.unref();
  }
}

/** Where a conversation's replies may go: its customer (when it is one), the chat that last worked, the chats to try in order. */
interface Route {
  customer?: Types.ObjectId;
  sendTo?: string;
  chats: string[];
}
