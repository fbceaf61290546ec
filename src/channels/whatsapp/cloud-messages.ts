import type { Activity } from 'botbuilder';
import { quickRepliesOf, type QuickReply } from '../../bot/quick-replies';

/** WhatsApp Cloud API limits for one message. */
export const WHATSAPP_LIMITS = {
  text: 4096,
  interactiveBody: 1024,
  buttons: 3,
  buttonTitle: 20,
  rows: 10,
  rowTitle: 24,
  rowDescription: 72,
  listButton: 20,
  id: 200,
  // Multi-product messages: 30 products in at most 10 sections, a header of 60 characters.
  products: 30,
  sections: 10,
  sectionTitle: 24,
  header: 60,
};

/** A message body for POST /{phone-number-id}/messages (without messaging_product and to), and numbered choices it offered. */
export interface CloudMessage {
  body: Record<string, unknown>;
  numbered?: QuickReply[];
  /** What to send instead when WhatsApp refuses this one (a product message the Meta catalog cannot show). */
  fallback?: Record<string, unknown>;
}

/** Products from the WhatsApp catalog to show in a message: by section, with the multi-product message's header. */
export interface ProductShelf {
  catalogId: string;
  header: string;
  sections: { title: string; products: string[] }[];
}

/**
 * One turn's activities as WhatsApp messages: consecutive texts combined; choices as reply
 * buttons (3 at most, 20 characters), else as a list (10 rows, 24 characters), else as a
 * numbered text the customer answers with a digit.
 */
export function toCloudMessages(activities: Partial<Activity>[], listButton: string, shelfOf?: (products: unknown) => ProductShelf | undefined): CloudMessage[] {
  const out: CloudMessage[] = [];
  let pending: string[] = [];
  const text = (t: string) => split(t).forEach((body) => out.push({ body: { type: 'text', text: { body, preview_url: false } } }));
  const flush = (last?: { text: string; replies: QuickReply[] }) => {
    const joined = [...pending, ...(last ? [last.text] : [])].filter((t) => t.trim()).join('\n\n');
    pending = [];
    if (!last) {
      if (joined) text(joined);
      return;
    }
    const r = last.replies;
    const chars = (s: string) => [...s].length;
    const idsFit = r.every((q) => (q.payload || q.title).length <= WHATSAPP_LIMITS.id);
    const kind =
      idsFit && r.length <= WHATSAPP_LIMITS.buttons && r.every((q) => chars(q.title) <= WHATSAPP_LIMITS.buttonTitle)
        ? 'button'
        : idsFit && r.length <= WHATSAPP_LIMITS.rows && r.every((q) => chars(q.title) <= WHATSAPP_LIMITS.rowDescription)
          ? 'list'
          : 'numbered';
    if (kind === 'numbered') {
      const pieces = split(`${joined}\n${r.map((q, i) => `${i + 1}. ${q.title}`).join('\n')}`);
      pieces.forEach((body, i) => out.push({ body: { type: 'text', text: { body, preview_url: false } }, ...(i === pieces.length - 1 ? { numbered: r } : {}) }));
      return;
    }
    // The interactive body holds 1,024 characters: what is longer goes first as text.
    let body = joined || '…';
    if (chars(body) > WHATSAPP_LIMITS.interactiveBody) {
      const cut = body.lastIndexOf('\n\n', WHATSAPP_LIMITS.interactiveBody);
      const head = cut > 0 ? body.slice(0, cut) : body.slice(0, body.length - WHATSAPP_LIMITS.interactiveBody);
      text(head);
      body = body.slice(head.length).trim().slice(0, WHATSAPP_LIMITS.interactiveBody) || '…';
    }
    const action =
      kind === 'button'
        ? { buttons: r.map((q) => ({ type: 'reply', reply: { id: q.payload || q.title, title: q.title } })) }
        : { button: [...listButton].slice(0, WHATSAPP_LIMITS.listButton).join(''), sections: [{ rows: r.map((q) => listRow(q)) }] };
    out.push({ body: { type: 'interactive', interactive: { type: kind, body: { text: body }, action } } });
  };
  for (const activity of activities) {
    if (activity.type !== 'message') continue;
    const replies = quickRepliesOf(activity);
    if (replies) flush({ text: activity.text ?? '', replies });
    else if (activity.channelData?.products && shelfOf?.(activity.channelData.products)) {
      // Products the message is about, from the catalog linked to the number: the text as the body.
      pending.push(activity.text ?? '');
      const joined = pending.filter((t) => t.trim()).join('\n\n');
      pending = [];
      const body = interactiveBody(joined, text);
      // Refused, the body goes as text (what came before it is already sent).
      out.push({ ...productMessage(shelfOf(activity.channelData.products)!, body), fallback: { type: 'text', text: { body, preview_url: false } } });
    } else if (activity.channelData?.askLocation) {
      // An address question: WhatsApp's location request shows a "Send your location" button under it.
      pending.push(activity.text ?? '');
      const joined = pending.filter((t) => t.trim()).join('\n\n');
      pending = [];
      const body = interactiveBody(joined, text);
      out.push({ body: { type: 'interactive', interactive: { type: 'location_request_message', body: { text: body }, action: { name: 'send_location' } } }, fallback: { type: 'text', text: { body, preview_url: false } } });
    } else pending.push(activity.text ?? '');
  }
  flush();
  return out;
}

