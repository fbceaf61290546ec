import type { Activity } from 'botbuilder';
import { quickRepliesOf, type QuickReply } from '../../bot/quick-replies';

/**
 * One turn's activities as plain WhatsApp texts (WhatsApp Web has no buttons): consecutive
 * texts combined, and choices as a numbered list the customer answers with a digit.
 */
export function toNumberedTexts(activities: Partial<Activity>[]): { text: string; numbered?: QuickReply[] }[] {
  const out: { text: string; numbered?: QuickReply[] }[] = [];
  let pending: string[] = [];
  for (const activity of activities) {
    if (activity.type !== 'message') continue;
    pending.push(activity.text ?? '');
    const replies = quickRepliesOf(activity);
    if (replies) {
      out.push({ text: `${pending.filter((t) => t.trim()).join('\n\n')}\n${replies.map((r, i) => `${i + 1}. ${r.title}`).join('\n')}`, numbered: replies });
      pending = [];
    }
  }
  const rest = pending.filter((t) => t.trim()).join('\n\n');
  if (rest) out.push({ text: rest });
  return out;
}
