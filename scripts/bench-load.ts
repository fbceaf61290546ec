// The benchmark's customers and its fake Graph API, in a process of their own (forked by
// scripts/bench.ts), so the process under test spends its CPU on the bot alone.
process.env.DOTENV_CONFIG_QUIET ??= 'true';
import { performance } from 'node:perf_hooks';
import { FakeGraphApi, messengerText, signedWebhook, whatsappMessage, TEST_PHONE_NUMBER_ID } from '../test/support/fake-graph-api';

/** What the benchmark asks of this process, and what it answers. */
export type LoadRequest = { type: 'play'; url: string; prefix: string; rate: number; customers: number; channel: 'messenger' | 'whatsapp' } | { type: 'stop' };
export type LoadReply = { type: 'ready'; graphUrl: string } | { type: 'run'; run: Run } | { type: 'failed'; message: string };

/** One run's figures, as the customers saw them. */
export interface Run {
  /** Messages whose reply did not come within REPLY_TIMEOUT_MS (the customer goes on). */
  lost: number;
  messages: number;
  seconds: number;
  ack: number[];
  reply: number[];
}

export const SECRET = 'bench-secret';
export const TOKEN = 'bench-token';
export const GRAPH_VERSION = 'v21.0';
/** The WhatsApp phone number id the benchmark's server is configured with (the webhooks name it). */
export const PHONE_NUMBER_ID = TEST_PHONE_NUMBER_ID;

// A whole order: greeting, name, the Order button, product 3 of the numbered list, quantity,
// "that's all", phone, delivery, city, address, cash on delivery, yes.
export const SCRIPT: [string, string?][] = [
  ['bonjour'],
  ['Client'],
  ['Commander', 'ORDER'],
  ['3'],
  ['2'],
  ["C'est tout", 'done'],
  ['0612345678'],
  ['Livraison', 'delivery'],
  ['Rabat'],
  ['Agdal, rue 3'],
  ['À la livraison', 'cod'],
  ['oui'],
];

const REPLY_TIMEOUT_MS = 30_000;

/** Plays every customer's order against `url`; replies are seen on `graph`; `rate` paces all webhooks (0: no pacing). */
async function play(graph: FakeGraphApi, { url, prefix, rate, customers, channel }: { url: string; prefix: string; rate: number; customers: number; channel: 'messenger' | 'whatsapp' }): Promise<Run> {
  const waiting = new Map<string, () => void>();
  // The choices each customer was last offered: on WhatsApp a product is tapped in a list, not typed as a digit.
  const offered = new Map<string, { title: string; payload: string }[]>();
  graph.onSent = (m) => {
    if (m.quickReplies) offered.set(m.recipient, m.quickReplies);
    else offered.delete(m.recipient);
    const wake = waiting.get(m.recipient);
    if (wake) {
      waiting.delete(m.recipient);
      wake();
    }
  };
  const ack: number[] = [];
  const reply: number[] = [];
  let lost = 0;
  let next = performance.now();
  const slot = async () => {
    if (!rate) return;
    const at = next;
    next += 1000 / rate;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: customers }, async (_, c) => {
      // WhatsApp names customers by phone: digits, one number a customer and run.
      const sender = channel === 'whatsapp' ? `2126${String(prefix.length * 7919 + prefix.charCodeAt(0)).padStart(4, '0').slice(-4)}${String(c).padStart(4, '0')}` : `${prefix}-${c}`;
      for (const [text, payload] of SCRIPT) {
        await slot();
        const { raw, signature } = signedWebhook(channel === 'whatsapp' ? whatsappBody(sender, text, payload, offered.get(sender)) : messengerText(sender, text, payload), SECRET);
        const replied = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            waiting.delete(sender);
            resolve(false);
          }, REPLY_TIMEOUT_MS);
          waiting.set(sender, () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        const t0 = performance.now();
        const res = await fetch(`${url}/webhooks/${channel}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
        ack.push(performance.now() - t0);
        if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
        if (await replied) reply.push(performance.now() - t0);
        else lost += 1;
      }
    }),
  );
  return { lost, messages: customers * SCRIPT.length, seconds: (performance.now() - started) / 1000, ack, reply };
}

/** One step of the order as a WhatsApp customer sends it: a button tap, a list row (a digit picks the row offered), or a text. */
function whatsappBody(sender: string, text: string, payload: string | undefined, offered: { title: string; payload: string }[] | undefined) {
  const row = /^\d+$/.test(text) && offered && offered.length >= Number(text) && !payload ? offered[Number(text) - 1] : undefined;
  if (row) return whatsappMessage(sender, { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: row.payload, title: row.title } } });
  if (payload) return whatsappMessage(sender, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: payload, title: text } } });
  return whatsappMessage(sender, { type: 'text', text: { body: text } });
}

async function main(): Promise<void> {
  const send = (reply: LoadReply) => process.send!(reply);
  const graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: GRAPH_VERSION, phoneNumberId: PHONE_NUMBER_ID });
  const graphUrl = await graph.start();
  process.on('message', (request: LoadRequest) => {
    if (request.type === 'stop') return void graph.stop().then(() => process.exit(0));
    play(graph, request).then(
      (run) => send({ type: 'run', run }),
      (err: Error) => send({ type: 'failed', message: err.message }),
    );
  });
  // The benchmark gone (failed, or Ctrl-C), this process goes too.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', graphUrl });
}

if (require.main === module) {
  if (!process.send) {
    console.error('scripts/bench-load.ts is started by `npm run bench`, not on its own');
    process.exit(2);
  }
  void main();
}
