/**
 * Whether a write failed because its unique key (usually `_id`) was taken: the one
 * decision FerretDB 1.24 and MongoDB both make atomically, used here for every
 * once-only choice (a lease, a version, an order number, a redelivered event).
 */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number } | null)?.code === 11000;
}

/** Runs an insert; false when the key was already taken, any other error thrown. */
export async function insertOnce(insert: Promise<unknown>): Promise<boolean> {
  try {
    await insert;
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}
