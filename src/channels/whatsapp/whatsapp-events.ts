import type { ChannelEvent } from '../inbox';
import { clean } from '../messenger/messenger-events';
import { webhookEntries } from '../meta/meta-webhook';

/** A delivery report of a message the business sent. */
export interface WhatsAppStatus {
  id: string;
  status: string;
  recipient: string;
  at: Date;
  error?: { code: number; title: string };
}

interface CloudMessage {
  from?: unknown;
  id?: unknown;
  timestamp?: unknown;
  type?: unknown;
  text?: { body?: unknown };
  interactive?: { type?: unknown; button_reply?: { id?: unknown; title?: unknown }; list_reply?: { id?: unknown; title?: unknown } };
  button?: { payload?: unknown; text?: unknown };
  location?: { latitude?: unknown; longitude?: unknown; name?: unknown; address?: unknown };
  image?: { id?: unknown; caption?: unknown };
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * Customer events and delivery statuses of a WhatsApp Cloud API webhook: texts, button and
 * list replies, template button answers, locations and images; other types are answered
 * like attachments. Throws BadWebhookError for a body that is not a WhatsApp webhook.
 */
export function parseWhatsAppWebhook(body: unknown): { events: ChannelEvent[]; statuses: WhatsAppStatus[]; ignored: number } {
  const entry = webhookEntries(body, 'whatsapp_business_account');
  const events: ChannelEvent[] = [];
  const statuses: WhatsAppStatus[] = [];
  let ignored = 0;
  for (const e of entry) {
    const changes = (e as { changes?: unknown }).changes;
    if (!Array.isArray(changes)) {
      ignored += 1;
      continue;
    }
    for (const change of changes as { field?: unknown; value?: { messages?: unknown; statuses?: unknown } }[]) {
      if (change.field !== 'messages' || !change.value) {
        ignored += 1;
        continue;
      }
      for (const m of (Array.isArray(change.value.messages) ? change.value.messages : []) as CloudMessage[]) {
        const sender = str(m.from);
        const id = str(m.id);
        if (!sender || !id) {
          ignored += 1;
          continue;
        }
        const timestamp = Number(m.timestamp) > 0 ? Number(m.timestamp) * 1000 : Date.now();
        const base = { id, sender, timestamp };
        switch (m.type) {
          case 'text':
            events.push({ ...base, text: clean(str(m.text?.body) ?? '') });
            break;
          case 'interactive': {
            const reply = m.interactive?.button_reply ?? m.interactive?.list_reply;
            events.push({ ...base, text: clean(str(reply?.title) ?? ''), ...(str(reply?.id) ? { payload: str(reply?.id) } : {}) });
            break;
          }
          case 'button':
            events.push({ ...base, text: clean(str(m.button?.text) ?? ''), ...(str(m.button?.payload) ? { payload: str(m.button?.payload) } : {}) });
            break;
          case 'location': {
            const l = m.location ?? {};
            const place = [str(l.name), str(l.address)].filter(Boolean).join(', ');
            const coords = `${Number(l.latitude)},${Number(l.longitude)}`;
            // A shared location answers "where should we deliver?" as well as a typed address.
            events.push({ ...base, text: clean(place || coords), attachments: [{ type: 'location', url: `https://maps.google.com/?q=${coords}` }] });
            break;
          }
          case 'image':
            events.push({ ...base, text: clean(str(m.image?.caption) ?? ''), attachments: [{ type: 'image', ...(str(m.image?.id) ? { url: `whatsapp-media:${str(m.image?.id)}` } : {}) }] });
            break;
          default:
            events.push({ ...base, text: '', attachments: [{ type: String(m.type ?? 'unknown') }] });
        }
      }
      for (const s of (Array.isArray(change.value.statuses) ? change.value.statuses : []) as Record<string, unknown>[]) {
        const id = str(s.id);
        if (!id || !str(s.status)) continue;
        const err = Array.isArray(s.errors) ? (s.errors[0] as { code?: unknown; title?: unknown } | undefined) : undefined;
        statuses.push({
          id,
          status: str(s.status)!,
          recipient: str(s.recipient_id) ?? '',
          at: new Date(Number(s.timestamp) > 0 ? Number(s.timestamp) * 1000 : Date.now()),
          ...(err ? { error: { code: Number(err.code), title: String(err.title ?? '') } } : {}),
        });
      }
    }
  }
  return { events, statuses, ignored };
}
