import type { Activity } from 'botbuilder';
import { quickRepliesOf, type QuickReply } from '../../bot/quick-replies';

/** Messenger's limits for one message. */
export const MESSENGER_LIMITS = { text: 2000, quickReplies: 13, quickReplyTitle: 20, payload: 1000 };

/** One Send API `message` object, and the choices it offered as numbers when buttons could not carry them. */
export interface SendApiMessage {
  message: { text: string; quick_replies?: { content_type: 'text'; title: string; payload: string }[] };
  numbered?: QuickReply[];
}

/**
 * Turns one turn's activities into Send API messages: consecutive plain texts become one
 * message (fewer notifications, within 2,000 characters); quick replies ride on the last
 * text when Messenger can show them (13 at most, titles of 20 characters at most), and
 * otherwise become a numbered list the customer answers with a digit.
 */
export function toSendApiMessages(activities: Partial<Activity>[]): SendApiMessage[] {
  const out: SendApiMessage[] = [];
  let pending: string[] = [];
  const flush = (extra?: { text: string; replies?: QuickReply[] }) => {
    const parts = [...pending, ...(extra ? [extra.text] : [])].filter((t) => t.trim() !== '');
    pending = [];
    if (parts.length === 0 && !extra?.replies) return;
    let text = parts.join('\n\n');
    const replies = extra?.replies;
    if (replies && fits(replies)) {
      out.push(...split(text).slice(0, -1).map((t) => ({ message: { text: t } })));
      out.push({
        message: { text: split(text).pop() ?? '…', quick_replies: replies.map((r) => ({ content_type: 'text' as const, title: r.title, payload: r.payload || r.title })) },
      });
      return;
    }
    if (replies) text = `${text}\n${replies.map((r, i) => `${i + 1}. ${r.title}`).join('\n')}`;
    const chunks = split(text);
    chunks.forEach((t, i) => out.push({ message: { text: t }, ...(replies && i === chunks.length - 1 ? { numbered: replies } : {}) }));
  };
  for (const activity of activities) {
    if (activity.type !== 'message') continue;
    const replies = quickRepliesOf(activity);
    const text = activity.text ?? '';
    if (replies) flush({ text, replies });
    else if ((pending.join('\n\n') + text).length + 2 > MESSENGER_LIMITS.text) {
      flush();
      pending.push(text);
    } else pending.push(text);
  }
  flush();
  return out;
}

function fits(replies: QuickReply[]): boolean {
  return replies.length <= MESSENGER_LIMITS.quickReplies && replies.every((r) => [...r.title].length <= MESSENGER_LIMITS.quickReplyTitle && r.payload.length <= MESSENGER_LIMITS.payload);
}

/** Cuts a text into pieces Messenger accepts, at line breaks or spaces when possible. */
function split(text: string): string[] {
  const pieces: string[] = [];
  let rest = text;
  while ([...rest].length > MESSENGER_LIMITS.text) {
    const head = [...rest].slice(0, MESSENGER_LIMITS.text).join('');
    const cut = Math.max(head.lastIndexOf('\n'), head.lastIndexOf(' '));
    const at = cut > MESSENGER_LIMITS.text / 2 ? cut : head.length;
    pieces.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  pieces.push(rest);
  return pieces;
}
