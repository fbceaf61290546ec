import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeMetaCatalog, type CatalogItems } from './fake-meta-catalog';

/** A message the fake accepted, as Meta would have delivered it. */
export interface SentMessage {
  recipient: string;
  /** Messenger's messaging_type, or WhatsApp's message type (text, interactive:button, interactive:list, interactive:location_request_message, template). */
  messagingType: string;
  text: string;
  quickReplies?: { content_type?: string; title: string; payload: string }[];
  /** A product message's catalog and products, by section (one unnamed section for a single product). */
  products?: { catalogId: string; header?: string; sections: { title?: string; products: string[] }[] };
}

/**
 * A local stand-in for the Graph API's Send API that refuses what Meta refuses: a wrong
 * token or appsecret_proof, another version, a message over 2,000 characters, more than
 * 13 quick replies or a title over 20 characters, a missing recipient or messaging_type.
 */
export class FakeGraphApi {
  readonly sent: SentMessage[] = [];
  readonly refused: { status: number; message: string }[] = [];
  /** WhatsApp messages marked read. */
  readonly reads: string[] = [];
  /** Called for each accepted message (the benchmark times replies with it). */
  onSent: ((message: SentMessage) => void) | undefined;
  private readonly failures: { status: number; code: number; subcode?: number }[] = [];
  /** Each Meta catalog's items by retailer id, as product messages and the batch API see them. */
  readonly catalogItems = new Map<string, CatalogItems>();
  private readonly catalogs = new Map<string, FakeMetaCatalog>();

  /** The fake API of a catalog set in catalogItems (its batch calls are in `calls`). */
  catalogOf(id: string): FakeMetaCatalog {
    let c = this.catalogs.get(id);
    if (!c || c.items !== this.catalogItems.get(id)) this.catalogs.set(id, (c = new FakeMetaCatalog(this.catalogItems.get(id)!)));
    return c;
  }
  private server: http.Server | undefined;
  private waiters: (() => void)[] = [];
  /** WhatsApp media by id (what a customer's voice note or photo uploaded), served as Meta does: id → URL → bytes. */
  readonly media = new Map<string, { bytes: Buffer; mime: string }>();
  /** Media files downloaded (with the right token), by id. */
  readonly downloads: string[] = [];
  /** Messenger attachments on Meta's CDN (signed addresses, fetched without a token), by name. */
  readonly cdn = new Map<string, { bytes: Buffer; mime: string }>();

  /** The address of a Messenger attachment kept in `cdn`. */
  cdnUrl(name: string): string {
    return `${this.base}/cdn/${encodeURIComponent(name)}?_nc_sig=fake`;
  }
  private base = '';

  constructor(private readonly options: { accessToken: string; appSecret: string; version: string; phoneNumberId?: string }) {}

  /** Starts on a free loopback port; resolves with the base URL to configure. */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.base;
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

