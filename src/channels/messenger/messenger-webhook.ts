import { Router, type Request } from 'express';
import type { Logger } from '../../logger';
import type { Inbox } from '../inbox';
import { validMetaSignature } from '../meta/signature';
import { MESSENGER_CHANNEL } from './messenger-adapter';
import { BadWebhookError, parseMessengerWebhook } from './messenger-events';

/** The raw bytes of a JSON body, kept by the app's JSON parser for signature checks. */
export type RawBodyRequest = Request & { rawBody?: Buffer };

/**
 * GET /webhooks/messenger answers Meta's handshake for the right verify token only (403
 * otherwise). POST checks X-Hub-Signature-256 over the raw bytes (401 missing, 403 wrong),
 * records the events in the durable inbox and answers 200 at once: the bot runs after.
 */
export function messengerWebhook(options: { verifyToken: string; appSecret: string; inbox: Inbox; log: Logger }): Router {
  const router = Router();
  router.get('/webhooks/messenger', (req, res) => {
    if (req.query['hub.mode'] === 'subscribe' && req.query['hub.verify_token'] === options.verifyToken && typeof req.query['hub.challenge'] === 'string') {
      res.type('text/plain').send(req.query['hub.challenge']);
      return;
    }
    options.log.warn({ channel: MESSENGER_CHANNEL }, 'Messenger verification refused: wrong verify token');
    res.status(403).json({ error: 'forbidden', message: 'wrong hub.verify_token' });
  });
  router.post('/webhooks/messenger', async (req: RawBodyRequest, res) => {
    const signature = req.get('x-hub-signature-256');
    if (!signature) {
      res.status(401).json({ error: 'unsigned', message: 'X-Hub-Signature-256 is missing' });
      return;
    }
    if (!req.rawBody || !validMetaSignature(req.rawBody, signature, options.appSecret)) {
      options.log.warn({ channel: MESSENGER_CHANNEL }, 'Messenger webhook with a wrong signature dropped');
      res.status(403).json({ error: 'bad_signature', message: 'X-Hub-Signature-256 does not match the body' });
      return;
    }
    let parsed: ReturnType<typeof parseMessengerWebhook>;
    try {
      parsed = parseMessengerWebhook(req.body);
    } catch (err) {
      if (!(err instanceof BadWebhookError)) throw err;
      res.status(400).json({ error: 'bad_webhook', message: err.message });
      return;
    }
    const { recorded, duplicates } = await options.inbox.record(MESSENGER_CHANNEL, parsed.events);
    if (duplicates > 0) options.log.info({ channel: MESSENGER_CHANNEL, duplicates }, 'redelivered Messenger events dropped');
    res.status(200).json({ received: recorded, duplicates, ignored: parsed.ignored });
  });
  return router;
}
