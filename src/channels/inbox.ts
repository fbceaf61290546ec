import pLimit from 'p-limit';
import type { Connection } from 'mongoose';
import { buildIndexes, isFerretdb } from '../db/connection';
import { inboundEventModel, pendingEventModel, type PendingEventDoc } from '../db/models/inbound-event';
import { leaseHolderName, leaseModel, processBeatModel, releaseLease, renewLease, takeLease } from '../db/models/lease';
import type { Logger } from '../logger';
import { insertOnce, isDuplicateKey } from '../db/duplicate-key';
import { insertPlain, insertPlainGrouped } from '../db/plain-insert';
import { faultPoint } from '../faults';
import type { VoiceNote } from '../voice/voice-notes';

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
  /** What it is when it is not a message for the bot to answer (a reaction, an edit...); a message when absent. */
  kind?: ChannelNoticeKind;
  /** The platform id of the message a reaction, edit or deletion is about. */
  about?: string;
  /** A reaction's emoji; empty when the reaction was taken back. */
  emoji?: string;
  /** Who the customer is on a channel that names them several ways (WhatsApp: phone and/or BSUID; WhatsApp Web: phone and/or `@lid`). */
  identity?: { phone?: string; bsuid?: string; lid?: string; parentBsuid?: string; username?: string; name?: string };
  /** What the message carried besides its text, kept whole in the stored message: a cart, a voice note, shared contacts, a Flow's answers, the message it replies to. */
  content?: Record<string, unknown>;
  /** Where the customer came from: an m.me link, an ad, a click-to-WhatsApp ad. */
  referral?: ChannelReferral;
  /** A voice note's audio and what was heard in it (src/voice), added before the turn. */
  voice?: VoiceNote;
  /** A message the bot answers shortly, not counted as misunderstood: shared contacts, a sticker, an unsupported type, a cart, a form's answers. */
  short?: 'contacts' | 'sticker' | 'unsupported' | 'order' | 'form';
}

/** The events that change what is stored without being a customer's message to answer. */
export type ChannelNoticeKind = 'reaction' | 'edit' | 'delete' | 'number-change' | 'identity-change' | 'echo';

/** Where a customer came from, as Meta says it. */
export interface ChannelReferral {
  /** SHORTLINK (m.me), ADS, CUSTOMER_CHAT_PLUGIN, ad (click-to-WhatsApp)... */
  source: string;
  ref?: string;
  adId?: string;
  sourceUrl?: string;
  ctwaClid?: string;
  headline?: string;
}

/** Which try of an event this is (from 1), and whether it is the last. */
export interface Attempt {
  number: number;
  last: boolean;
  /** When the webhook brought the event: the time its message is stored with, whichever try stores it. */
  receivedAt?: Date;
}

/** Runs one event through the bot; false or a throw means try again later. */
export type EventHandler = (event: ChannelEvent, attempt: Attempt) => Promise<boolean>;

/**
 * Slow work an event needs before its turn (hearing a voice note), begun as soon as it is
 * recorded and waited for before the sender's turn takes one of the turn slots, so it
 * never holds other customers' turns. Its result is the preparer's to keep; a failure only
 * leaves the work to the handler.
 */
export type EventPreparer = (event: ChannelEvent) => Promise<unknown>;

const BACKOFF_MS = [1000, 5000, 30_000, 120_000];
// More than this many unhandled events from one sender is a flood: the rest is dropped, with a log line.
const MAX_PENDING_PER_SENDER = 50;
// Every this many polls, archived events left without a queue entry are queued again.
const SWEEP_EVERY = 60;
// Twice a turn's time limit (TURN_TIME_LIMIT_MS): a lease extended before a turn (when half of it
// is gone) outlasts the turn. A gone holder's is taken back at once, however long (lease.ts).
const LEASE_MS = 60_000;
// Marking an event handled is tried again after these waits before it is left queued.
const MARK_RETRY_MS = [200, 1000, 3000];
// How long a sender's lease is kept after their events are handled: a customer answering
// the bot within it costs no lease writes; another process's event for them waits for the poll.
const HOLD_MS = 2000;
// Turns run at once in a process; the others wait their turn in arrival order. Measured with
// npm run bench at 100 msg/s: with 8 the slots filled up while orders were placed (turns
// that wait on several writes), and 16-24 only made each message cost more CPU.
const TURNS_AT_ONCE = 12;