/** The end of a text that fits an interactive body (1,024 characters, from a line's start when it can); what comes before goes first as text (`send`). */
function interactiveBody(joined: string, send: (text: string) => void): string {
  const chars = [...joined];
  const limit = WHATSAPP_LIMITS.interactiveBody;
  if (chars.length <= limit) return joined || '…';
  const start = chars.length - limit;
  // The first line break at or after where the body must start: what follows it fits.
  const lineBreak = chars.indexOf('\n', start - 1);
  const cut = lineBreak >= 0 ? lineBreak + 1 : start;
  send(chars.slice(0, cut).join('').trimEnd());
  return chars.slice(cut).join('').trim() || '…';
}

/** A single-product message for one product, a multi-product message (sections, a header) for more. */
function productMessage(shelf: ProductShelf, body: string): CloudMessage {
  const all = shelf.sections.flatMap((s) => s.products);
  if (all.length === 1) {
    return { body: { type: 'interactive', interactive: { type: 'product', body: { text: body }, action: { catalog_id: shelf.catalogId, product_retailer_id: all[0] } } } };
  }
  const cut = (s: string, n: number) => ([...s].length <= n ? s : `${[...s].slice(0, n - 1).join('')}…`);
  const sections = shelf.sections.map((s) => ({ title: cut(s.title, WHATSAPP_LIMITS.sectionTitle), product_items: s.products.map((id) => ({ product_retailer_id: id })) }));
  return {
    body: {
      type: 'interactive',
      interactive: { type: 'product_list', header: { type: 'text', text: cut(shelf.header, WHATSAPP_LIMITS.header) }, body: { text: body }, action: { catalog_id: shelf.catalogId, sections } },
    },
  };
}

/** A list row: a title over 24 characters is shortened, and said whole in the description. */
function listRow(q: QuickReply): { id: string; title: string; description?: string } {
  const chars = [...q.title];
  if (chars.length <= WHATSAPP_LIMITS.rowTitle) return { id: q.payload || q.title, title: q.title };
  return { id: q.payload || q.title, title: `${chars.slice(0, WHATSAPP_LIMITS.rowTitle - 1).join('')}…`, description: q.title };
}

function split(text: string): string[] {
  const chars = [...text];
  if (chars.length <= WHATSAPP_LIMITS.text) return [text];
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += WHATSAPP_LIMITS.text) pieces.push(chars.slice(i, i + WHATSAPP_LIMITS.text).join(''));
  return pieces;
}
