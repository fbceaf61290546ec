import type { TurnContext } from 'botbuilder';
import type { Botkit } from 'botkit';
import { KeyedSerialQueue } from '../channels/serial-queue';
import type { Language } from '../config';
import { TurnConflictError } from '../errors';
import type { Locales } from '../i18n/locales';
import type { Logger } from '../logger';
import { runBotkitTurn } from './botkit-turn';
import type { TurnCommits } from './turn-commits';
import { turnInfo } from './turn-info';
import { inTurnScope } from './turn-scope';

/** The channelData flag of the apology a turn that failed says: the only thing an inbox turn that was not committed sends. */
export const APOLOGY_FLAG = 'taawunApology';

/** How long a turn may take before the customer is told and its event is tried again. */
export const TURN_TIME_LIMIT_MS = 30_000;

/** A replayed event: its turn was applied before, so nothing of it runs again (see TurnCommits). */
export class TurnAlreadyApplied extends Error {
  readonly code = 'TAAWUN_TURN_APPLIED';
  constructor(readonly event: string) {
    super(`event ${event} was applied before: only what is left of it is finished`);
    this.name = 'TurnAlreadyApplied';
  }
}

/**
 * The logic every channel adapter runs for an activity: Botkit's turn, one at a time per
 * customer, within a time limit, then one log line with customer, channel, intent and
 * latency. A turn of an inbox event is committed once at its end (TurnCommits). A failing
 * turn is logged and the customer is told, instead of the process crashing.
 */
export function createTurnHandler(
  controller: Botkit,
  commits: TurnCommits,
  locales: () => Locales,
  defaultLanguage: Language,
  log: Logger,
  options: { queue?: KeyedSerialQueue; timeLimitMs?: number } = {},
) {
  const queue = options.queue ?? new KeyedSerialQueue();
  const timeLimitMs = options.timeLimitMs ?? TURN_TIME_LIMIT_MS;

  /** Runs the turn; resolves false when it failed (the customer was told), so a durable inbox can try again. */
  const handle = async (context: TurnContext): Promise<boolean> => {
    const info = turnInfo(context);
    const sender = String(context.activity.from?.id);
    const received = Date.now();
    return queue.run(`${info.channel}:${sender}`, () =>
      inTurnScope({ channel: info.channel, sender, ...(info.event ? { event: info.event } : {}) }, async () => {
        const started = Date.now();
        const fields = () => ({ customer: info.customer ? String(info.customer._id) : null, channel: info.channel, ...(info.event ? { event: info.event } : {}) });
        let late = false;
        const work = (async () => {
          await runBotkitTurn(controller, context);
          if (info.unsaved) throw info.unsaved;
          // A turn that ran out of time is tried again: it must not commit behind the retry's back.
          if (info.event && !late) info.committed = await commits.commit(context, info.event, info.journal!(), Boolean(info.forgotten));
        })();
        let timer: NodeJS.Timeout | undefined;
        const limit = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), timeLimitMs);
        });
        try {
          if ((await Promise.race([work, limit])) === 'late') {
            late = true;
            // It may still settle, long after: nothing waits for it then.
            work.catch(() => undefined);
            log.error({ ...fields(), limitMs: timeLimitMs }, 'turn ran out of time; the customer is told and the message will be tried again');
            await apologize(context);
            return false;
          }
          log.info({ ...fields(), type: context.activity.type, intent: info.intent ?? null, latencyMs: Date.now() - received, queuedMs: started - received }, 'message handled');
          return true;
        } catch (err) {
          if (err instanceof TurnAlreadyApplied) {
            log.info({ ...fields(), version: info.replayed }, 'message applied before: finishing what is left of it');
            return true;
          }
          if (err instanceof TurnConflictError) {
            log.warn({ ...fields(), err: err.message }, 'message will be handled again: its conversation moved on meanwhile');
            return false;
          }
          log.error({ ...fields(), err: (err as Error).message, stack: (err as Error).stack }, 'message failed');
          await apologize(context);
          return false;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  };

  /** Tells the customer something went wrong (once an event: not again on its retries); an inbox turn sends nothing else (see APOLOGY_FLAG). */
  const apologize = async (context: TurnContext): Promise<void> => {
    const info = turnInfo(context);
    if ((info.attempt ?? 1) > 1) return;
    const lang = (info.customer?.language as Language | undefined) ?? defaultLanguage;
    await context.sendActivity({ type: 'message', text: locales().text(lang, 'errors.internal'), channelData: { [APOLOGY_FLAG]: true } }).catch(() => undefined);
  };

  return Object.assign(handle, { queue, commits });
}

export type TurnHandler = ReturnType<typeof createTurnHandler>;
