import type { Activity, TurnContext } from 'botbuilder';
import type { Connection } from 'mongoose';
import QRCode from 'qrcode';
import qrcodeTerminal from 'qrcode-terminal';
import type { Logger } from '../../logger';
import type { ChannelEvent, Inbox } from '../inbox';
import { OutboxAdapter, type Delivered, type Resume } from '../outbox-adapter';
import { toNumberedTexts } from './numbered-texts';
import type { WebClient, WebMessage } from './whatsapp-web-client';

/** The channel id of WhatsApp Web activities and customers. */
export const WHATSAPP_WEB_CHANNEL = 'whatsapp-web';
const BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000, 60_000];

/** Where the WhatsApp Web session stands, for the log and the admin page. */
export type WebState = 'starting' | 'qr' | 'authenticated' | 'ready' | 'disconnected' | 'auth_failure';

/**
 * WhatsApp through whatsapp-web.js, for a cooperative without a verified Meta business
 * account: one browser session for one number. Its messages go through the same durable
 * inbox as Meta's; the QR code to link the phone is printed in the terminal and kept for
 * the admin page; a lost session reconnects with backoff. Status broadcasts, the account's
 * own messages and (unless allowed) groups are ignored.
 */
export class WhatsAppWebChannel extends OutboxAdapter {
  state: WebState = 'starting';
  qr: string | undefined;
  private client: WebClient | undefined;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly makeClient: () => Promise<WebClient>,
    private readonly inbox: Inbox,
    private readonly options: { groups: boolean; printQr: boolean },
    connection: Connection,
    log: Logger,
    logic: (context: TurnContext) => Promise<boolean>,
  ) {
    super(WHATSAPP_WEB_CHANNEL, connection, log, logic);
  }

  /** Starts the client; resolves once it is initialising (the QR code or the saved session follows). */
  async start(): Promise<void> {
    this.stopped = false;
    const client = await this.makeClient();
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
    if (message.fromMe || message.isStatus || message.from === 'status@broadcast') return;
    if (message.from.endsWith('@g.us') && !this.options.groups) return;
    const attachments = message.location
      ? [{ type: 'location', url: `https://maps.google.com/?q=${message.location.latitude},${message.location.longitude}` }]
      : message.hasMedia
        ? [{ type: message.type }]
        : undefined;
    const event: ChannelEvent = {
      id: message.id._serialized,
      sender: message.from,
      text: message.location?.description ?? message.body ?? '',
      timestamp: message.timestamp * 1000,
      ...(attachments ? { attachments } : {}),
    };
    await this.inbox.record(WHATSAPP_WEB_CHANNEL, [event]);
  }

  protected async deliver(recipient: string, activities: Partial<Activity>[], _proactive: boolean, _inWindow: boolean, resume: Resume): Promise<Delivered[]> {
    if (!this.client || this.state !== 'ready') throw new Error(`WhatsApp Web is ${this.state}, not ready to send`);
    const ids = activities.flatMap((a) => OutboxAdapter.messageIdOf(a));
    const client = this.client;
    return this.sendEach(toNumberedTexts(activities), resume, async (t, last) => {
      const sent = await client.sendMessage(recipient, t.text);
      return { externalId: sent.id._serialized, messageIds: last ? ids : [], ...(t.numbered ? { numbered: t.numbered } : {}) };
    });
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
