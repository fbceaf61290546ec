import { Router, type Request } from 'express';
import type { Logger } from '../../logger';
import type { ChannelEvent, Inbox } from '../inbox';
import { validMetaSignature } from './signature';

/** A request whose JSON body's raw bytes the app kept, for signature checks. */
export type RawBodyRequest = Request & { rawBody?: Buffer };

/** A webhook body that is not what Meta sends for this channel; said to the sender as a 400. */
export class BadWebhookError extends Error {
  readonly code = 'TAAWUN_BAD_WEBHOOK';
}

/** The `entry` list of a Meta webhook body for `object` ("page", "whatsapp_business_account"); BadWebhookError otherwise. */
export function webhookEntries(body: unknown, object: string): unknown[] {
  if (typeof body !== 'object' || body === null) throw new BadWebhookError('the body must be a JSON object');
  const given = (body as { object?: unknown }).object;
  if (given !== object) throw new BadWebhookError(`unknown object ${JSON.stringify(given)}; this endpoint takes "${object}" webhooks`);
  const entry = (body as { entry?: unknown }).entry;
  if (!Array.isArray(entry)) throw new BadWebhookError('"entry" must be a list');
  return entry;
}

/** A part of a webhook body left unhandled on purpose, with why: logged, never answered. */
export interface WebhookDrop {
  reason: string;
  event?: string;
  sender?: string;
}

/** What a channel's parser makes of a webhook body; `record` keeps anything else the body says (delivery statuses). */
export interface ParsedWebhook {
  events: ChannelEvent[];
  ignored: number;
  dropped?: WebhookDrop[];
  record?: () => Promise<void>;
}

/**
 * GET `path` answers Meta's handshake for the right verify token only (403 otherwise).
 * POST checks X-Hub-Signature-256 over the raw bytes (401 missing, 403 wrong), records the
 * events in the durable inbox and answers 200 at once: the bot runs after.
 */
export function metaWebhook(options: {
  path: string;
  channel: string;
  verifyToken: string;
  appSecret: string;
  parse: (body: unknown) => ParsedWebhook;
  inbox: Inbox;
  log: Logger;
}): Router {
  const router = Router();
  router.get(options.path, (req, res) => {
    if (req.query['hub.mode'] === 'subscribe' && req.query['hub.verify_token'] === options.verifyToken && typeof req.query['hub.challenge'] === 'string') {
      res.type('text/plain').send(req.query['hub.challenge']);
      return;
    }
    options.log.warn({ channel: options.channel }, 'webhook verification refused: wrong verify token');
    res.status(403).json({ error: 'forbidden', message: 'wrong hub.verify_token' });
  });
  router.post(options.path, async (req: RawBodyRequest, res) => {
    const signature = req.get('x-hub-signature-256');
    if (!signature) {
      res.status(401).json({ error: 'unsigned', message: 'X-Hub-Signature-256 is missing' });
      return;
    }
    if (!req.rawBody || !validMetaSignature(req.rawBody, signature, options.appSecret)) {
      options.log.warn({ channel: options.channel }, 'webhook with a wrong signature dropped');
      res.status(403).json({ error: 'bad_signature', message: 'X-Hub-Signature-256 does not match the body' });
      return;
    }
    let parsed: ParsedWebhook;
    try {
      parsed = options.parse(req.body);
    } catch (err) {
      if (!(err instanceof BadWebhookError)) throw err;
      res.status(400).json({ error: 'bad_webhook', message: err.message });
      return;
    }
    for (const drop of parsed.dropped ?? []) options.log.warn({ channel: options.channel, ...drop }, 'webhook: part of the body dropped');
    // The events first: statuses or preferences that cannot be kept then make Meta send the body
    // again (a 500), whose events are recognised as redelivered, and its statuses applied again.
    const { recorded, duplicates } = await options.inbox.record(options.channel, parsed.events);
    await parsed.record?.();
    if (duplicates > 0) options.log.info({ channel: options.channel, duplicates }, 'redelivered events dropped');
    res.status(200).json({ received: recorded, duplicates, ignored: parsed.ignored + (parsed.dropped?.length ?? 0) });
  });
  return router;
}
