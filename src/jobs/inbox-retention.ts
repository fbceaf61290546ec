import cron from 'node-cron';
import type { Connection } from 'mongoose';
import { inboundEventModel } from '../db/models/inbound-event';
import { releaseLease, takeLease } from '../db/models/lease';
import type { Logger } from '../logger';

/** How long handled webhook events are kept: long after Meta stops redelivering (about a day). */
export const HANDLED_EVENTS_KEPT_DAYS = 7;

/**
 * Deletes handled webhook events older than the retention, so the archive does not grow
 * forever (FerretDB has no TTL indexes). Failed events stay for the staff. One process
 * runs it at a time, under a lease.
 */
export async function pruneHandledEvents(connection: Connection, log: Logger, holder: string, now = new Date()): Promise<number> {
  if (!(await takeLease(connection, 'job:inbox-retention', holder, 10 * 60_000, { reclaim: true }))) return 0;
  try {
    const before = new Date(now.getTime() - HANDLED_EVENTS_KEPT_DAYS * 86_400_000);
    const { deletedCount } = await inboundEventModel(connection).deleteMany({ status: 'done', doneAt: { $lt: before } });
    if (deletedCount) log.info({ deleted: deletedCount }, `inbox: handled events older than ${HANDLED_EVENTS_KEPT_DAYS} days deleted`);
    return deletedCount;
  } finally {
    await releaseLease(connection, 'job:inbox-retention', holder);
  }
}

/** Runs the retention every hour; returns a function that stops it. */
export function scheduleInboxRetention(connection: Connection, log: Logger, holder: string): () => void {
  const task = cron.schedule('17 * * * *', () => {
    pruneHandledEvents(connection, log, holder).catch((err: Error) => log.error({ err: err.message }, 'inbox retention failed'));
  });
  return () => void task.stop();
}
