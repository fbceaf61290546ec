import { webhookCustomer } from '../../src/cli/webhook-client';
import type { RunningServer } from '../../src/server';

/** A web chat customer over Botkit's HTTP webhook, with `texts` for just the replies' texts. */
export async function httpChat(server: RunningServer, token?: string) {
  const customer = await webhookCustomer(server.url, token);
  return { ...customer, texts: async (text: string, payload?: string) => (await customer.say(text, payload)).map((r) => r.text) };
}
