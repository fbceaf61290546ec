import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { WebClient, WebMessage } from '../../src/channels/whatsapp-web/whatsapp-web-client';

// The library's Message class: its typings declare Message as an interface only.
const Message = createRequire(__filename)('whatsapp-web.js').Message as new (client: unknown, data: Record<string, unknown>) => WebMessage;
let counter = 0;

/** A wid as WhatsApp Web serializes it (what whatsapp-web.js's Message reads `from`, `to`, `author` from). */
function wid(serialized: string): { server: string; user: string; _serialized: string } {
  const at = serialized.lastIndexOf('@');
  return { server: serialized.slice(at + 1), user: serialized.slice(0, at), _serialized: serialized };
}

/** How `getContactLidAndPhone` behaves: answering from the contacts it knows, throwing, or never answering. */
export type MappingMode = 'answer' | 'throw' | 'hang';

/**
 * A stand-in for whatsapp-web.js's Client with its events (qr, authenticated, ready,
 * disconnected, message) and methods (initialize, sendMessage, getContactLidAndPhone,
 * destroy). `initialize` asks for a QR code unless a session was saved; `link()` plays the
 * phone scanning it. Messages are the library's own `Message` objects, built from the raw
 * shape WhatsApp Web gives it, for phone (`@c.us`), hidden (`@lid`) and group senders.
 */
export class FakeWebClient extends EventEmitter implements WebClient {
  readonly sent: { to: string; text: string }[] = [];
  /** Every id asked about with getContactLidAndPhone. */
  readonly asked: string[] = [];
  destroyed = false;
  mapping: MappingMode = 'answer';
  // What the linked account knows: each person's @lid and @c.us, both ways.
  private readonly known = new Map<string, { lid: string; pn: string }>();
  // Ids WhatsApp says are on no account: the library's lookup answers nothing for them.
  private readonly unregistered = new Set<string>();
  // Chats WhatsApp Web cannot open: "No LID for user" (a @c.us without a known @lid), or no chat at all.
  private readonly unreachable = new Map<string, 'no-lid' | 'no-chat'>();

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

  /** The account learns that a phone id and a hidden id are one person. */
  know(pn: string, lid: string): void {
    this.known.set(pn, { lid, pn });
    this.known.set(lid, { lid, pn });
  }

  /** WhatsApp finds no account for this id: getContactLidAndPhone answers neither id for it. */
  notOnWhatsApp(id: string): void {
    this.unregistered.add(id);
  }

  /** Sending to this chat fails as WhatsApp Web fails for an id it cannot open ('no-lid' throws "No LID for user"; 'no-chat' returns nothing). */
  cannotOpen(chat: string, how: 'no-lid' | 'no-chat' = 'no-lid'): void {
    this.unreachable.set(chat, how);
  }

  async sendMessage(chatId: string, content: string): Promise<{ id: { _serialized: string } } | undefined> {
    if (this.destroyed) throw new Error('client destroyed');
    if (!/@(c\.us|g\.us|lid)$/.test(chatId)) throw new Error(`invalid wid ${chatId}`);
    if (typeof content !== 'string' || content.length === 0) throw new Error('empty message');
    const refusal = this.unreachable.get(chatId);
    // The library's evaluate() rethrows the page's error with its message.
    if (refusal === 'no-lid') throw new Error('No LID for user');
    if (refusal === 'no-chat') return undefined;
    this.sent.push({ to: chatId, text: content });
    this.emit('sent');
    return { id: { _serialized: `true_${chatId}_${++counter}` } };
  }

  /** As whatsapp-web.js 1.34 answers: each id's lid and pn, undefined where the account does not know them. */
  async getContactLidAndPhone(userIds: string[]): Promise<{ lid?: string; pn?: string }[]> {
    this.asked.push(...userIds);
    if (this.mapping === 'throw') throw new Error('Evaluation failed: TypeError: Cannot read properties of undefined (reading \'getCurrentLid\')');
    if (this.mapping === 'hang') return new Promise(() => undefined);
    return userIds.map((id) => {
      const person = this.known.get(id);
      if (person) return { lid: person.lid, pn: person.pn };
      // enforceLidAndPnRetrieval's `{}` when queryWidExists finds nothing.
      if (this.unregistered.has(id)) return { lid: undefined, pn: undefined };
      // The id exists on WhatsApp, but its other half is not known to this account.
      return id.endsWith('@lid') ? { lid: id, pn: undefined } : { lid: undefined, pn: id };
    });
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }

  /** A customer writes (`from` a @c.us or @lid chat; a group's messages name their `author`); `extra` overrides the Message's fields. Returns the message's id. */
  receive(from: string, body: string, extra: Partial<WebMessage> & { notifyName?: string; author?: string; directPath?: string; mimetype?: string } = {}, beforeEmit?: (id: string) => void): string {
    const { notifyName, author, directPath, mimetype, ...overrides } = extra;
    const id = `3EB0${(++counter).toString(16).toUpperCase().padStart(16, '0')}`;
    const raw = {
      id: { fromMe: false, remote: wid(from), id, _serialized: `false_${from}_${id}${author ? `_${author}` : ''}` },
      type: 'chat',
      t: Math.floor(Date.now() / 1000),
      body,
      from: wid(from),
      to: wid('212600000001@c.us'),
      ...(author ? { author: wid(author) } : {}),
      ...(notifyName ? { notifyName } : {}),
      // A media message: the library reads hasMedia from directPath.
      ...(directPath ? { directPath, mimetype } : {}),
      ack: 1,
    };
    // The library's own Message, as its 'message' event gives it.
    const message = new Message(this, raw);
    Object.assign(message, overrides);
    beforeEmit?.(raw.id._serialized);
    this.emit('message', message);
    return raw.id._serialized;
  }

  // Voice notes' audio by message id, as the browser page holds it (decrypted, base64).
  private readonly audio = new Map<string, { data: string; mimetype: string; filesize: number }>();
  /**
   * The page whatsapp-web.js's Message.downloadMedia evaluates in: it runs the library's own
   * downloadMedia, which reads this page's answer (null when the page lost the message).
   */
  readonly pupPage = { evaluate: async (_fn: unknown, id: string) => this.audio.get(id) ?? null };

  /** A customer sends a voice note (WhatsApp Web's `ptt`, OGG/Opus), or an audio file (`audio`). Returns the message's id. */
  receiveVoice(from: string, bytes: Buffer, type: 'ptt' | 'audio' = 'ptt'): string {
    return this.receive(from, '', { directPath: '/v/t62.7117-24/fake.enc', mimetype: 'audio/ogg; codecs=opus', type }, (id) =>
      this.audio.set(id, { data: bytes.toString('base64'), mimetype: 'audio/ogg; codecs=opus', filesize: bytes.length }),
    );
  }

  private ready(): void {
    this.emit('authenticated');
    this.emit('ready');
  }
}
