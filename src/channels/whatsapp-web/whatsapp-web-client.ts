import type { EventEmitter } from 'node:events';

/** The part of whatsapp-web.js's Message that Taawun reads. */
export interface WebMessage {
  id: { _serialized: string };
  from: string;
  body: string;
  type: string;
  timestamp: number;
  fromMe: boolean;
  isStatus?: boolean;
  hasMedia?: boolean;
  location?: { latitude: number | string; longitude: number | string; description?: string };
}

/**
 * The part of whatsapp-web.js's Client that Taawun uses: events qr, ready, authenticated,
 * auth_failure, disconnected, message; methods initialize, sendMessage, destroy. Tests give
 * a fake with the same events and methods.
 */
export interface WebClient extends EventEmitter {
  initialize(): Promise<void>;
  sendMessage(chatId: string, content: string): Promise<{ id: { _serialized: string } }>;
  destroy(): Promise<void>;
}

/** Makes the real client: the session kept under `dataPath`, Chromium from `chromePath`, no browser download. */
export async function realWebClient(options: { dataPath: string; chromePath: string }): Promise<WebClient> {
  const { Client, LocalAuth } = await import('whatsapp-web.js');
  return new Client({
    authStrategy: new LocalAuth({ dataPath: options.dataPath }),
    puppeteer: {
      executablePath: options.chromePath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  }) as unknown as WebClient;
}
