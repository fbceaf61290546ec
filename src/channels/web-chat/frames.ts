import type { Activity } from 'botbuilder';
import { quickRepliesOf, type QuickReply } from '../../bot/quick-replies';

/** The longest customer text accepted, in characters. */
export const MAX_TEXT_LENGTH = 4096;


/** What the browser may send: a message typed or a quick reply tapped. */
export interface InboundFrame {
  type: 'message';
  text: string;
  payload?: string;
}

/** What the server sends: the bot's messages, typing, the stored history on connect, and errors. */
export type OutboundFrame =
  | { type: 'message'; text: string; quick_replies?: QuickReply[] }
  | { type: 'typing' }
  | { type: 'history'; messages: { direction: 'in' | 'out'; text: string; quick_replies?: QuickReply[]; at: string }[] }
  | { type: 'error'; code: FrameErrorCode; message: string };

export type FrameErrorCode = 'bad_frame' | 'unknown_type' | 'empty' | 'too_long';

/** Why a frame was refused, said to the sender. */
export interface FrameRefusal {
  error: FrameErrorCode;
  message: string;
}

/** Parses one websocket frame from a browser; returns the frame or the reason it is refused. */
export function parseInboundFrame(raw: string): InboundFrame | FrameRefusal {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { error: 'bad_frame', message: 'frames must be JSON objects such as {"type":"message","text":"salam"}' };
  }
  return validateInbound(data);
}

/** Checks a decoded frame (websocket) or request body (HTTP); fields other than type, text and payload are ignored. */
export function validateInbound(data: unknown): InboundFrame | FrameRefusal {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { error: 'bad_frame', message: 'frames must be JSON objects such as {"type":"message","text":"salam"}' };
  }
  const { type, text, payload } = data as Record<string, unknown>;
  if (type !== 'message') return { error: 'unknown_type', message: `unknown frame type ${JSON.stringify(type)}; send "message"` };
  if (typeof text !== 'string' || text.trim() === '') return { error: 'empty', message: 'the message has no text' };
  if (text.length > MAX_TEXT_LENGTH) {
    return { error: 'too_long', message: `the message has ${text.length} characters; the limit is ${MAX_TEXT_LENGTH}` };
  }
  if (payload !== undefined && (typeof payload !== 'string' || payload.length > 256)) {
    return { error: 'bad_frame', message: 'payload must be a string of at most 256 characters' };
  }
  return payload === undefined ? { type: 'message', text: text.trim() } : { type: 'message', text: text.trim(), payload };
}

/** The frame that carries an outgoing activity to the browser, or undefined for kinds the page does not show. */
export function activityToFrame(activity: Partial<Activity>): OutboundFrame | undefined {
  if (activity.type === 'typing') return { type: 'typing' };
  if (activity.type !== 'message') return undefined;
  const quickReplies = quickRepliesOf(activity);
  return { type: 'message', text: activity.text ?? '', ...(quickReplies ? { quick_replies: quickReplies } : {}) };
}