/**
 * The durable inbox every Meta channel shares. A webhook records its events here and
 * answers 200 at once; the events are then handled one sender at a time, in order, by
 * whichever process holds that sender's lease, so order holds across processes too. A
 * failed event is retried with backoff and, after the last try, kept as failed: never lost.
 * At most TURNS_AT_ONCE senders are handled at once, in arrival order. With `alone` (this
 * process is the database's only client) a sender's queue is kept in memory and no lease is
 * taken: an event is one insert and one update, and only a retry, or what a stop left
 * behind (queued again at start), goes through the database's queue.
 */
export class Inbox {
  private readonly holder: string;
  private readonly handlers = new Map<string, EventHandler>();
  private readonly preparers = new Map<string, EventPreparer>();
  // Preparations under way, per sender: their drain waits for them outside the turn slots.
  private readonly preparing = new Map<string, Set<Promise<unknown>>>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  // Events this process recorded and has not finished, per sender: the flood guard (kept
  // in memory, so it costs no query on the webhook's path; each process guards its own).
  private readonly pending = new Map<string, number>();
  // Events being recorded here, per sender: a drain waits for them, as a later event's
  // insert may land before an earlier one's, and the earlier one must go first.
  private readonly recording = new Map<string, number>();
  // Senders being drained here; true when more was recorded for them during the drain.
  private readonly draining = new Map<string, boolean>();
  // Sender leases this process holds, with when they expire and the timer that gives them back.
  private readonly held = new Map<string, { until: number; release: NodeJS.Timeout | undefined }>();
  private stopping = false;
  // When this process is the database's only client: the events it recorded and has not
  // handled, per sender, in order; and the senders whose queue must be read from the database.
  private readonly local = new Map<string, PendingEventDoc[]>();
  private readonly fromDatabase = new Set<string>();
  // Alone: each event's place in arrival order (the order of its sender's queue in memory).
  private readonly arrival = new Map<string, number>();
  private arrivals = 0;
  // Events received before this inbox existed are what a stop left behind (alone: see start).
  private readonly createdAt = new Date();
  private requeued: Promise<void> = Promise.resolve();
  private readonly turns: ReturnType<typeof pLimit>;

  private readonly connection: Connection;

  /**
   * `database` names another database for the inbox's events and leases: with FerretDB's
   * SQLite engine each database is its own file with its own write lock, so a webhook's
   * acknowledgement does not wait behind the bot's writes.
   */
  constructor(
    connection: Connection,
    private readonly log: Logger,
    private readonly options: { pollMs?: number; maxAttempts?: number; database?: string; turnsAtOnce?: number; alone?: boolean; holder?: string } = {},
  ) {
    this.holder = options.holder ?? leaseHolderName();
    this.turns = pLimit(options.turnsAtOnce ?? TURNS_AT_ONCE);
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
    const ferretdb = await isFerretdb(this.connection);
    for (const model of [inboundEventModel(this.connection), pendingEventModel(this.connection), leaseModel(this.connection), processBeatModel(this.connection)]) await buildIndexes(model, ferretdb);
  }

  /** Sets the handler of a channel's events, and what is prepared for them before their turn. */
  handle(channel: string, handler: EventHandler, prepare?: EventPreparer): void {
    this.handlers.set(channel, handler);
    if (prepare) this.preparers.set(channel, prepare);
    else this.preparers.delete(channel);
  }

  /** Begins an event's preparation, tracked for its sender's drain. */
  private prepare(channel: string, event: ChannelEvent): void {
    const preparer = this.preparers.get(channel);
    if (!preparer) return;
    const key = `${channel}:${event.sender}`;
    const work = preparer(event).catch((err: Error) => this.log.warn({ channel, event: event.id, err: err.message }, 'inbox: preparing an event failed; its turn does it'));
    const set = this.preparing.get(key) ?? new Set();
    set.add(work);
    this.preparing.set(key, set);
    void work.finally(() => {
      set.delete(work);
      if (set.size === 0 && this.preparing.get(key) === set) this.preparing.delete(key);
    });
  }

