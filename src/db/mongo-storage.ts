import { createHash } from 'node:crypto';
import type { Storage, StoreItems } from 'botbuilder';
import type { Connection, Model } from 'mongoose';
import { ETagConflictError, TurnConflictError } from '../errors';
import { dialogStateModel, type DialogStateDoc } from './models/dialog-state';
import { isDuplicateKey } from './duplicate-key';
import { insertPlainGrouped } from './plain-insert';

const MAX_FORCED_ATTEMPTS = 20;
const CLEAN_EVERY = 8;
// Inbox events a version remembers as applied (its own and its predecessors'): a replay comes
// before the sender's next events, so the last few are enough (a proactive message may come between).
const APPLIED_KEPT = 12;
// A version's journal is read only by a replay: every other read leaves it out.
const WITHOUT_JOURNAL = { turn: 0 } as const;

/** What this process last saw of a key: its latest version, and the inbox events applied up to it. */
interface Known {
  v: number;
  applied: string[];
}

/** The conversation store a turn is applied through exactly once (see OutboxAdapter.processEvent). */
export interface TurnStore {
  /** The latest version of `key` as this turn read it (0: none). */
  versionOf(key: string): number;
  /** The version of `key` that applied inbox event `event`, as last read here; undefined when none did. */
  appliedAt(key: string, event: string): number | undefined;
  /** Commits a turn as the version after `base`: its state (null after an erasure), its event and its journal, in one insert. */
  commit(key: string, item: object | null, base: number, event: string, journal: string): Promise<number>;
  /** The journal of the turn that wrote version `v`, with how many of its messages went out; null when that version is gone. */
  turnAt(key: string, v: number): Promise<{ journal: string; sent: number } | null>;
  /** Records that `sent` of that turn's messages went out. */
  markSent(key: string, v: number, sent: number): Promise<void>;
}

/**
 * botbuilder's Storage on MongoDB, so dialog state survives a restart. Writes honour
 * eTags as MemoryStorage does: no eTag or "*" writes unconditionally; any other eTag
 * writes only if it is still the stored one, else ETagConflictError. The eTag is the
 * item's version number; see DialogStateDoc for why versions are inserted, not updated.
 */
export class MongoStorage implements Storage, TurnStore {
  private readonly model: Model<DialogStateDoc>;
  // The version each key had when last read or written here: a forced write tries the next
  // one at once, and looks the latest up only if another writer took it.
  private readonly known = new Map<string, Known>();
  // Alone, the latest version of the conversations read or written lately, as stored: the only
  // writer reads them from memory (an erasure forgets them, see forgetConversations).
  private readonly latestDocs = new Map<string, DialogStateDoc>();

  /** `alone`: this process is the only one writing dialog state, so a version it knows is the latest. */
  constructor(
    connection: Connection,
    private readonly options: { alone?: boolean } = {},
  ) {
    this.model = dialogStateModel(connection);
    let mine = storagesOf.get(connection);
    if (!mine) storagesOf.set(connection, (mine = new Set()));
    mine.add(this);
  }

  /** Forgets what this process knows of the keys that match (their versions were deleted). */
  forget(matches: (key: string) => boolean): void {
    for (const key of [...this.known.keys()]) if (matches(key)) this.known.delete(key);
    for (const key of [...this.latestDocs.keys()]) if (matches(key)) this.latestDocs.delete(key);
  }

  /** Alone: keeps a key's latest version in memory, the oldest one going when full. */
  private remember(doc: DialogStateDoc): void {
    if (!this.options.alone) return;
    this.latestDocs.delete(doc.key);
    if (this.latestDocs.size >= LATEST_KEPT) this.latestDocs.delete(this.latestDocs.keys().next().value!);
    this.latestDocs.set(doc.key, doc);
  }

