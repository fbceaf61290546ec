import type { Activity } from 'botbuilder';

/** A quick-reply button: what it shows and what it sends back. */
export interface QuickReply {
  title: string;
  payload: string;
}

/** Quick replies of an outgoing activity, from Botkit's channelData or botbuilder's suggested actions. */
export function quickRepliesOf(activity: Partial<Activity>): QuickReply[] | undefined {
  const fromChannelData = activity.channelData?.quick_replies as { title?: unknown; payload?: unknown }[] | undefined;
  const replies = Array.isArray(fromChannelData)
    ? fromChannelData.map((r) => ({ title: String(r.title ?? ''), payload: String(r.payload ?? r.title ?? '') }))
    : activity.suggestedActions?.actions.map((a) => ({ title: String(a.title ?? a.value), payload: String(a.value ?? a.title) }));
  return replies && replies.length > 0 ? replies : undefined;
}