  private whatsapp(raw: string, res: http.ServerResponse, fail: (status: number, code: number, message: string) => void): void {
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw);
    } catch {
      return fail(400, 100, 'body is not JSON');
    }
    if (body.status === 'read') {
      if (body.messaging_product !== 'whatsapp' || typeof body.message_id !== 'string') return fail(400, 100, 'a read receipt needs messaging_product and message_id');
      this.reads.push(body.message_id);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
      return;
    }
    const checked = whatsappCheck(body);
    if (typeof checked === 'string') return fail(400, 131009, checked);
    // A product message names products of the catalog: one Meta does not have is refused.
    const missing = checked.products?.sections.flatMap((s) => s.products).filter((id) => !this.catalogItems.get(checked.products!.catalogId)?.has(id));
    if (missing?.length) return fail(400, 131009, `Parameter value is not valid: products not found in catalog ${checked.products!.catalogId}: ${missing.join(', ')}`);
    const failure = this.failures.shift();
    if (failure) return fail(failure.status, failure.code, `fake failure ${failure.code}`);
    this.sent.push(checked);
    this.onSent?.(checked);
    for (const wake of this.waiters.splice(0)) wake();
    const id = `wamid.fake${this.sent.length}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id }] }));
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
      const cdn = /^\/cdn\/([^/]+)$/.exec(url.pathname);
      if (cdn && req.method === 'GET') {
        const media = this.cdn.get(decodeURIComponent(cdn[1]!));
        if (!media || url.searchParams.get('_nc_sig') !== 'fake') return fail(403, 0, 'URL signature mismatch');
        this.downloads.push(decodeURIComponent(cdn[1]!));
        res.writeHead(200, { 'content-type': media.mime, 'content-length': media.bytes.length }).end(media.bytes);
        return;
      }
      // A media file's bytes (Meta's lookaside.fbsbx.com): the token in the Authorization header, never the query.
      const file = /^\/whatsapp-media-file\/(\d+)$/.exec(url.pathname);
      if (file && req.method === 'GET') {
        if (req.headers.authorization !== `Bearer ${this.options.accessToken}`) return fail(401, 190, 'media download without the Authorization: Bearer token');
        const media = this.media.get(file[1]!);
        if (!media) return fail(404, 100, 'media not found');
        this.downloads.push(file[1]!);
        res.writeHead(200, { 'content-type': media.mime, 'content-length': media.bytes.length }).end(media.bytes);
        return;
      }
      // A media id's URL: GET /{version}/{media-id}, with the token and proof as every Graph call.
      const mediaId = req.method === 'GET' ? new RegExp(`^/${this.options.version}/(\\d+)$`).exec(url.pathname) : null;
      if (mediaId && url.searchParams.get('access_token') === this.options.accessToken) {
        const proof = createHmac('sha256', this.options.appSecret).update(this.options.accessToken).digest('hex');
        if (url.searchParams.get('appsecret_proof') !== proof) return fail(400, 100, 'Invalid appsecret_proof provided in the API argument');
        const media = this.media.get(mediaId[1]!);
        if (!media) return fail(400, 100, `Unsupported get request. Object with ID '${mediaId[1]}' does not exist`);
        const phone = url.searchParams.get('phone_number_id');
        if (phone !== null && phone !== this.options.phoneNumberId) return fail(400, 100, 'the media does not belong to that phone number');
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ messaging_product: 'whatsapp', url: `${this.base}/whatsapp-media-file/${mediaId[1]}`, mime_type: media.mime, sha256: createHash('sha256').update(media.bytes).digest('hex'), file_size: media.bytes.length, id: mediaId[1] }),
        );
        return;
      }
      const whatsapp = this.options.phoneNumberId !== undefined && url.pathname === `/${this.options.version}/${this.options.phoneNumberId}/messages`;
      // A catalog's edges: /{version}/{catalog_id}/products, items_batch, localized_items_batch, check_batch_request_status.
      const shop = new RegExp(`^/${this.options.version}/(\\d+)/(\\w+)$`).exec(url.pathname);
      const catalog = shop && this.catalogItems.has(shop[1]!) ? shop : null;
      if (!catalog && (req.method !== 'POST' || (url.pathname !== `/${this.options.version}/me/messages` && !whatsapp))) return fail(404, 803, `unknown path ${req.method} ${url.pathname}`);
      if (url.searchParams.get('access_token') !== this.options.accessToken) return fail(400, 190, 'Invalid OAuth access token');
      const proof = createHmac('sha256', this.options.appSecret).update(this.options.accessToken).digest('hex');
      if (url.searchParams.get('appsecret_proof') !== proof) return fail(400, 100, 'Invalid appsecret_proof provided in the API argument');
      if (catalog) {
        const respond = (answer: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        return this.catalogOf(catalog[1]!).handle(req.method ?? 'GET', catalog[2]!, url, raw, respond, fail);
      }
      if (whatsapp) return this.whatsapp(raw, res, fail);
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
      this.onSent?.(this.sent[this.sent.length - 1]!);
      for (const wake of this.waiters.splice(0)) wake();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ recipient_id: body.recipient.id, message_id: `m_${this.sent.length}` }));
    });
  }
}

/** Checks and records a Cloud API call the way Meta documents it (message types and their limits). */
function whatsappCheck(body: Record<string, any>): string | SentMessage {
  if (body.messaging_product !== 'whatsapp') return 'messaging_product must be "whatsapp"';
  // Since 2026 a customer known only by their business-scoped user id is addressed with "recipient"; "to" wins when both come.
  if (body.to === undefined && typeof body.recipient === 'string') {
    if (!/^[A-Z]{2}\.[A-Za-z0-9]+$/.test(body.recipient)) return '"recipient" must be a business-scoped user id (a country code, a dot, letters and digits)';
    body.to = body.recipient;
  } else if (typeof body.to !== 'string' || !/^\d{8,15}$/.test(body.to)) return '"to" must be a phone number in digits (or "recipient" a business-scoped user id)';
  const chars = (s: unknown) => (typeof s === 'string' ? [...s].length : -1);
  if (body.type === 'text') {
    const t = body.text?.body;
    if (chars(t) < 1 || chars(t) > 4096) return 'text.body must have 1 to 4096 characters';
    return { recipient: body.to, messagingType: 'text', text: t };
  }
  if (body.type === 'template') {
    if (typeof body.template?.name !== 'string' || typeof body.template?.language?.code !== 'string') return 'template needs a name and language.code';
    return { recipient: body.to, messagingType: 'template', text: `template:${body.template.name}:${body.template.language.code}` };
  }
  if (body.type !== 'interactive') return `unsupported type ${JSON.stringify(body.type)}`;
  const i = body.interactive ?? {};
  if (chars(i.body?.text) < 1 || chars(i.body?.text) > 1024) return 'interactive.body.text must have 1 to 1024 characters';
  if (i.type === 'button') {
    const buttons = i.action?.buttons;
    if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 3) return 'an interactive button message has 1 to 3 buttons';
    for (const b of buttons) {
      if (b.type !== 'reply' || chars(b.reply?.title) < 1 || chars(b.reply?.title) > 20 || chars(b.reply?.id) < 1 || chars(b.reply?.id) > 256) return 'each button is a reply with a title of at most 20 characters and an id of at most 256';
    }
    return { recipient: body.to, messagingType: 'interactive:button', text: i.body.text, quickReplies: buttons.map((b: any) => ({ title: b.reply.title, payload: b.reply.id })) };
  }
  if (i.type === 'list') {
    if (chars(i.action?.button) < 1 || chars(i.action?.button) > 20) return 'a list button label has 1 to 20 characters';
    const rows = (i.action?.sections ?? []).flatMap((s: any) => s.rows ?? []);
    if (rows.length < 1 || rows.length > 10) return 'a list has 1 to 10 rows';
    for (const r of rows) {
      if (chars(r.title) < 1 || chars(r.title) > 24 || chars(r.id) < 1 || chars(r.id) > 200) return 'each row has a title of at most 24 characters and an id of at most 200';
      if (r.description !== undefined && chars(r.description) > 72) return 'a row description has at most 72 characters';
    }
    return { recipient: body.to, messagingType: 'interactive:list', text: i.body.text, quickReplies: rows.map((r: any) => ({ title: r.title, payload: r.id })) };
  }
  if (i.type === 'product' || i.type === 'product_list') {
    const a = i.action ?? {};
    if (typeof a.catalog_id !== 'string' || !/^\d+$/.test(a.catalog_id)) return 'a product message needs action.catalog_id';
    if (i.footer !== undefined && chars(i.footer?.text) > 60) return 'a footer has at most 60 characters';
    if (i.type === 'product') {
      if (i.header !== undefined) return 'a single-product message has no header';
      if (chars(a.product_retailer_id) < 1 || chars(a.product_retailer_id) > 100) return 'a single-product message needs action.product_retailer_id';
      return { recipient: body.to, messagingType: 'interactive:product', text: i.body.text, products: { catalogId: a.catalog_id, sections: [{ products: [a.product_retailer_id] }] } };
    }
    if (i.header?.type !== 'text' || chars(i.header?.text) < 1 || chars(i.header?.text) > 60) return 'a multi-product message needs a text header of 1 to 60 characters';
    const sections = a.sections;
    if (!Array.isArray(sections) || sections.length < 1 || sections.length > 10) return 'a multi-product message has 1 to 10 sections';
    let count = 0;
    for (const s of sections) {
      if ((sections.length > 1 || s.title !== undefined) && (chars(s.title) < 1 || chars(s.title) > 24)) return 'each section has a title of 1 to 24 characters';
      if (!Array.isArray(s.product_items) || s.product_items.length < 1) return 'each section has at least one product';
      for (const p of s.product_items) if (chars(p.product_retailer_id) < 1 || chars(p.product_retailer_id) > 100) return 'each product item needs a product_retailer_id';
      count += s.product_items.length;
    }
    if (count > 30) return 'a multi-product message has at most 30 products';
    return {
      recipient: body.to,
      messagingType: 'interactive:product_list',
      text: i.body.text,
      products: { catalogId: a.catalog_id, header: i.header.text, sections: sections.map((s: any) => ({ title: s.title, products: s.product_items.map((p: any) => p.product_retailer_id) })) },
    };
  }
  if (i.type === 'location_request_message') {
    // Body only: no header, footer or buttons; the action is the fixed "send_location".
    if (i.action?.name !== 'send_location') return 'a location request message has action.name "send_location"';
    if (i.header !== undefined || i.footer !== undefined) return 'a location request message has a body only';
    return { recipient: body.to, messagingType: 'interactive:location_request_message', text: i.body.text };
  }
  return `unsupported interactive type ${JSON.stringify(i.type)}`;
}

/** A webhook body as Meta sends it: JSON with every non-ASCII character escaped as \uXXXX, and its signature. */
export function signedWebhook(body: unknown, appSecret: string): { raw: string; signature: string } {
  const raw = JSON.stringify(body).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { raw, signature: `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}` };
}

let mid = 0;

/** The phone number id the WhatsApp tests configure, and their webhooks name in metadata. */
export const TEST_PHONE_NUMBER_ID = '109876543210';

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

/** A WhatsApp Cloud API webhook body with one message from `from` (text, or any message object). */
export function whatsappMessage(from: string, message: Record<string, unknown>, id = `wamid.in${++mid}`) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WABA_ID',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '212600000000', phone_number_id: TEST_PHONE_NUMBER_ID },
              contacts: [{ profile: { name: 'Client' }, wa_id: from }],
              messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), ...message }],
            },
          },
        ],
      },
    ],
  };
}

/** A WhatsApp status webhook for a sent message. */
export function whatsappStatus(wamid: string, status: string, recipient: string, error?: { code: number; title: string }) {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA_ID', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '212600000000', phone_number_id: TEST_PHONE_NUMBER_ID }, statuses: [{ id: wamid, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: recipient, ...(error ? { errors: [error] } : {}) }] } }] }],
  };
}
