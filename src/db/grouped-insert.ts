import type { Collection } from 'mongoose';

/** A duplicate `_id` among the documents of one caller of a grouped insert: code 11000, as the driver's own. */
export class GroupedDuplicateKeyError extends Error {
  readonly code = 11000;
  constructor(readonly indexes: number[]) {
    super(`E11000 duplicate key: documents ${indexes.join(', ')} of this insert were already stored`);
    this.name = 'GroupedDuplicateKeyError';
  }
}

interface Waiting {
  docs: object[];
  resolve(): void;
  reject(err: unknown): void;
}

// At most this many documents in one command.
const MAX_BATCH = 500;

/**
 * Inserts into one collection, the inserts asked for while one runs going together in the
 * next command (a group commit). Every command costs a round trip and, on this kind of
 * machine, a write system call of a fifth of a millisecond; at 100 messages a second a dozen
 * turns insert at once, so most go in groups. Alone, an insert goes at once. Each caller
 * learns of its own documents: a duplicate `_id` among them rejects with code 11000 (the
 * others of that caller are stored), any other failure rejects every caller of the group.
 */
export class GroupedInserts {
  private waiting: Waiting[] = [];
  private running = false;

  constructor(private readonly collection: Collection) {}

  /** Inserts the documents; resolves once they are stored. */
  insert(docs: object[]): Promise<void> {
    if (docs.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ docs, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      const batch: Waiting[] = [];
      let size = 0;
      while (this.waiting.length > 0 && (batch.length === 0 || size + this.waiting[0]!.docs.length <= MAX_BATCH)) {
        const next = this.waiting.shift()!;
        batch.push(next);
        size += next.docs.length;
      }
      const docs = batch.flatMap((w) => w.docs);
      try {
        if (docs.length === 1) await this.collection.insertOne(docs[0]!);
        else await this.collection.insertMany(docs, { ordered: false });
        for (const w of batch) w.resolve();
      } catch (err) {
        settle(batch, err);
      }
    }
    this.running = false;
  }
}

/** Gives each caller of a failed group its own outcome: the duplicates among its documents, or the error. */
function settle(batch: Waiting[], err: unknown): void {
  const writeErrors = (err as { writeErrors?: { index: number; code?: number }[] | { index: number; code?: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  // A lone insertOne's duplicate has no writeErrors: it is the one document's.
  const single = batch.length === 1 && batch[0]!.docs.length === 1 && (err as { code?: number }).code === 11000;
  if (!single && (list.length === 0 || list.some((w) => w.code !== 11000))) {
    for (const w of batch) w.reject(err);
    return;
  }
  const failed = new Set(single ? [0] : list.map((w) => w.index));
  let offset = 0;
  for (const w of batch) {
    const mine = w.docs.map((_, i) => i).filter((i) => failed.has(offset + i));
    offset += w.docs.length;
    if (mine.length > 0) w.reject(new GroupedDuplicateKeyError(mine));
    else w.resolve();
  }
}
