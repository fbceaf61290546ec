import type { ChannelEvent, ChannelReferral } from '../inbox';
import { clean } from '../messenger/messenger-events';
import { webhookEntries, type WebhookDrop } from '../meta/meta-webhook';
import { list, obj, str, type Json } from '../meta/webhook-json';
import { isBsuid, isWhatsAppPhone, senderOf, type WhatsAppIdentity } from './whatsapp-identity';

/** A delivery report of a message the business sent. */
export interface WhatsAppStatus {
  id: string;
  status: string;
  /** The recipient's phone (`recipient_id`), when Meta gave it. */
  recipient?: string;
  /** The recipient's BSUID (`recipient_user_id`): the only id of a username customer. */
  recipientUserId?: string;
  at: Date;
  error?: { code: number; title: string };
}

/** A `value.errors` notice: Meta telling the business something failed (a throughput limit, an unsupported payload). */
export interface WhatsAppError {
  code: number;
  title: string;
  details?: string;
}

/** What a WhatsApp Cloud API webhook says, taken apart. */
export interface ParsedWhatsAppWebhook {
  events: ChannelEvent[];
  statuses: WhatsAppStatus[];
  /** Customers' marketing choices (`user_preferences`). */
  preferences: { identity: WhatsAppIdentity; category: string; value: string; at: Date }[];
  errors: WhatsAppError[];
  /** Parts left unhandled on purpose, each with why (logged by the webhook). */
  dropped: WebhookDrop[];
  ignored: number;
}

// A time in seconds as Meta sends it; what is no time (absent, not a number, past the year 9999) is now.
const seconds = (v: unknown) => (Number(v) > 0 && Number(v) < 253_402_300_800 ? Number(v) * 1000 : Date.now());

/** A copy whose keys a database takes: no dots and no leading "$" (a Flow's field names are the business's own). */
export function storableKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(storableKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/\./g, '_').replace(/^\$/, '_'), storableKeys(v)]));
}

// Message types whose media the bot does not read yet: kept (with their caption as text) for the staff.
const MEDIA = new Set(['image', 'video', 'document', 'audio', 'sticker']);

/**
 * Events, statuses and notices of a WhatsApp Cloud API webhook (`messages` and
 * `smb_message_echoes` fields, `user_preferences`), for the configured phone number id only:
 * what came for another number of the account is dropped with its reason. Customers are named
 * by phone and/or BSUID (a BSUID of the wrong shape is dropped). Throws BadWebhookError for a
 * body that is not a WhatsApp webhook.
 */
export function parseWhatsAppWebhook(body: unknown, options: { phoneNumberId?: string } = {}): ParsedWhatsAppWebhook {
  const out: ParsedWhatsAppWebhook = { events: [], statuses: [], preferences: [], errors: [], dropped: [], ignored: 0 };
  for (const e of webhookEntries(body, 'whatsapp_business_account')) {
    const changes = obj(e)?.changes;
    if (!Array.isArray(changes)) {
      out.ignored += 1;
      continue;
    }
    for (const change of list(changes)) {
      const value = obj(change.value);
      const field = str(change.field);
      if (!value || !field || !['messages', 'smb_message_echoes', 'user_preferences'].includes(field)) {
        out.dropped.push({ reason: `field ${JSON.stringify(change.field)} is not one this server takes` });
        continue;
      }
      const numberId = str(obj(value.metadata)?.phone_number_id);
      if (options.phoneNumberId && numberId !== options.phoneNumberId) {
        out.dropped.push({ reason: `for phone number id ${JSON.stringify(numberId)}, not this server's ${options.phoneNumberId}` });
        continue;
      }
      for (const err of list(value.errors)) out.errors.push(errorOf(err));
      const contacts = list(value.contacts);
      if (field === 'smb_message_echoes') {
        for (const m of list(value.message_echoes)) echo(m, out);
        continue;
      }
      if (field === 'user_preferences') {
        for (const p of list(value.user_preferences)) {
          const identity = identityOf(str(p.wa_id), str(p.user_id), undefined, out);
          if (identity && str(p.category) && str(p.value)) out.preferences.push({ identity, category: str(p.category)!, value: str(p.value)!, at: new Date(seconds(p.timestamp)) });
        }
        continue;
      }
      for (const m of list(value.messages)) message(m, contacts, out);
      for (const s of list(value.statuses)) status(s, out);
    }
  }
  return out;
}

function errorOf(err: Json): WhatsAppError {
  const details = str(obj(err.error_data)?.details);
  return { code: Number(err.code), title: str(err.title) ?? str(err.message) ?? '', ...(details ? { details } : {}) };
}

/**
 * A customer's identity from a message's sender fields and the contact that goes with it
 * (`contacts[]` by `wa_id` or `user_id`, or the only one): undefined, with a drop, when no usable id is left.
 */
