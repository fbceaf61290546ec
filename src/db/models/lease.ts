import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey } from '../duplicate-key';

/** A short lease on a name (a customer's inbox, a scheduled job) held by one process at a time. */
export interface LeaseDoc {
  _id: string;
  holder: string;
  expiresAt: Date;
}

const leaseSchema = new Schema<LeaseDoc>(
  {
    _id: { type: String, required: true },
    holder: { type: String, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'leases', versionKey: false },
);

/** The leases model bound to a connection. */
export function leaseModel(connection: Connection): Model<LeaseDoc> {
  return (connection.models.Lease as Model<LeaseDoc>) ?? connection.model('Lease', leaseSchema);
}

/**
 * A name for this process in leases: its machine, its pid namespace and pid (to tell a dead
 * holder: containers sharing a host name each have their own pids), and a random part (a pid
 * comes back after a restart).
 */
export function leaseHolderName(): string {
  return `${os.hostname()}:${PID_NAMESPACE}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

const PID_NAMESPACE = (() => {
  try {
    return /\d+/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[0] ?? 'na';
  } catch {
    return 'na';
  }
})();

/** When a process last said it is alive, for the holders of leases on other machines. */
export interface ProcessBeatDoc {
  _id: string;
  beatAt: Date;
}

const processBeatSchema = new Schema<ProcessBeatDoc>({ _id: { type: String, required: true }, beatAt: { type: Date, required: true } }, { collection: 'process_beats', versionKey: false });

/** The process heartbeats model bound to a connection. */
export function processBeatModel(connection: Connection): Model<ProcessBeatDoc> {
  return (connection.models.ProcessBeat as Model<ProcessBeatDoc>) ?? connection.model('ProcessBeat', processBeatSchema);
}

// Heartbeats every BEAT_MS; a holder silent for STALE_MS is gone. A process frozen that long
// that comes back finds its leases taken: its turns in flight are refused at their commit and
// send nothing, and the new holder runs them.
const BEAT_MS = 2000;
const STALE_MS = 10_000;

/** Writes this process's heartbeat on each connection every 2 s, so other machines can tell it is alive; returns a function that stops it (and removes them). */
export function startHeartbeat(connections: Connection[], holder: string, log: { warn(o: object, m: string): void }): () => Promise<void> {
  const beat = () =>
    Promise.all(connections.map((c) => processBeatModel(c).updateOne({ _id: holder }, { $set: { beatAt: new Date() } }, { upsert: true }))).catch((err: Error) =>
      log.warn({ err: err.message }, 'could not write this process\'s heartbeat'),
    );
  void beat();
  const timer = setInterval(() => void beat(), BEAT_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await Promise.all(connections.map((c) => processBeatModel(c).deleteOne({ _id: holder }))).catch(() => undefined);
  };
}

/**
 * Whether the holder of a lease is a process that is gone: on this machine and in its pid
 * namespace, one whose pid no longer runs or is this process's own (a restart took the pid
 * back); elsewhere, one whose heartbeat stopped. A holder that never wrote a heartbeat is
 * taken to be alive.
 */
export async function holderGone(connection: Connection, holder: string, self: string): Promise<boolean> {
  if (holder === self) return false;
  const [host, namespace, pid] = holder.split(':');
  if (host === os.hostname() && namespace === PID_NAMESPACE && /^\d+$/.test(pid ?? '')) return Number(pid) === process.pid || !processAlive(Number(pid));
  const beat = await processBeatModel(connection).findById(holder).lean();
  return Boolean(beat && Date.now() - beat.beatAt.getTime() > STALE_MS);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lease on `name` for `ms`, or says it is held. Decided by inserting `_id`, the
 * one write FerretDB 1.24 and MongoDB both make atomic; an expired lease is removed first.
 * With `reclaim`, a lease whose holder is gone (holderGone) is taken over at once, without
 * waiting for it to expire: for locks on work, never for leases that mark work done.
 */
export async function takeLease(connection: Connection, name: string, holder: string, ms: number, options: { reclaim?: boolean } = {}): Promise<boolean> {
  const Lease = leaseModel(connection);
  const insert = async () => {
    try {
      await Lease.create({ _id: name, holder, expiresAt: new Date(Date.now() + ms) });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  };
  if (await insert()) return true;
  // Held: by a live holder, or left by one that died. An expired lease is taken over, and with `reclaim` a gone holder's.
  const removed = await Lease.deleteOne({ _id: name, expiresAt: { $lt: new Date() } });
  if (removed.deletedCount === 1) return insert();
  if (!options.reclaim) return false;
  const lease = await Lease.findById(name).lean();
  if (!lease || !(await holderGone(connection, lease.holder, holder))) return false;
  const taken = await Lease.deleteOne({ _id: name, holder: lease.holder });
  return taken.deletedCount === 1 && insert();
}

/** Extends a lease this holder still has by `ms` from now; false when it was lost (expired and taken). */
export async function renewLease(connection: Connection, name: string, holder: string, ms: number): Promise<boolean> {
  const renewed = await leaseModel(connection).updateOne({ _id: name, holder }, { $set: { expiresAt: new Date(Date.now() + ms) } });
  return renewed.matchedCount === 1;
}

/** Gives the lease back, if this holder still has it. */
export async function releaseLease(connection: Connection, name: string, holder: string): Promise<void> {
  await leaseModel(connection).deleteOne({ _id: name, holder });
}
