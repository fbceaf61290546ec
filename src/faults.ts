/**
 * Named points where a crash test kills this process, to prove that a crash there changes
 * nothing a customer ordered. `TAAWUN_CRASH_AT=turn-committed:3` makes the 3rd pass through
 * that point SIGKILL the process (as `kill -9` would, with no cleanup); unset, a point is one
 * lookup in an empty map. Only the crash test sets it.
 */
export type FaultPoint =
  /** A webhook's event archived, before it is queued and the webhook answered. */
  | 'webhook-archived'
  /** An order inserted, before its turn is committed. */
  | 'order-placed'
  /** A turn's state committed, before its replies are sent. */
  | 'turn-committed'
  /** A turn's replies sent, before its messages are stored. */
  | 'reply-sent'
  /** A turn's messages stored, before its event is marked handled. */
  | 'messages-stored';

const armed = parse(process.env.TAAWUN_CRASH_AT ?? '');
const passes = new Map<string, number>();

function parse(spec: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of spec.split(',').filter(Boolean)) {
    const [name, n] = part.split(':');
    if (!name || !/^\d+$/.test(n ?? '')) throw new Error(`TAAWUN_CRASH_AT: "${part}" is not point:count (for example turn-committed:3)`);
    out.set(name, Number(n));
  }
  return out;
}

/** Kills the process here if a crash test armed this point for this pass. */
export function faultPoint(name: FaultPoint): void {
  const at = armed.get(name);
  if (at === undefined) return;
  const n = (passes.get(name) ?? 0) + 1;
  passes.set(name, n);
  if (n === at) {
    process.stderr.write(`TAAWUN_CRASH_AT: killing this process at ${name} (pass ${n})\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