function identityOf(phone: string | undefined, userId: string | undefined, contact: Json | undefined, out: ParsedWhatsAppWebhook): WhatsAppIdentity | undefined {
  const profile = obj(contact?.profile);
  const rawBsuid = userId ?? str(contact?.user_id);
  const rawPhone = phone ?? str(contact?.wa_id);
  const identity: WhatsAppIdentity = {};
  if (rawPhone) {
    if (isWhatsAppPhone(rawPhone)) identity.phone = rawPhone;
    else out.dropped.push({ reason: `phone ${JSON.stringify(rawPhone)} is not digits with a country code`, sender: rawPhone });
  }
  if (rawBsuid) {
    if (isBsuid(rawBsuid)) identity.bsuid = rawBsuid;
    else out.dropped.push({ reason: `user id ${JSON.stringify(rawBsuid)} is not a business-scoped user id (a country code, a dot, letters and digits)`, sender: rawBsuid });
  }
  const parent = str(contact?.parent_user_id);
  if (parent && isBsuid(parent)) identity.parentBsuid = parent;
  if (str(profile?.username)) identity.username = str(profile?.username)!.replace(/^@/, '');
  if (str(profile?.name)) identity.name = clean(str(profile?.name)!).slice(0, 200);
  return identity.phone || identity.bsuid ? identity : undefined;
}

function contactFor(contacts: Json[], phone: string | undefined, userId: string | undefined): Json | undefined {
  const found = contacts.find((c) => (phone && c.wa_id === phone) || (userId && c.user_id === userId));
  if (found) return found;
  // The only contact, unless it names someone else (another phone or user id than the sender's).
  const only = contacts.length === 1 ? contacts[0]! : undefined;
  if (!only || (phone && str(only.wa_id) && only.wa_id !== phone) || (userId && str(only.user_id) && only.user_id !== userId)) return undefined;
  return only;
}

function referralOf(r: Json | undefined): ChannelReferral | undefined {
  if (!r) return undefined;
  const referral: ChannelReferral = { source: str(r.source_type) ?? str(r.source) ?? 'unknown' };
  if (str(r.source_id)) referral.adId = str(r.source_id);
  if (str(r.source_url)) referral.sourceUrl = str(r.source_url);
  if (str(r.ctwa_clid)) referral.ctwaClid = str(r.ctwa_clid);
  if (str(r.headline)) referral.headline = str(r.headline);
  return referral;
}