  /** Records events durably; a redelivered one is recognised by its id and dropped. */
  async record(channel: string, events: ChannelEvent[]): Promise<{ recorded: number; duplicates: number }> {
    const Event = inboundEventModel(this.connection);
    let recorded = 0;
    let duplicates = 0;
    const now = new Date();
    // Arrival order, taken before any write: a burst's inserts may land in another order.
    const arrivals = events.map(() => ++this.arrivals);
    for (const [i, event] of events.entries()) {
      const key = `${channel}:${event.sender}`;
      if ((this.pending.get(key) ?? 0) >= MAX_PENDING_PER_SENDER) {
        this.log.warn({ channel, sender: event.sender, event: event.id }, 'inbox: flood from one sender, event dropped');
        continue;
      }
      this.recording.set(key, (this.recording.get(key) ?? 0) + 1);
      try {
        // A millisecond apart within one body, so its messages keep their order when stored.
        const doc = { _id: `${channel}:${event.id}`, channel, sender: event.sender, event: JSON.stringify(event), receivedAt: new Date(now.getTime() + i), attempts: 0, nextAttemptAt: now };
        // The archive first: its _id decides whether this is a redelivery. A crash between
        // the two inserts leaves an archived event with no queue entry; the sweep finds it.
        // Alone, the queue is this process's memory, and the archive's status what a restart reads.
        await insertPlainGrouped(Event, [{ ...doc, status: 'pending' }]);
        faultPoint('webhook-archived');
        if (this.options.alone) {
          this.arrival.set(doc._id, arrivals[i]!);
          this.local.set(key, [...(this.local.get(key) ?? []), doc].sort((a, b) => this.arrival.get(a._id)! - this.arrival.get(b._id)!));
        }
        else await insertPlain(pendingEventModel(this.connection), [doc]);
        recorded += 1;
        this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
        this.prepare(channel, event);
      } catch (err) {
        if (!isDuplicateKey(err)) {
          // The archive's insert may have landed all the same (a timeout), or the queue's failed
          // after it: the next poll looks, instead of the sweep minutes later (or, alone, never).
          this.stranded.set(`${channel}:${event.id}`, { channel, sender: event.sender });
          throw err;
        }
        // Meta sends again what got no 200: an event archived but never queued is queued now.
        if (await this.queueIfStranded(`${channel}:${event.id}`)) recorded += 1;
        else duplicates += 1;
      } finally {
        const left = this.recording.get(key)! - 1;
        if (left > 0) this.recording.set(key, left);
        else this.recording.delete(key);
      }
    }
    for (const sender of new Set(events.map((e) => e.sender))) this.kick(channel, sender);
    return { recorded, duplicates };
  }

  /**
   * Queues an archived event that is pending but in no queue (a webhook answered 500 after
   * its archive write, a crash between the two inserts); false when it is handled or queued.
   */
  private async queueIfStranded(id: string): Promise<boolean> {
    // Polls overlap, and a re-send may come meanwhile: one look at a time. Alone, an event
    // handled here whose outcome is still being written is no stranded one.
    if (this.queueing.has(id)) return false;
    if (this.unwritten.has(id)) {
      this.stranded.delete(id);
      return false;
    }
    this.queueing.add(id);
    try {
      return await this.queueIfStrandedNow(id);
    } finally {
      this.queueing.delete(id);
    }
  }

  private async queueIfStrandedNow(id: string): Promise<boolean> {
    const e = await inboundEventModel(this.connection).findById(id).lean();
    // Handled here while it was being read.
    if (!e || e.status !== 'pending' || this.unwritten.has(id)) {
      this.stranded.delete(id);
      return false;
    }
    const key = `${e.channel}:${e.sender}`;
    const doc: PendingEventDoc = { _id: e._id, channel: e.channel, sender: e.sender, event: e.event, receivedAt: e.receivedAt, attempts: e.attempts, nextAttemptAt: new Date() };
    let queued: boolean;
    if (this.options.alone) {
      queued = !this.local.get(key)?.some((x) => x._id === id) && !(await pendingEventModel(this.connection).exists({ _id: id }));
      if (queued) {
        this.arrival.set(id, ++this.arrivals);
        this.local.set(key, [...(this.local.get(key) ?? []), doc]);
      }
    } else queued = await insertOnce(insertPlain(pendingEventModel(this.connection), [doc]));
    this.stranded.delete(id);
    if (!queued) return false;
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    this.log.warn({ channel: e.channel, sender: e.sender, event: id }, 'inbox: an event archived but never queued is queued now');
    this.kick(e.channel, e.sender);
    return true;
  }

