/** One bot message as Botkit's web chat webhook returns it. */
export interface Reply {
  type?: string;
  text: string;
  quick_replies?: { title: string; payload: string }[];
}

/** A web chat customer over POST /webchat/messages: resumes `token`'s identity (or gets a new one), and each message resolves with the replies. */
export async function webhookCustomer(baseUrl: string, token?: string): Promise<{ token: string; user: string; say(text: string, payload?: string): Promise<Reply[]> }> {
  const res = await fetch(`${baseUrl}/webchat/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(token ? { token } : {}),
  });
  const session = (await res.json()) as { token: string; user: string };
  const say = async (text: string, payload?: string): Promise<Reply[]> => {
    const reply = await fetch(`${baseUrl}/webchat/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: session.token, type: 'message', text, ...(payload ? { payload } : {}) }),
    });
    const body = (await reply.json()) as { messages?: Reply[]; message?: string };
    if (!reply.ok) throw new Error(`the bot refused "${text}" (${reply.status}): ${body.message ?? ''}`);
    return body.messages ?? [];
  };
  return { ...session, say };
}
