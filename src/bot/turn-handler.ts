import type { TurnContext } from 'botbuilder';
import type { Botkit } from 'botkit';
import { KeyedSerialQueue } from '../channels/serial-queue';
import type { Language } from '../config';
import type { Locales } from '../i18n/locales';
import type { Logger } from '../logger';
import { turnInfo } from './turn-info';

/**
 * The logic every channel adapter runs for an activity: Botkit's turn, one at a time per
 * customer, then one log line with customer, channel, intent and latency. A failing turn
 * is logged and the customer is told, instead of the process crashing.
 */
export function createTurnHandler(controller: Botkit, locales: () => Locales, defaultLanguage: Language, log: Logger, queue = new KeyedSerialQueue()) {
  /** Runs the turn; resolves false when it failed (the customer was told), so a durable inbox can try again. */
  const handle = async (context: TurnContext): Promise<boolean> => {
    const key = `${turnInfo(context).channel}:${context.activity.from?.id}`;
    const received = Date.now();
    return queue.run(key, async () => {
      const started = Date.now();
      try {
        await controller.handleTurn(context);
        const unsaved = turnInfo(context).unsaved;
        if (unsaved) throw unsaved;
        const info = turnInfo(context);
        log.info(
          {
            customer: info.customer ? String(info.customer._id) : null,
            channel: info.channel,
            type: context.activity.type,
            intent: info.intent ?? null,
            latencyMs: Date.now() - received,
            queuedMs: started - received,
          },
          'message handled',
        );
        return true;
      } catch (err) {
        const info = turnInfo(context);
        log.error(
          { customer: info.customer ? String(info.customer._id) : null, channel: info.channel, err: (err as Error).message, stack: (err as Error).stack },
          'message failed',
        );
        const lang = (info.customer?.language as Language | undefined) ?? defaultLanguage;
        await context.sendActivity(locales().text(lang, 'errors.internal')).catch(() => undefined);
        return false;
      }
    });
  };
  return Object.assign(handle, { queue });
}

export type TurnHandler = ReturnType<typeof createTurnHandler>;