  /**
   * Runs work for a sender outside their events (a rating request), under their lease, so no
   * process handles one of their messages meanwhile: its commit would overwrite, or be
   * overwritten by, the work's conversation state. Throws when another process has the sender now.
   */
  async whileHolding<T>(channel: string, sender: string, work: () => Promise<T>): Promise<T> {
    const key = `${channel}:${sender}`;
    // Alone, or this process holds it: the customer's queue (the caller's) keeps the order here.
    if (this.options.alone || this.held.has(key)) return work();
    if (!(await takeLease(this.connection, `inbox:${key}`, this.holder, LEASE_MS, { reclaim: true }))) throw new Error(`${key} is in a conversation on another process; try again later`);
    try {
      return await work();
    } finally {
      await releaseLease(this.connection, `inbox:${key}`, this.holder).catch((err: Error) => this.log.warn({ err: err.message }, 'inbox: could not give a lease back; it expires by itself'));
    }
  }

  /** Deletes the archived events of these senders that are handled (an erasure); returns how many. Those still to handle stay, to be handled. */
  async forgetSenders(channel: string, senders: string[]): Promise<number> {
    const result = await inboundEventModel(this.connection).deleteMany({ channel, sender: { $in: senders }, status: { $ne: 'pending' } });
    return result.deletedCount ?? 0;
  }

  /** Starts looking for due events every `pollMs` (retries, and events another process left). */
  start(): void {
    // At once, so events a stop left behind are seen before new ones of the same sender;
    // alone, the archive's unhandled events are queued first (drains wait for that).
    if (this.options.alone) {
      this.requeued = this.requeueLeftovers();
      const first = this.requeued.then(() => (this.stopping ? undefined : this.poll()));
      this.track(first);
    } else void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
    this.timer.unref();
  }