function message(m: Json, contacts: Json[], out: ParsedWhatsAppWebhook): void {
  const id = str(m.id);
  const phone = str(m.from);
  const userId = str(m.from_user_id);
  const type = str(m.type);
  if (!id) {
    out.dropped.push({ reason: 'a message without an id' });
    return;
  }
  const identity = identityOf(phone, userId, contactFor(contacts, phone, userId), out);
  if (!identity) {
    out.dropped.push({ reason: 'a message without a phone or a valid user id', event: id });
    return;
  }
  const base: ChannelEvent = { id, sender: senderOf(identity)!, text: '', timestamp: seconds(m.timestamp), identity };
  const context = obj(m.context);
  const content: Json = {};
  if (context) content.context = context;
  const referral = referralOf(obj(m.referral));
  if (referral) base.referral = referral;
  const push = (event: Partial<ChannelEvent>) => {
    const all = { ...content, ...(event.content ?? {}) };
    out.events.push({ ...base, ...event, ...(Object.keys(all).length > 0 ? { content: storableKeys(all) as Json } : {}) });
  };
  switch (type) {
    case 'text':
      return push({ text: clean(str(obj(m.text)?.body) ?? '') });
    case 'interactive': {
      const i = obj(m.interactive);
      const reply = obj(i?.button_reply) ?? obj(i?.list_reply);
      if (reply) return push({ text: clean(str(reply.title) ?? ''), ...(str(reply.id) ? { payload: str(reply.id) } : {}) });
      const nfm = obj(i?.nfm_reply);
      if (nfm) {
        // A WhatsApp Flow's answers: its response_json is a string of JSON.
        let answers: unknown;
        try {
          answers = JSON.parse(str(nfm.response_json) ?? '{}');
        } catch {
          answers = { unreadable: str(nfm.response_json) };
        }
        return push({ payload: `FLOW_RESPONSE:${str(nfm.name) ?? 'flow'}`, short: 'form', content: { flowResponse: obj(answers) ?? { value: answers } } });
      }
      // An interactive message Meta could not describe (it says so in value.errors): answered as unsupported.
      return push({ short: 'unsupported', content: { unsupported: 'interactive' } });
    }
    case 'button': {
      const b = obj(m.button);
      return push({ text: clean(str(b?.text) ?? ''), ...(str(b?.payload) ? { payload: str(b?.payload) } : {}) });
    }
    case 'location': {
      const l = obj(m.location) ?? {};
      const place = [str(l.name), str(l.address)].filter(Boolean).join(', ');
      const coords = `${Number(l.latitude)},${Number(l.longitude)}`;
      // A shared location answers "where should we deliver?" as well as a typed address.
      return push({ text: clean(place || coords), attachments: [{ type: 'location', url: `https://maps.google.com/?q=${coords}` }], content: { location: l } });
    }
    case 'contacts':
      return push({ short: 'contacts', content: { contacts: m.contacts } });
    case 'order': {
      // A cart from the catalog: kept whole, and it starts the order flow (payload CART) with its lines.
      const order = obj(m.order) ?? {};
      return push({ text: clean(str(order.text) ?? ''), payload: 'CART', short: 'order', content: { order } });
    }
    case 'unsupported':
      return push({ short: 'unsupported', content: { unsupported: str(obj(m.unsupported)?.type) ?? 'unknown', ...(Array.isArray(m.errors) ? { errors: list(m.errors).map(errorOf) } : {}) } });
    case 'reaction': {
      const r = obj(m.reaction);
      if (!str(r?.message_id)) return void out.dropped.push({ reason: 'a reaction without the message it is about', event: id });
      return push({ kind: 'reaction', about: str(r!.message_id), emoji: str(r!.emoji) ?? '' });
    }
    case 'edit': {
      const e = obj(m.edit);
      const edited = obj(e?.message);
      if (!str(e?.original_message_id) || !edited) return void out.dropped.push({ reason: 'an edit without the message it changes', event: id });
      const kind = str(edited.type);
      const text = kind === 'text' ? str(obj(edited.text)?.body) : str(obj(edited[kind ?? ''])?.caption);
      return push({ kind: 'edit', about: str(e!.original_message_id), text: clean(text ?? '') });
    }
    case 'revoke': {
      const r = obj(m.revoke);
      if (!str(r?.original_message_id)) return void out.dropped.push({ reason: 'a deletion without the message it deletes', event: id });
      return push({ kind: 'delete', about: str(r!.original_message_id) });
    }
    case 'system': {
      const s = obj(m.system) ?? {};
      if (s.type === 'user_changed_number') {
        const next = str(s.wa_id);
        if (!next || !isWhatsAppPhone(next)) return void out.dropped.push({ reason: 'a number change without the new number', event: id });
        return push({ kind: 'number-change', content: { newPhone: next, ...(str(s.user_id) && isBsuid(str(s.user_id)!) ? { newBsuid: str(s.user_id) } : {}) } });
      }
      if (s.type === 'user_changed_user_id') {
        const next = str(s.user_id);
        if (!next || !isBsuid(next)) return void out.dropped.push({ reason: 'a user id change without a valid new user id', event: id });
        return push({ kind: 'number-change', content: { newBsuid: next } });
      }
      if (s.type === 'customer_identity_changed') return push({ kind: 'identity-change', content: { identity: m.identity ?? null } });
      return void out.dropped.push({ reason: `system message of unknown type ${JSON.stringify(s.type)}`, event: id });
    }
    default:
      if (type && MEDIA.has(type)) {
        const media = obj(m[type]) ?? {};
        const mediaId = str(media.id);
        const caption = str(media.caption);
        return push({
          text: clean(caption ?? ''),
          attachments: [{ type: type === 'audio' && media.voice === true ? 'voice' : type, ...(mediaId ? { url: `whatsapp-media:${mediaId}` } : {}) }],
          content: { [type]: media },
          ...(type === 'sticker' ? { short: 'sticker' as const } : {}),
        });
      }
      out.dropped.push({ reason: `message type ${JSON.stringify(m.type)} is unknown`, event: id });
  }
}

function echo(m: Json, out: ParsedWhatsAppWebhook): void {
  const id = str(m.id);
  const identity = identityOf(str(m.to), str(m.to_user_id), undefined, out);
  if (!id || !identity) {
    out.dropped.push({ reason: 'an echo of the Business app without an id or a customer', ...(id ? { event: id } : {}) });
    return;
  }
  const type = str(m.type);
  const text = type === 'text' ? str(obj(m.text)?.body) : str(obj(m[type ?? ''])?.caption);
  out.events.push({ id, sender: senderOf(identity)!, text: clean(text ?? (type ? `[${type}]` : '')), timestamp: seconds(m.timestamp), identity, kind: 'echo' });
}

function status(s: Json, out: ParsedWhatsAppWebhook): void {
  const id = str(s.id);
  if (!id || !str(s.status)) {
    out.dropped.push({ reason: 'a status without an id or a status' });
    return;
  }
  // A group's statuses name a group and a participant: this server sends to no group.
  if (s.recipient_type === 'group') {
    out.dropped.push({ reason: 'a status of a group message', event: id });
    return;
  }
  const err = list(s.errors)[0];
  const recipient = str(s.recipient_id);
  const recipientUserId = str(s.recipient_user_id);
  out.statuses.push({
    id,
    status: str(s.status)!,
    ...(recipient ? { recipient } : {}),
    ...(recipientUserId && isBsuid(recipientUserId) ? { recipientUserId } : {}),
    at: new Date(seconds(s.timestamp)),
    ...(err ? { error: { code: Number(err.code), title: str(err.title) ?? '' } } : {}),
  });
}