  /** Reads the items that exist among `keys`; missing or deleted keys are absent from the result. */
  async read(keys: string[]): Promise<StoreItems> {
    if (keys.length === 0) return {};
    const items: StoreItems = {};
    const put = (doc: DialogStateDoc) => {
      this.known.set(doc.key, { v: doc.v, applied: doc.applied ?? [] });
      this.remember(doc);
      if (doc.item !== null) items[doc.key] = { ...JSON.parse(doc.item), eTag: String(doc.v) };
    };
    // A key this process has seen is read by _id: its known version (gone when the customer
    // was erased), then any newer one another writer added, one step at a time.
    const unknown: string[] = [];
    for (const key of keys) {
      const known = this.known.get(key)?.v;
      const kept = this.latestDocs.get(key);
      // 0: a key seen here without versions yet.
      let doc = kept && kept.v === known ? kept : !known ? null : await this.byId(versionId(key, known));
      if (!doc) {
        unknown.push(key);
        continue;
      }
      if (!this.options.alone) for (let next = await this.byId(versionId(key, doc.v + 1)); next; next = await this.byId(versionId(key, next.v + 1))) doc = next;
      put(doc);
    }
    // Version 1 is never cleaned up: without it the key has no versions at all (a new
    // conversation), which an _id lookup tells; only a key with a history needs the scan.
    const withHistory: string[] = [];
    for (const key of unknown) {
      if (await this.model.exists({ _id: versionId(key, 1) })) withHistory.push(key);
      else this.known.set(key, { v: 0, applied: [] });
    }
    if (withHistory.length === 0) return items;
    const docs = await this.model.find({ key: { $in: withHistory } }, WITHOUT_JOURNAL).sort({ key: 1, v: -1 }).lean();
    const seen = new Set<string>();
    for (const doc of docs) {
      if (seen.has(doc.key)) continue;
      seen.add(doc.key);
      put(doc);
    }
    return items;
  }

  /** Writes each item, checking its eTag; throws ETagConflictError for the first stale one. */
  async write(changes: StoreItems): Promise<void> {
    for (const [key, change] of Object.entries(changes)) {
      const { eTag, ...rest } = (change ?? {}) as { eTag?: string };
      const item = JSON.stringify(rest);
      if (!eTag || eTag === '*') await this.writeForced(key, item);
      else await this.writeIfCurrent(key, item, eTag);
    }
  }

  /** Deletes the items (a deletion is a version too, so stale writers still conflict); a missing key is not an error. */
  async delete(keys: string[]): Promise<void> {
    for (const key of keys) {
      const latest = await this.latest(key);
      if (latest && latest.item !== null) await this.writeForced(key, null);
    }
  }

  versionOf(key: string): number {
    return this.known.get(key)?.v ?? 0;
  }

  appliedAt(key: string, event: string): number | undefined {
    const mark = eventMark(event);
    const entry = this.known.get(key)?.applied.find((a) => a.slice(0, a.lastIndexOf('@')) === mark);
    return entry === undefined ? undefined : Number(entry.slice(entry.lastIndexOf('@') + 1));
  }

  async commit(key: string, item: object | null, base: number, event: string, journal: string): Promise<number> {
    const v = base + 1;
    // The versions known here are the ones this turn read: another writer since is a conflict.
    const before = this.known.get(key);
    const applied = [...(before && before.v === base ? before.applied : []), `${eventMark(event)}@${v}`].slice(-APPLIED_KEPT);
    try {
      await this.insertVersion(key, v, item === null ? null : JSON.stringify(item), { applied, turn: journal, sent: 0 });
    } catch (err) {
      if (isDuplicateKey(err)) throw new TurnConflictError(key);
      throw err;
    }
    return v;
  }

  async turnAt(key: string, v: number): Promise<{ journal: string; sent: number } | null> {
    const doc = await this.model.findById(versionId(key, v), { turn: 1, sent: 1 }).lean();
    return doc?.turn ? { journal: doc.turn, sent: doc.sent ?? 0 } : null;
  }

  async markSent(key: string, v: number, sent: number): Promise<void> {
    await this.model.updateOne({ _id: versionId(key, v) }, { $set: { sent } });
  }