  /** Alone: queues what a stop left unhandled, trying again until the database answers (the senders' new events wait, to keep their order). */
  private async requeueLeftovers(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt += 1) {
      try {
        await this.sweep(this.createdAt, 0);
        return;
      } catch (err) {
        const wait = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
        this.log.error({ err: (err as Error).message, retryInMs: wait }, 'inbox: could not queue the events a stop left behind; new events wait');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Stops polling and waits for the events being handled. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping = true;
    await this.idle();
    // The outcomes still waiting are written once more; a failure leaves them for the restart to replay.
    if (this.marks.length > 0) {
      const left = this.marks;
      this.marks = [];
      await inboundEventModel(this.connection)
        .collection.bulkWrite(left.map(({ event, outcome }) => ({ updateOne: { filter: { _id: event._id } as never, update: { $set: outcome } } })), { ordered: false })
        .catch((err: Error) => this.log.warn({ events: left.length, err: err.message }, 'inbox: outcomes not written at stop; the next start replays those events, doing nothing twice'));
    }
    for (const [key, held] of this.held) {
      clearTimeout(held.release);
      this.held.delete(key);
      await releaseLease(this.connection, `inbox:${key}`, this.holder).catch(() => undefined);
    }
  }

  /** Resolves when nothing is being handled in this process. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Keeps work in `running` until it ends, for stop() and idle(). */
  private track(work: Promise<unknown>): void {
    this.running.add(work as Promise<void>);
    void work.finally(() => this.running.delete(work as Promise<void>));
  }

  private settled(key: string): void {
    const left = (this.pending.get(key) ?? 1) - 1;
    if (left > 0) this.pending.set(key, left);
    else this.pending.delete(key);
  }

  private kick(channel: string, sender: string): void {
    const work = this.drain(channel, sender).catch((err: Error) => this.log.error({ channel, err: err.message }, 'inbox: handling failed'));
    this.track(work);
  }

  private polls = 0;
  // Events whose recording failed after the archive write may have landed: looked at by the next poll.
  private readonly stranded = new Map<string, { channel: string; sender: string }>();
  // Stranded events being looked at now; alone, the events handled here lately (their outcome written in the background).
  private readonly queueing = new Set<string>();
  private readonly unwritten = new Set<string>();

  private async poll(): Promise<void> {
    this.polls += 1;
    for (const id of [...this.stranded.keys()]) await this.queueIfStranded(id).catch((err: Error) => this.log.warn({ event: id, err: err.message }, 'inbox: could not look at an event whose recording failed; trying again'));
    // Alone, archived events not queued are this process's own, in its memory.
    if (!this.options.alone && this.polls % SWEEP_EVERY === 0) await this.sweep(new Date(Date.now() - 60_000), 100).catch((err: Error) => this.log.error({ err: err.message }, 'inbox: sweep failed'));
    const due = await pendingEventModel(this.connection)
      .find({ nextAttemptAt: { $lte: new Date() } }, { channel: 1, sender: 1 })
      .limit(200)
      .lean()
      .catch(() => []);
    for (const d of due) {
      const key = `${d.channel}:${d.sender}`;
      // An event this process does not hold in memory (a retry's or one left by a stop): that sender's queue is read from the database.
      if (this.options.alone && !this.local.get(key)?.some((e) => e._id === d._id)) this.fromDatabase.add(key);
    }
    for (const key of new Set(due.map((d) => `${d.channel}\u0000${d.sender}`))) {
      const [channel, sender] = key.split('\u0000') as [string, string];
      this.kick(channel, sender);
    }
    // Alone, events in memory whose drain stopped on a database error are tried again here, as
    // the database's queue is for the others.
    if (this.options.alone) for (const [key, events] of this.local) if (!this.draining.has(key) && !this.recording.has(key) && events[0]) this.kick(events[0].channel, events[0].sender);
  }

  /** Queues again archived events received before `before` that are pending but not queued (a crash between the two inserts, or alone, a stop); `limit` 0: all. */
  private async sweep(before: Date, limit: number): Promise<void> {
    const stranded = await inboundEventModel(this.connection).find({ status: 'pending', receivedAt: { $lt: before } }).sort({ receivedAt: 1 }).limit(limit).lean();
    for (const e of stranded) {
      await pendingEventModel(this.connection)
        .create({ _id: e._id, channel: e.channel, sender: e.sender, event: e.event, receivedAt: e.receivedAt, attempts: e.attempts, nextAttemptAt: new Date() })
        .then(() => this.log.warn({ event: e._id }, 'inbox: stranded event queued again'))
        .catch((err: { code?: number }) => {
          if (!isDuplicateKey(err)) throw err;
        });
      // Alone, that sender's queue is now partly in the database: read it first.
      if (this.options.alone) this.fromDatabase.add(`${e.channel}:${e.sender}`);
    }
  }

  /** Handles a sender's pending events in order while holding their lease. */
  private async drain(channel: string, sender: string): Promise<void> {
    const key = `${channel}:${sender}`;
    // One drain a sender in this process: a second asks the running one to look again.
    if (this.draining.has(key)) {
      this.draining.set(key, true);
      return;
    }
    this.draining.set(key, false);
    let more = false;
    try {
      // A voice note being heard: its sender waits, outside the slots, and keeps their order.
      for (let waiting = this.preparing.get(key); waiting && waiting.size > 0; waiting = this.preparing.get(key)) await Promise.all([...waiting]);
      await this.turns(() => this.drainHeld(channel, sender, key));
    } finally {
      more = this.draining.get(key) === true;
      this.draining.delete(key);
      this.keepLease(key);
    }
    // Events that came during the drain go to the back of the line, so a quick customer
    // does not keep a slot while others wait.
    if (more) this.kick(channel, sender);
  }

  /** Writes an event's outcome and takes it off the database's queue, trying again a few times; false when it could not (logged). */
  private async mark(event: PendingEventDoc, outcome: Record<string, unknown>, queued: boolean): Promise<boolean> {
    // Alone, an event in no database queue is marked in the background, with the others of the
    // moment in one command: a mark a crash loses only makes a restart replay the event, which
    // does nothing twice.
    if (this.options.alone && !queued) {
      // Kept a while after its write too: a look begun before the write may read it pending.
      if (this.unwritten.size >= 10_000) this.unwritten.delete(this.unwritten.values().next().value!);
      this.unwritten.add(event._id);
      this.marks.push({ event, outcome });
      this.flushSoon();
      return true;
    }
    for (let attempt = 0; ; attempt += 1) {
      try {
        await inboundEventModel(this.connection).updateOne({ _id: event._id }, { $set: outcome });
        if (queued) await pendingEventModel(this.connection).deleteOne({ _id: event._id });
        return true;
      } catch (err) {
        const wait = MARK_RETRY_MS[attempt];
        const fields = { channel: event.channel, sender: event.sender, event: event._id, status: outcome.status, err: (err as Error).message };
        if (wait === undefined || this.stopping) {
          this.log.error(fields, 'inbox: could not mark an event handled; it stays queued and its next try finishes it without doing it again');
          return false;
        }
        this.log.warn({ ...fields, retryInMs: wait }, 'inbox: could not mark an event handled; trying again');
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  // Alone: outcomes waiting to be written together, the write under way, and how many writes failed in a row.
  private marks: { event: PendingEventDoc; outcome: Record<string, unknown> }[] = [];
  private marking: Promise<void> | undefined;
  private markFailures = 0;

  /** Writes the waiting outcomes once the current write is done (at once when none is). */
  private flushSoon(): void {
    if (this.marking || this.marks.length === 0) return;
    const batch = this.marks;
    this.marks = [];
    this.marking = inboundEventModel(this.connection)
      .collection.bulkWrite(batch.map(({ event, outcome }) => ({ updateOne: { filter: { _id: event._id } as never, update: { $set: outcome } } })), { ordered: false })
      .then(
        () => {
          this.markFailures = 0;
        },
        async (err: Error) => {
          // Tried again until it is written (a restart before that replays those events, doing nothing twice).
          const wait = MARK_RETRY_MS[Math.min(this.markFailures, MARK_RETRY_MS.length - 1)]!;
          this.markFailures += 1;
          for (const { event, outcome } of batch) this.log.warn({ channel: event.channel, sender: event.sender, event: event._id, status: outcome.status, err: err.message, retryInMs: wait }, 'inbox: could not mark an event handled; trying again');
          this.marks = [...batch, ...this.marks];
          if (!this.stopping) await new Promise((resolve) => setTimeout(resolve, wait));
        },
      )
      .finally(() => {
        this.marking = undefined;
        if (!this.stopping) this.flushSoon();
      });
    this.track(this.marking);
  }

  /** Drops a handled (or database-held) event from this process's memory of its queue. */
  private forget(key: string, id: string): void {
    this.arrival.delete(id);
    const left = (this.local.get(key) ?? []).filter((e) => e._id !== id);
    if (left.length > 0) this.local.set(key, left);
    else this.local.delete(key);
  }

  /** The drain itself, once it has one of the turn slots. */
  private async drainHeld(channel: string, sender: string, key: string): Promise<void> {
    await this.requeued;
    if (!(await this.holdLease(key))) return;
    const Event = inboundEventModel(this.connection);
    const Pending = pendingEventModel(this.connection);
    const maxAttempts = this.options.maxAttempts ?? BACKOFF_MS.length + 1;
    this.draining.set(key, false);
    // Its recording kicks this sender again once done.
    if (this.recording.has(key)) return;
    // Every pending event of the sender, oldest first, whichever process recorded it; when
    // this process is the database's only client, the ones it recorded are in its memory,
    // behind any in the database's queue (a retry, or left by a stop), which are older.
    const queued = !this.options.alone || this.fromDatabase.has(key) ? await Pending.find({ channel, sender }).sort({ receivedAt: 1, _id: 1 }).lean() : [];
    const inQueue = new Set(queued.map((e) => e._id));
    const queue = [...queued, ...(this.local.get(key) ?? []).filter((e) => !inQueue.has(e._id))];
    for (const next of queue) {
      // The oldest waits for its retry time; the later ones wait behind it, to keep the order.
      if (next.nextAttemptAt > new Date() || !(await this.extendIfDue(key))) return;
      const handler = this.handlers.get(channel);
      let ok = false;
      let error = 'no handler for this channel';
      if (handler) {
        try {
          ok = await handler(JSON.parse(next.event) as ChannelEvent, { number: next.attempts + 1, last: next.attempts + 1 >= maxAttempts, receivedAt: next.receivedAt });
          error = 'the bot could not handle it';
        } catch (err) {
          error = (err as Error).message;
        }
      }
      const attempts = next.attempts + 1;
      if (ok || attempts >= maxAttempts) {
        this.settled(key);
        if (!ok) this.log.error({ channel, event: next._id, attempts, err: error }, 'inbox: event failed for good; kept as failed');
        const outcome = ok ? { status: 'done', doneAt: new Date(), lastError: null, attempts } : { status: 'failed', lastError: error, attempts };
        // Not marked: it stays queued, and its replay finishes nothing twice (the turn was committed).
        if (!(await this.mark(next, outcome, inQueue.has(next._id)))) return;
        this.forget(key, next._id);
        continue;
      }
      const wait = BACKOFF_MS[Math.min(attempts - 1, BACKOFF_MS.length - 1)]!;
      this.log.warn({ channel, event: next._id, attempts, retryInMs: wait, err: error }, 'inbox: event will be retried');
      const nextAttemptAt = new Date(Date.now() + wait);
      await Event.updateOne({ _id: next._id }, { $set: { lastError: error, attempts, nextAttemptAt } });
      if (inQueue.has(next._id)) await Pending.updateOne({ _id: next._id }, { $set: { attempts, nextAttemptAt } });
      else await insertPlain(Pending, [{ ...next, attempts, nextAttemptAt }]);
      // Until it is handled, this sender's queue is read from the database, which keeps the
      // retry time and the order.
      this.forget(key, next._id);
      this.fromDatabase.add(key);
      return;
    }
    this.fromDatabase.delete(key);
    // What this process recorded meanwhile waits for the next turn slot (see drain);
    // another process's events wait for the poll, as this process keeps the lease a moment.
  }

  /**
   * Makes sure this process holds the sender's lease. A lease is kept a moment after a
   * drain (HOLD_MS), so a conversation's next message needs no lease write of its own.
   */
  private async holdLease(key: string): Promise<boolean> {
    // The database's only client needs no lease: its senders' order is kept in its memory.
    if (this.options.alone) return true;
    const held = this.held.get(key);
    if (held) {
      clearTimeout(held.release);
      held.release = undefined;
      if (await this.extendIfDue(key)) return true;
      this.held.delete(key);
      await releaseLease(this.connection, `inbox:${key}`, this.holder);
    }
    const until = Date.now() + LEASE_MS;
    // A holder that is gone (crashed, here or elsewhere) gives its senders back at once.
    if (!(await takeLease(this.connection, `inbox:${key}`, this.holder, LEASE_MS, { reclaim: true }))) return false;
    this.held.set(key, { until, release: undefined });
    return true;
  }

  /** Keeps a held lease at least half its time ahead (one write every LEASE_MS / 2); false when it is too late. */
  private async extendIfDue(key: string): Promise<boolean> {
    if (this.options.alone) return true;
    const held = this.held.get(key);
    if (!held) return false;
    const left = held.until - Date.now();
    if (left > LEASE_MS / 2) return true;
    const until = Date.now() + LEASE_MS;
    // Only while it is surely still ours: another process takes a lease over only once it expired.
    if (left > 1000 && (await renewLease(this.connection, `inbox:${key}`, this.holder, LEASE_MS))) {
      held.until = until;
      return true;
    }
    return false;
  }

  /** Gives a held lease back after HOLD_MS without a new drain, or at once when stopping. */
  private keepLease(key: string): void {
    const held = this.held.get(key);
    if (!held) return;
    const release = () => {
      if (this.held.get(key) !== held) return;
      this.held.delete(key);
      const work = releaseLease(this.connection, `inbox:${key}`, this.holder).catch((err: Error) => this.log.warn({ err: err.message }, 'inbox: could not give a lease back; it expires by itself'));
      this.track(work);
    };
    if (this.stopping) return release();
    held.release = setTimeout(release, HOLD_MS);
    held.release.unref();
  }
}
