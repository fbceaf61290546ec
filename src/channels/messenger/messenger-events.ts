import type { ChannelEvent } from '../inbox';
import { webhookEntries } from '../meta/meta-webhook';

interface MessagingItem {
  sender?: { id?: unknown };
  timestamp?: unknown;
  message?: { mid?: unknown; text?: unknown; is_echo?: unknown; quick_reply?: { payload?: unknown }; attachments?: { type?: unknown; payload?: { url?: unknown } }[] };
  postback?: { mid?: unknown; title?: unknown; payload?: unknown };
  delivery?: unknown;
  read?: unknown;
}

/**
 * The customer events of a Messenger webhook body: texts, quick replies, postbacks and
 * attachments. Echoes of the page's own messages, deliveries and reads are counted as
 * ignored. Throws BadWebhookError for a body that is not a page webhook.
 */
export function parseMessengerWebhook(body: unknown): { events: ChannelEvent[]; ignored: number } {
  const entry = webhookEntries(body, 'page');
  const events: ChannelEvent[] = [];
  let ignored = 0;
  for (const e of entry) {
    const messaging = (e as { messaging?: unknown }).messaging;
    if (!Array.isArray(messaging)) {
      ignored += 1;
      continue;
    }
    for (const item of messaging as MessagingItem[]) {
      const sender = typeof item.sender?.id === 'string' ? item.sender.id : undefined;
      const timestamp = typeof item.timestamp === 'number' ? item.timestamp : Date.now();
      if (!sender || item.delivery || item.read || item.message?.is_echo) {
        ignored += 1;
        continue;
      }
      if (item.message && typeof item.message.mid === 'string') {
        const m = item.message;
        const attachments = Array.isArray(m.attachments)
          ? m.attachments.map((a) => ({ type: String(a.type ?? 'file'), ...(typeof a.payload?.url === 'string' ? { url: a.payload.url } : {}) }))
          : undefined;
        events.push({
          id: m.mid as string,
          sender,
          text: clean(typeof m.text === 'string' ? m.text : ''),
          ...(typeof m.quick_reply?.payload === 'string' ? { payload: m.quick_reply.payload } : {}),
          ...(attachments?.length ? { attachments } : {}),
          timestamp,
        });
      } else if (item.postback) {
        const p = item.postback;
        events.push({
          // Postbacks carry a mid since Graph v8; older ones are identified by sender and time.
          id: typeof p.mid === 'string' ? p.mid : `postback:${sender}:${timestamp}`,
          sender,
          text: clean(typeof p.title === 'string' ? p.title : ''),
          ...(typeof p.payload === 'string' ? { payload: p.payload } : {}),
          timestamp,
        });
      } else ignored += 1;
    }
  }
  return { events, ignored };
}

/** Text as the bot should read it: NFC, no control or direction-override characters, bounded. */
export function clean(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g, '')
    .slice(0, 4096);
}
