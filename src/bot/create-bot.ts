import type { BotAdapter, Storage, TurnContext } from 'botbuilder';
import type { BotkitMessage, BotWorker } from 'botkit';
import type { Router } from 'express';
import { Botkit } from 'botkit';
import type { Connection } from 'mongoose';
import type { Language } from '../config';
import type { ActionServices } from '../flows/actions';
import type { Logger } from '../logger';
import { FlowEngine } from '../flows/flow-engine';
import type { FlowPaths } from '../flows/flow-library';
import { builtinActions } from './builtin-actions';
import { conversationRecorder } from './recorder';
import { turnInfo } from './turn-info';
import { createTurnHandler, TurnAlreadyApplied, type TurnHandler } from './turn-handler';
import { TurnCommits } from './turn-commits';
import type { TurnStore } from '../db/mongo-storage';

/** The Botkit controller with its middleware and dialogs, and the turn handler adapters call. */
export interface Bot {
  controller: Botkit;
  flows: FlowEngine;
  handleTurn: TurnHandler;
}

/** Builds the Botkit controller on an adapter, a storage and our express router, where Botkit adds its webhook. */
export async function createBot(options: {
  adapter: BotAdapter;
  webserver: Router;
  webhookUri: string;
  /** The conversation store: a TurnStore too, so that inbox turns are applied once. */
  storage: Storage & TurnStore;
  connection: Connection;
  flowPaths: FlowPaths;
  defaultLanguage: Language;
  services: ActionServices;
  log: Logger;
  /** How long a turn may take (TURN_TIME_LIMIT_MS by default). */
  turnTimeLimitMs?: number;
}): Promise<Bot> {
  const controller = new Botkit({
    adapter: options.adapter,
    storage: options.storage,
    // Our router, not a server of Botkit's own: it would listen on PORT by itself.
    webserver: options.webserver,
    webhook_uri: options.webhookUri,
    disable_console: true,
  });
  const commits = new TurnCommits(controller, options.storage);
  // First of all, once the turn has read its conversation: an inbox event applied before (a
  // retry, a redelivery, a replay after a crash) runs nothing again; its adapter finishes it.
  controller.middleware.ingest.use((bot: BotWorker, _message: BotkitMessage, next: (err?: Error) => void) => {
    const context = bot.getConfig('context') as TurnContext;
    const info = turnInfo(context);
    const version = info.event ? commits.appliedVersion(context, info.event) : undefined;
    if (version === undefined) return next();
    info.replayed = version;
    next(new TurnAlreadyApplied(info.event!));
  });
  // Understanding comes from the flows (their catalog and examples reload with them); it is
  // bound once the engine exists, and runs inside the recorder so labels are stored at once.
  let engine: FlowEngine | undefined;
  controller.middleware.ingest.use(conversationRecorder(options.connection, options.log, async (info, text) => (engine ? engine.understand(info, text) : {})));
  // Botkit saves the state inside a middleware callback, where a throw never ends the turn
  // (it hung, and that customer's queue with it): a failed save is kept for the turn handler.
  // An inbox turn saves nothing while it runs: its state is committed once, at its end.
  const saveState = controller.saveState.bind(controller);
  controller.saveState = async (bot) => {
    const info = turnInfo(bot.getConfig('context') as TurnContext);
    if (info.event) return;
    // Tried twice: a failed turn is run again by the inbox, with all it does.
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      try {
        await saveState(bot);
        // A later save writes the whole state: an earlier failure (a dialog beginning) is mended.
        delete info.unsaved;
        return;
      } catch (err) {
        info.unsaved = err as Error;
      }
    }
  };
  await new Promise<void>((resolve) => controller.ready(() => resolve()));
  const flows = (engine = await FlowEngine.start({
    controller,
    connection: options.connection,
    paths: options.flowPaths,
    actions: builtinActions(),
    defaultLanguage: options.defaultLanguage,
    services: options.services,
    log: options.log,
  }));
  return { controller, flows, handleTurn: createTurnHandler(controller, commits, () => flows.current.locales, options.defaultLanguage, options.log, { timeLimitMs: options.turnTimeLimitMs }) };
}
