import { EventEmitter } from 'node:events';
import type { WebClient, WebMessage } from '../../src/channels/whatsapp-web/whatsapp-web-client';

let counter = 0;

/**
 * A stand-in for whatsapp-web.js's Client with its events (qr, authenticated, ready,
 * disconnected, message) and methods (initialize, sendMessage, destroy). `initialize`
 * asks for a QR code unless a session was saved; `link()` plays the phone scanning it.
 */
export class FakeWebClient extends EventEmitter implements WebClient {
  readonly sent: { to: string; text: string }[] = [];
  destroyed = false;

  constructor(private readonly saved: { session: boolean }) {
    super();
  }

  async initialize(): Promise<void> {
    if (this.saved.session) this.ready();
    else this.emit('qr', `2@fake-qr-${++counter},abc,def`);
  }

  /** The phone scans the QR code. */
  link(): void {
    this.saved.session = true;
    this.ready();
  }

  async sendMessage(chatId: string, content: string): Promise<{ id: { _serialized: string } }> {
    if (this.destroyed) throw new Error('client destroyed');
    if (!/@(c|g)\.us$/.test(chatId)) throw new Error(`invalid chat id ${chatId}`);
    if (typeof content !== 'string' || content.length === 0) throw new Error('empty message');
    this.sent.push({ to: chatId, text: content });
    this.emit('sent');
    return { id: { _serialized: `true_${chatId}_${++counter}` } };
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }

  /** A customer writes. */
  receive(from: string, body: string, extra: Partial<WebMessage> = {}): void {
    this.emit('message', { id: { _serialized: `false_${from}_${++counter}` }, from, body, type: 'chat', timestamp: Math.floor(Date.now() / 1000), fromMe: false, ...extra });
  }

  private ready(): void {
    this.emit('authenticated');
    this.emit('ready');
  }
}