  private async writeForced(key: string, item: string | null): Promise<void> {
    for (let attempt = 0; attempt < MAX_FORCED_ATTEMPTS; attempt += 1) {
      const known = attempt === 0 ? this.known.get(key) : undefined;
      const latest = known ? undefined : await this.latest(key);
      const base = known?.v ?? latest?.v ?? 0;
      // What the previous version applied stays known (a rating request between two messages).
      const applied = known?.applied ?? latest?.applied;
      try {
        await this.insertVersion(key, base + 1, item, applied?.length ? { applied } : {});
        return;
      } catch (err) {
        // Another writer took that version first; an unconditional write just goes after it.
        if (!isDuplicateKey(err)) throw err;
      }
    }
    throw new ETagConflictError(key);
  }

  private async writeIfCurrent(key: string, item: string, eTag: string): Promise<void> {
    const base = /^\d+$/.test(eTag) ? Number(eTag) : undefined;
    const latest = await this.latest(key);
    const exists = latest !== null && latest.item !== null;
    // Like MemoryStorage: an eTag for an item that does not exist writes it.
    if (exists && latest.v !== base) throw new ETagConflictError(key);
    const version = (latest?.v ?? 0) + 1;
    try {
      await this.insertVersion(key, version, item, latest?.applied?.length ? { applied: latest.applied } : {});
    } catch (err) {
      if (isDuplicateKey(err)) throw new ETagConflictError(key);
      throw err;
    }
    // A newer version than ours means we raced past a writer whose version was already
    // cleaned up: ours is stale, so take it back and report the conflict.
    if (await this.model.exists({ key, v: { $gt: version } })) {
      await this.model.deleteOne({ _id: versionId(key, version) });
      throw new ETagConflictError(key);
    }
  }

  private async insertVersion(key: string, v: number, item: string | null, extra: Pick<DialogStateDoc, 'applied' | 'turn' | 'sent'>): Promise<void> {
    const doc: DialogStateDoc = { _id: versionId(key, v), key, v, item, updatedAt: new Date(), ...extra };
    try {
      await insertPlainGrouped(this.model, [doc]);
    } catch (err) {
      // Lost to another writer, or landed without saying so (a timeout): what this process knows
      // of the key is no longer the latest, and its next read looks for it.
      this.known.delete(key);
      this.latestDocs.delete(key);
      throw err;
    }
    this.known.set(key, { v, applied: extra.applied ?? [] });
    this.remember({ ...doc, turn: null });
    // Old versions are cleaned every few writes, off the turn's path, keeping the previous
    // one so a reader racing this write still finds a version, and version 1 (see read): the
    // last round's kept one goes now. Each carries its turn's words, so none stays for good
    // (an erasure deletes them all). By _id, in one command: FerretDB scans for anything else.
    if (v % CLEAN_EVERY === 0) {
      const old = Array.from({ length: CLEAN_EVERY }, (_, i) => v - CLEAN_EVERY - 1 + i).filter((n) => n > 1);
      this.model.bulkWrite(old.map((n) => ({ deleteOne: { filter: { _id: versionId(key, n) } } })), { ordered: false }).catch(() => undefined);
    }
  }

  /** A version by `_id`, without its journal, through the driver: every turn reads one (mongoose's query costs more than the read). */
  private byId(id: string): Promise<DialogStateDoc | null> {
    return this.model.collection.findOne<DialogStateDoc>({ _id: id } as never, { projection: WITHOUT_JOURNAL });
  }

  private latest(key: string): Promise<DialogStateDoc | null> {
    return this.model.findOne({ key }, WITHOUT_JOURNAL).sort({ v: -1 }).lean();
  }
}

// Conversations whose latest version the only writer keeps in memory (a few KB each).
const LATEST_KEPT = 20_000;
const storagesOf = new WeakMap<Connection, Set<MongoStorage>>();

/** Tells every storage on the connection that the versions of the matching keys were deleted (an erasure). */
export function forgetConversations(connection: Connection, matches: (key: string) => boolean): void {
  for (const storage of storagesOf.get(connection) ?? []) storage.forget(matches);
}

/** An event as a version remembers it: a short hash (Messenger's message ids run to 80 characters). */
function eventMark(event: string): string {
  return createHash('sha256').update(event).digest('base64url').slice(0, 16);
}

function versionId(key: string, v: number): string {
  return `${key}#${v}`;
}
