import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { inboundEventModel, pendingEventModel } from '../db/models/inbound-event';
import { leaseModel, releaseLease, takeLease } from '../db/models/lease';
import type { Logger } from '../logger';
import { isDuplicateKey } from '../db/duplicate-key';

/** One customer event from a channel, as its parser made it. */
export interface ChannelEvent {
  /** The platform's id for it (Messenger `mid`, WhatsApp `wamid`): redeliveries share it. */
  id: string;
  sender: string;
  text: string;
  /** A quick reply's or postback's payload. */
  payload?: string;
  attachments?: { type: string; url?: string }[];
  timestamp: number;
}

/** Runs one event through the bot; false or a throw means try again later. */
export type EventHandler = (event: ChannelEvent) => Promise<boolean>;

const BACKOFF_MS = [1000, 5000, 30_000, 120_000];
// More than this many unhandled events from one sender is a flood: the rest is dropped, with a log line.
const MAX_PENDING_PER_SENDER = 50;
// Every this many polls, archived events left without a queue entry are queued again.
const SWEEP_EVERY = 60;
const LEASE_MS = 30_000;

/**
 * The durable inbox every Meta channel shares. A webhook records its events here and
 * answers 200 at once; the events are then handled one sender at a time, in order, by
 * whichever process holds that sender's lease, so order holds across processes too. A
 * failed event is retried with backoff and, after the last try, kept as failed: never lost.
 */
export class Inbox {
  private readonly holder = `${process.pid}:${randomUUID()}`;
  private readonly handlers = new Map<string, EventHandler>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  // Events this process recorded and has not finished, per sender: the flood guard (kept
  // in memory, so it costs no query on the webhook's path; each process guards its own).
  private readonly pending = new Map<string, number>();

  private readonly connection: Connection;

  /**
   * `database` names another database for the inbox's events and leases: with FerretDB's
   * SQLite engine each database is its own file with its own write lock, so a webhook's
   * acknowledgement does not wait behind the bot's writes.
   */
  constructor(
    connection: Connection,
    private readonly log: Logger,
    private readonly options: { pollMs?: number; maxAttempts?: number; database?: string } = {},
  ) {
    this.connection = options.database ? connection.useDb(options.database, { useCache: true }) : connection;
  }

  /** The events, for the staff and for tests. */
  get events() {
    return inboundEventModel(this.connection);
  }

  /** The connection the inbox's collections live on (its own database, or the main one). */
  get store(): Connection {
    return this.connection;
  }

  /** This process's name in leases. */
  get leaseHolder(): string {
    return this.holder;
  }

  /** Creates the indexes of the inbox's collections (needed when it has a database of its own). */
  async ensureIndexes(): Promise<void> {
    await inboundEventModel(this.connection).createIndexes();
    await pendingEventModel(this.connection).createIndexes();
    await leaseModel(this.connection).createIndexes();
  }

  /** Sets the handler of a channel's events. */
  handle(channel: string, handler: EventHandler): void {
    this.handlers.set(channel, handler);
  }

  /** Records events durably; a redelivered one is recognised by its id and dropped. */
  async record(channel: string, events: ChannelEvent[]): Promise<{ recorded: number; duplicates: number }> {
    const Event = inboundEventModel(this.connection);
    let recorded = 0;
    let duplicates = 0;
    const now = new Date();
    for (const event of events) {
      const key = `${channel}:${event.sender}`;
      if ((this.pending.get(key) ?? 0) >= MAX_PENDING_PER_SENDER) {
        this.log.warn({ channel, sender: event.sender, event: event.id }, 'inbox: flood from one sender, event dropped');
        continue;
      }
      try {
        const doc = { _id: `${channel}:${event.id}`, channel, sender: event.sender, event: JSON.stringify(event), receivedAt: now, attempts: 0, nextAttemptAt: now };
        // The archive first: its _id decides whether this is a redelivery. A crash between
        // the two inserts leaves an archived event with no queue entry; the sweep finds it.
        await Event.create({ ...doc, status: 'pending' });
        await pendingEventModel(this.connection).create(doc);
        recorded += 1;
        this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        duplicates += 1;
      }
    }
    for (const sender of new Set(events.map((e) => e.sender))) this.kick(channel, sender);
    return { recorded, duplicates };
  }

  /** Starts looking for due events every `pollMs` (retries, and events another process left). */
  start(): void {
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
    this.timer.unref();
  }

