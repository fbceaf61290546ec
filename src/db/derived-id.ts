import { createHash } from 'node:crypto';
import { Types } from 'mongoose';

/**
 * An ObjectId that is the same every time for the same `key`: its time part is `at` (so it
 * sorts with the ids made around then), the rest a hash of the key. What a turn writes is
 * keyed by its message's id, made so from the inbox event: a turn run again after a crash
 * writes the same documents, and the unique `_id` keeps one of each.
 */
export function derivedObjectId(key: string, at: Date): Types.ObjectId {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.floor(at.getTime() / 1000))), 0);
  createHash('sha256').update(key).digest().copy(bytes, 4, 0, 8);
  return new Types.ObjectId(bytes);
}
