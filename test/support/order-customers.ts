import { SCRIPT } from '../../scripts/bench-load';
import { messengerText, signedWebhook, type FakeGraphApi, type SentMessage } from './fake-graph-api';

/** A reply as a customer saw it, with an order's number made the same for every customer. */
export function comparable(text: string): string {
  return text.replace(/TIF-\d{6}/g, 'TIF-######');
}

/** One step of a customer's order: when it was first posted, taken (200) and answered. */
export interface Step {
  text: string;
  sentAt: number;
  ackAt: number;
  answeredAt: number;
  /** How many answers the customer had then. */
  answers: number;
}

/**
 * A Messenger customer who takes a whole order (scripts/bench-load.ts's SCRIPT) as Meta
 * would deliver it: each message signed, posted again while no server takes it (same body,
 * same mid), and the next one sent only once this one was answered.
 */
export class OrderCustomer {
  readonly replies: SentMessage[] = [];
  readonly steps: Step[] = [];

  constructor(
    readonly id: string,
    private readonly secret: string,
    private readonly apology: string,
  ) {}

  /** The replies that answer messages: apologies (a failed try) left out, and a reply sent again after a crash counted once. */
  answers(): string[] {
    const out: string[] = [];
    for (const m of this.replies) {
      const text = comparable(m.text);
      if (text === this.apology || out.at(-1) === text) continue;
      out.push(text);
    }
    return out;
  }

  /** Replies that came twice in a row (a crash between sending and storing them). */
  get repeated(): number {
    let n = 0;
    for (let i = 1; i < this.replies.length; i += 1) if (this.replies[i]!.text === this.replies[i - 1]!.text) n += 1;
    return n;
  }

  /**
   * Plays the order. `target` names a live server for each try; `expected[i]` is how many
   * answers there are once step i is answered (from a run without faults); `acked` hears of each
   * message a server took. Without `expected`, a step is answered once replies stop for `quietMs`.
   */
  async play(target: () => string, options: { expected?: number[]; acked?: () => void; quietMs?: number; timeoutMs?: number } = {}): Promise<void> {
    for (const [i, [text, payload]] of SCRIPT.entries()) {
      const { raw, signature } = signedWebhook(messengerText(this.id, text, payload, `${this.id}.m${i}`), this.secret);
      const step: Step = { text, sentAt: Date.now(), ackAt: 0, answeredAt: 0, answers: 0 };
      this.steps.push(step);
      await this.post(target, raw, signature, options.timeoutMs ?? 120_000);
      step.ackAt = Date.now();
      options.acked?.();
      const deadline = Date.now() + (options.timeoutMs ?? 120_000);
      const want = options.expected?.[i];
      const before = this.answers().length;
      for (;;) {
        const now = this.answers().length;
        if (want !== undefined ? now >= want : now > before && Date.now() - this.lastAt >= (options.quietMs ?? 400)) break;
        if (Date.now() > deadline) throw new Error(`${this.id}: no answer to step ${i + 1} ("${text}") within ${options.timeoutMs ?? 120_000} ms; answers so far: ${JSON.stringify(this.answers())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      step.answeredAt = this.lastAt;
      step.answers = this.answers().length;
    }
  }

  private lastAt = 0;

  /** Takes a message the fake Graph API accepted for this customer. */
  take(message: SentMessage): void {
    this.replies.push(message);
    this.lastAt = Date.now();
  }

  /** Posts until a server answers 200, as Meta retries a webhook that got no 200. */
  private async post(target: () => string, raw: string, signature: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${target()}/webhooks/messenger`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
          body: raw,
          signal: AbortSignal.timeout(10_000),
        });
        if (res.status === 200) return;
        last = `answered ${res.status}: ${await res.text()}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.id}: no server took a webhook within ${timeoutMs} ms (last: ${last})`);
  }
}

/** Routes the fake Graph API's messages to the customers they are for. */
export function routeReplies(graph: FakeGraphApi, customers: OrderCustomer[]): void {
  const byId = new Map(customers.map((c) => [c.id, c]));
  graph.onSent = (m) => byId.get(m.recipient)?.take(m);
}