  /** Stops polling and waits for the events being handled. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Resolves when nothing is being handled in this process. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private settled(key: string): void {
    const left = (this.pending.get(key) ?? 1) - 1;
    if (left > 0) this.pending.set(key, left);
    else this.pending.delete(key);
  }

  private kick(channel: string, sender: string): void {
    const work = this.drain(channel, sender).catch((err: Error) => this.log.error({ channel, err: err.message }, 'inbox: handling failed'));
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private polls = 0;

  private async poll(): Promise<void> {
    this.polls += 1;
    if (this.polls % SWEEP_EVERY === 0) await this.sweep().catch((err: Error) => this.log.error({ err: err.message }, 'inbox: sweep failed'));
    const due = await pendingEventModel(this.connection)
      .find({ nextAttemptAt: { $lte: new Date() } }, { channel: 1, sender: 1 })
      .limit(200)
      .lean()
      .catch(() => []);
    for (const key of new Set(due.map((d) => `${d.channel}\u0000${d.sender}`))) {
      const [channel, sender] = key.split('\u0000') as [string, string];
      this.kick(channel, sender);
    }
  }

  /** Queues again archived events that are pending but not queued (a crash between the two inserts). */
  private async sweep(): Promise<void> {
    const old = new Date(Date.now() - 60_000);
    const stranded = await inboundEventModel(this.connection).find({ status: 'pending', receivedAt: { $lt: old } }).limit(100).lean();
    for (const e of stranded) {
      await pendingEventModel(this.connection)
        .create({ _id: e._id, channel: e.channel, sender: e.sender, event: e.event, receivedAt: e.receivedAt, attempts: e.attempts, nextAttemptAt: new Date() })
        .then(() => this.log.warn({ event: e._id }, 'inbox: stranded event queued again'))
        .catch((err: { code?: number }) => {
          if (!isDuplicateKey(err)) throw err;
        });
    }
  }

  /** Handles a sender's pending events in order while holding their lease. */
  private async drain(channel: string, sender: string): Promise<void> {
    const lease = `inbox:${channel}:${sender}`;
    if (!(await takeLease(this.connection, lease, this.holder, LEASE_MS))) return;
    const Event = inboundEventModel(this.connection);
    const Pending = pendingEventModel(this.connection);
    try {
      for (;;) {
        const next = await Pending.findOne({ channel, sender }).sort({ receivedAt: 1, _id: 1 }).lean();
        // The oldest waits for its retry time; the later ones wait behind it, to keep the order.
        if (!next || next.nextAttemptAt > new Date()) return;
        const handler = this.handlers.get(channel);
        let ok = false;
        let error = 'no handler for this channel';
        if (handler) {
          try {
            ok = await handler(JSON.parse(next.event) as ChannelEvent);
            error = 'the bot could not handle it';
          } catch (err) {
            error = (err as Error).message;
          }
        }
        if (ok || next.attempts + 1 >= (this.options.maxAttempts ?? BACKOFF_MS.length + 1)) this.settled(`${channel}:${sender}`);
        const attempts = next.attempts + 1;
        if (ok) {
          await Event.updateOne({ _id: next._id }, { $set: { status: 'done', doneAt: new Date(), lastError: null, attempts } });
          await Pending.deleteOne({ _id: next._id });
          continue;
        }
        if (attempts >= (this.options.maxAttempts ?? BACKOFF_MS.length + 1)) {
          this.log.error({ channel, event: next._id, attempts, err: error }, 'inbox: event failed for good; kept as failed');
          await Event.updateOne({ _id: next._id }, { $set: { status: 'failed', lastError: error, attempts } });
          await Pending.deleteOne({ _id: next._id });
          continue;
        }
        const wait = BACKOFF_MS[Math.min(attempts - 1, BACKOFF_MS.length - 1)]!;
        this.log.warn({ channel, event: next._id, attempts, retryInMs: wait, err: error }, 'inbox: event will be retried');
        await Event.updateOne({ _id: next._id }, { $set: { lastError: error, attempts, nextAttemptAt: new Date(Date.now() + wait) } });
        await Pending.updateOne({ _id: next._id }, { $set: { attempts, nextAttemptAt: new Date(Date.now() + wait) } });
        return;
      }
    } finally {
      await releaseLease(this.connection, lease, this.holder);
    }
  }
}
