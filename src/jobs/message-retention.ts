import cron from 'node-cron';
import type { Connection } from 'mongoose';
import { releaseLease, takeLease } from '../db/models/lease';
import { messageModel } from '../db/models/message';
import { messageRefModel } from '../db/models/message-ref';
import type { Logger } from '../logger';
import type { VoiceStore } from '../voice/voice-store';

/** Deletes messages older than the retention (MESSAGE_RETENTION_DAYS), under a lease so one process does it. */
export async function pruneOldMessages(connection: Connection, days: number, holder: string, log: Logger, now = new Date(), voiceFiles?: VoiceStore): Promise<number> {
  if (!(await takeLease(connection, 'job:message-retention', holder, 60 * 60_000, { reclaim: true }))) return 0;
  try {
    const before = new Date(now.getTime() - days * 86_400_000);
    const { deletedCount } = await messageModel(connection).deleteMany({ at: { $lt: before } });
    // Their platform ids go with them (a status or reaction to them then finds nothing).
    await messageRefModel(connection).deleteMany({ at: { $lt: before } });
    // Voice notes' audio goes with its messages: a file as old as them is kept for none.
    const files = voiceFiles?.prune(before) ?? 0;
    if (deletedCount || files) log.info({ deleted: deletedCount, voiceFiles: files, days }, `messages older than ${days} days deleted`);
    return deletedCount;
  } finally {
    await releaseLease(connection, 'job:message-retention', holder);
  }
}

/** Runs the retention every night at 03:30 in the cooperative's time zone; returns a function that stops it. */
export function scheduleMessageRetention(connection: Connection, days: number | undefined, timeZone: string, holder: string, log: Logger, voiceFiles?: VoiceStore): () => void {
  if (days === undefined) return () => undefined;
  const task = cron.schedule(
    '30 3 * * *',
    () => {
      pruneOldMessages(connection, days, holder, log, new Date(), voiceFiles).catch((err: Error) => log.error({ err: err.message }, 'message retention failed'));
    },
    { timezone: timeZone },
  );
  return () => void task.stop();
}
