import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message the fake accepted, as Meta would have delivered it. */
export interface SentMessage {
  recipient: string;
  messagingType: string;
  text: string;
  quickReplies?: { content_type: string; title: string; payload: string }[];
}

/**
 * A local stand-in for the Graph API's Send API that refuses what Meta refuses: a wrong
 * token or appsecret_proof, another version, a message over 2,000 characters, more than
 * 13 quick replies or a title over 20 characters, a missing recipient or messaging_type.
 */
export class FakeGraphApi {
  readonly sent: SentMessage[] = [];
  readonly refused: { status: number; message: string }[] = [];
  private readonly failures: { status: number; code: number; subcode?: number }[] = [];
  private server: http.Server | undefined;
  private waiters: (() => void)[] = [];

  constructor(private readonly options: { accessToken: string; appSecret: string; version: string }) {}

  /** Starts on a free loopback port; resolves with the base URL to configure. */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** The next calls fail with these errors, in order (then calls succeed again). */
  failNext(...errors: { status: number; code: number; subcode?: number }[]): void {
    this.failures.push(...errors);
  }

  /** Resolves once `count` messages have been accepted in all, failing after a few seconds. */
  async waitForSent(count: number, ms = 8000): Promise<SentMessage[]> {
    const deadline = Date.now() + ms;
    while (this.sent.length < count) {
      if (Date.now() > deadline) throw new Error(`the fake Graph API got ${this.sent.length} messages, not ${count}: ${JSON.stringify(this.sent.map((m) => m.text))}; refused: ${JSON.stringify(this.refused)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.sent;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const fail = (status: number, code: number, message: string) => {
        this.refused.push({ status, message });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message, type: 'OAuthException', code, fbtrace_id: 'fake' } }));
      };
      if (req.method !== 'POST' || url.pathname !== `/${this.options.version}/me/messages`) return fail(404, 803, `unknown path ${req.method} ${url.pathname}`);
      if (url.searchParams.get('access_token') !== this.options.accessToken) return fail(400, 190, 'Invalid OAuth access token');
      const proof = createHmac('sha256', this.options.appSecret).update(this.options.accessToken).digest('hex');
      if (url.searchParams.get('appsecret_proof') !== proof) return fail(400, 100, 'Invalid appsecret_proof provided in the API argument');
      let body: { recipient?: { id?: unknown }; messaging_type?: unknown; message?: { text?: unknown; quick_replies?: { content_type?: unknown; title?: unknown; payload?: unknown }[] } };
      try {
        body = JSON.parse(raw);
      } catch {
        return fail(400, 100, 'body is not JSON');
      }
      if (typeof body.recipient?.id !== 'string') return fail(400, 100, 'recipient.id is required');
      if (!['RESPONSE', 'UPDATE', 'MESSAGE_TAG'].includes(String(body.messaging_type))) return fail(400, 100, 'messaging_type is required');
      const text = body.message?.text;
      if (typeof text !== 'string' || text.length === 0) return fail(400, 100, 'message.text is required');
      if ([...text].length > 2000) return fail(400, 100, 'param message[text] must be at most 2000 characters');
      const qr = body.message?.quick_replies;
      if (qr !== undefined) {
        if (!Array.isArray(qr) || qr.length === 0 || qr.length > 13) return fail(400, 100, 'quick_replies must have 1 to 13 items');
        for (const q of qr) {
          if (q.content_type !== 'text') return fail(400, 100, 'quick reply content_type must be text');
          if (typeof q.title !== 'string' || [...q.title].length > 20) return fail(400, 100, 'quick reply title must be at most 20 characters');
          if (typeof q.payload !== 'string' || q.payload.length > 1000) return fail(400, 100, 'quick reply payload must be at most 1000 characters');
        }
      }
      const failure = this.failures.shift();
      if (failure) return fail(failure.status, failure.code, `fake failure ${failure.code}`);
      this.sent.push({ recipient: body.recipient.id, messagingType: String(body.messaging_type), text, ...(qr ? { quickReplies: qr as SentMessage['quickReplies'] } : {}) });
      for (const wake of this.waiters.splice(0)) wake();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ recipient_id: body.recipient.id, message_id: `m_${this.sent.length}` }));
    });
  }
}

/** A webhook body as Meta sends it: JSON with every non-ASCII character escaped as \uXXXX, and its signature. */
export function signedWebhook(body: unknown, appSecret: string): { raw: string; signature: string } {
  const raw = JSON.stringify(body).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { raw, signature: `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}` };
}

let mid = 0;

/** A Messenger webhook body with one text (or quick reply) from `sender`. */
export function messengerText(sender: string, text: string, payload?: string, id = `mid.${++mid}`) {
  return {
    object: 'page',
    entry: [
      {
        id: 'PAGE_ID',
        time: Date.now(),
        messaging: [
          {
            sender: { id: sender },
            recipient: { id: 'PAGE_ID' },
            timestamp: Date.now(),
            message: { mid: id, text, ...(payload ? { quick_reply: { payload } } : {}) },
          },
        ],
      },
    ],
  };
}
