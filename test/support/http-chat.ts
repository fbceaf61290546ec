import { webhookCustomer } from '../../src/cli/webhook-client';
import type { RunningServer } from '../../src/server';

/** A web chat customer over Botkit's HTTP webhook, with `texts` for just the replies' texts. */
export async function httpChat(server: RunningServer, token?: string) {
  const customer = await webhookCustomer(server.url, token);
  return { ...customer, texts: async (text: string, payload?: string) => (await customer.say(text, payload)).map((r) => r.text) };
}

export type Chat = Awaited<ReturnType<typeof httpChat>>;

/** Says each line and checks the bot's answer (all its texts of the turn, joined) against the pattern; returns the last answer. */
export async function converse(chat: Chat, turns: [string, RegExp][]): Promise<string> {
  let last = '';
  for (const [text, expected] of turns) {
    last = (await chat.texts(text)).join('\n');
    if (!expected.test(last)) throw new Error(`after "${text}" expected ${String(expected)}\nbut the bot said: ${JSON.stringify(last)}`);
  }
  return last;
}
