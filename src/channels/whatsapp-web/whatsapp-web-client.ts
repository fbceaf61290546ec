import type { EventEmitter } from 'node:events';

/** The part of whatsapp-web.js's Message that Taawun reads. */
export interface WebMessage {
  id: { _serialized: string };
  from: string;
  /** In a group, who wrote. */
  author?: string;
  body: string;
  type: string;
  timestamp: number;
  fromMe: boolean;
  isStatus?: boolean;
  hasMedia?: boolean;
  location?: { latitude: number | string; longitude: number | string; description?: string };
  /** The raw message; `notifyName` is the sender's profile name. */
  _data?: { notifyName?: string };
  /** A media message's file, as base64 (whatsapp-web.js's MessageMedia); undefined when WhatsApp no longer has it. */
  downloadMedia?(): Promise<{ mimetype?: string; data: string; filesize?: number } | undefined>;
}

/**
 * The part of whatsapp-web.js's Client that Taawun uses: events qr, ready, authenticated,
 * auth_failure, disconnected, message; methods initialize, sendMessage, getContactLidAndPhone,
 * destroy. Tests give a fake with the same events and methods.
 */
export interface WebClient extends EventEmitter {
  initialize(): Promise<void>;
  /** Undefined when WhatsApp Web finds no chat for the id (1.34 returns nothing then). */
  sendMessage(chatId: string, content: string): Promise<{ id: { _serialized: string } } | undefined>;
  /** A contact's hidden id and phone id (`…@lid`, `…@c.us`), each undefined when the account does not know it (1.34). */
  getContactLidAndPhone?(userIds: string[]): Promise<{ lid?: string; pn?: string }[]>;
  /** A message by its id, for media fetched after a restart. */
  getMessageById?(id: string): Promise<WebMessage | undefined>;
  destroy(): Promise<void>;
}

/** Makes the real client: the session kept under `dataPath`, Chromium from `chromePath`, no browser download. */
export async function realWebClient(options: { dataPath: string; chromePath: string }): Promise<WebClient> {
  // Compiled to CommonJS this is require(); run as ESM (npm run dev, tsx) the CommonJS module comes as `default`.
  const loaded = (await import('whatsapp-web.js')) as typeof import('whatsapp-web.js') & { default?: typeof import('whatsapp-web.js') };
  const { Client, LocalAuth } = loaded.default ?? loaded;
  return new Client({
    authStrategy: new LocalAuth({ dataPath: options.dataPath }),
    puppeteer: {
      executablePath: options.chromePath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  }) as unknown as WebClient;
}
