import type { ChannelEvent, ChannelReferral } from '../inbox';
import { webhookEntries, type WebhookDrop } from '../meta/meta-webhook';
import { list, obj, str, type Json } from '../meta/webhook-json';

/** A Messenger delivery or read report: the messages it names (`mids`) or all sent up to `watermark`. */
export interface MessengerStatus {
  sender: string;
  status: 'delivered' | 'read';
  mids: string[];
  watermark: number;
}

/** What a Messenger webhook says, taken apart. */
export interface ParsedMessengerWebhook {
  events: ChannelEvent[];
  statuses: MessengerStatus[];
  dropped: WebhookDrop[];
  ignored: number;
}


// Milliseconds past which a time is none (the year 9999): such a timestamp is taken as now.
const MAX_TIME = 253_402_300_800_000;
// The payload Pages commonly give their Get Started button: it greets, like the welcome flow's own.
const GET_STARTED = /^_*get_started_*$/i;
/** The payload that starts the welcome flow (flows/welcome.yml). */
export const WELCOME_PAYLOAD = 'WELCOME';

/**
 * The customer events and delivery reports of a Messenger webhook body, for the configured
 * Page only (`pageId`; every Page when unset): texts, quick replies, postbacks, attachments,
 * m.me and ad referrals (a greeting), reactions and edits (notices). Echoes of the Page's own
 * messages, standby events and opt-ins without a sender are dropped with their reason.
 * Throws BadWebhookError for a body that is not a page webhook.
 */
export function parseMessengerWebhook(body: unknown, options: { pageId?: string } = {}): ParsedMessengerWebhook {
  const out: ParsedMessengerWebhook = { events: [], statuses: [], dropped: [], ignored: 0 };
  for (const e of webhookEntries(body, 'page')) {
    const entry = obj(e) ?? {};
    if (options.pageId && String(entry.id) !== options.pageId) {
      out.dropped.push({ reason: `for Page ${JSON.stringify(entry.id)}, not this server's ${options.pageId}` });
      continue;
    }
    if (Array.isArray(entry.standby)) out.dropped.push({ reason: `${entry.standby.length} standby event(s): another app has these conversations` });
    if (!Array.isArray(entry.messaging)) {
      if (!Array.isArray(entry.standby)) out.ignored += 1;
      continue;
    }
    for (const item of list(entry.messaging)) messaging(item, out);
  }
  return out;
}

function referralOf(r: Json | undefined): ChannelReferral | undefined {
  if (!r) return undefined;
  return { source: str(r.source) ?? 'unknown', ...(str(r.ref) ? { ref: str(r.ref) } : {}), ...(str(r.ad_id) ? { adId: str(r.ad_id) } : {}) };
}

function messaging(item: Json, out: ParsedMessengerWebhook): void {
  const sender = str(obj(item.sender)?.id);
  const timestamp = typeof item.timestamp === 'number' && item.timestamp > 0 && item.timestamp < MAX_TIME ? item.timestamp : Date.now();
  const message = obj(item.message);
  if (message?.is_echo) {
    out.dropped.push({ reason: "an echo of the Page's own message", ...(str(message.mid) ? { event: str(message.mid) } : {}) });
    return;
  }
  if (!sender) {
    out.dropped.push({ reason: item.optin ? 'an opt-in without a sender (a plugin user_ref): nobody to answer' : 'an event without a sender' });
    return;
  }
  const delivery = obj(item.delivery);
  const read = obj(item.read);
  if (delivery || read) {
    const report = (delivery ?? read)!;
    const watermark = Number(report.watermark);
    out.statuses.push({ sender, status: delivery ? 'delivered' : 'read', mids: Array.isArray(report.mids) ? report.mids.filter((m): m is string => typeof m === 'string') : [], watermark: watermark > 0 && watermark < MAX_TIME ? watermark : 0 });
    return;
  }
  if (message && str(message.mid)) {
    const mid = str(message.mid)!;
    const attachments = list(message.attachments).map((a) => ({ type: str(a.type) ?? 'file', ...(str(obj(a.payload)?.url) ? { url: str(obj(a.payload)?.url) } : {}) }));
    // A shared link arrives as a "fallback" attachment with its title: that is what the customer meant.
    const shared = list(message.attachments).filter((a) => a.type === 'fallback').map((a) => [str(a.title), str(a.URL) ?? str(a.url)].filter(Boolean).join(' '));
    const text = clean([str(message.text), ...shared].filter(Boolean).join('\n'));
    const replyTo = obj(message.reply_to);
    out.events.push({
      id: mid,
      sender,
      text,
      ...(str(obj(message.quick_reply)?.payload) ? { payload: str(obj(message.quick_reply)?.payload) } : {}),
      ...(attachments.length ? { attachments } : {}),
      // The thumbs-up button sends a sticker: answered like WhatsApp's stickers.
      ...(message.sticker_id !== undefined && !text ? { short: 'sticker' as const } : {}),
      ...(replyTo ? { content: { context: replyTo } } : {}),
      timestamp,
    });
    return;
  }
  const postback = obj(item.postback);
  if (postback) {
    const referral = referralOf(obj(postback.referral));
    const payload = str(postback.payload);
    out.events.push({
      // Postbacks carry a mid since Graph v8; older ones are identified by sender and time.
      id: str(postback.mid) ?? `postback:${sender}:${timestamp}`,
      sender,
      text: clean(str(postback.title) ?? ''),
      ...(payload ? { payload: GET_STARTED.test(payload) ? WELCOME_PAYLOAD : payload } : {}),
      ...(referral ? { referral } : {}),
      timestamp,
    });
    return;
  }
  const referral = referralOf(obj(item.referral));
  if (referral) {
    // An m.me link or an ad opened the conversation: greeted, and where they came from is kept.
    out.events.push({ id: `referral:${sender}:${timestamp}`, sender, text: '', payload: WELCOME_PAYLOAD, referral, timestamp });
    return;
  }
  const reaction = obj(item.reaction);
  if (reaction) {
    if (!str(reaction.mid)) return void out.dropped.push({ reason: 'a reaction without the message it is about', sender });
    out.events.push({ id: `reaction:${str(reaction.mid)}:${sender}:${timestamp}`, sender, text: '', kind: 'reaction', about: str(reaction.mid), emoji: reaction.action === 'unreact' ? '' : (str(reaction.emoji) ?? str(reaction.reaction) ?? ''), timestamp });
    return;
  }
  const edit = obj(item.message_edit);
  if (edit) {
    if (!str(edit.mid)) return void out.dropped.push({ reason: 'an edit without the message it changes', sender });
    out.events.push({ id: `edit:${str(edit.mid)}:${Number(edit.num_edit) || timestamp}`, sender, text: clean(str(edit.text) ?? ''), kind: 'edit', about: str(edit.mid), timestamp });
    return;
  }
  out.dropped.push({ reason: `an event of a kind this server does not take (${Object.keys(item).filter((k) => !['sender', 'recipient', 'timestamp'].includes(k)).join(', ') || 'empty'})`, sender });
}

/** Text as the bot should read it: NFC, no control or direction-override characters, bounded. */
export function clean(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g, '')
    .slice(0, 4096);
}
