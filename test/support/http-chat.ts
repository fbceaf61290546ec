import type { RunningServer } from '../../src/server';

/** One bot message as the HTTP webhook returns it. */
export interface Reply {
  type: string;
  text: string;
  quick_replies?: { title: string; payload: string }[];
}

/** A web chat customer over Botkit's HTTP webhook: each message resolves with the bot's replies to it. */
export async function httpChat(server: RunningServer, token?: string): Promise<{ token: string; user: string; say(text: string, payload?: string): Promise<Reply[]>; texts(text: string, payload?: string): Promise<string[]> }> {
  const session = (await (
    await fetch(`${server.url}/webchat/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(token ? { token } : {}) })
  ).json()) as { token: string; user: string };
  const say = async (text: string, payload?: string) => {
    const res = await fetch(`${server.url}/webchat/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: session.token, type: 'message', text, ...(payload ? { payload } : {}) }),
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { messages: Reply[] }).messages;
  };
  return { ...session, say, texts: async (text, payload) => (await say(text, payload)).map((r) => r.text) };
}
