import type { BotAdapter, Storage } from 'botbuilder';
import { Botkit } from 'botkit';
import type { Connection } from 'mongoose';
import type { Language } from '../config';
import type { Locales } from '../i18n/locales';
import type { Logger } from '../logger';
import { installGreeting } from './greeting';
import { conversationRecorder } from './recorder';
import { createTurnHandler, type TurnHandler } from './turn-handler';

/** The Botkit controller with its middleware and dialogs, and the turn handler adapters call. */
export interface Bot {
  controller: Botkit;
  handleTurn: TurnHandler;
}

/** Builds the Botkit controller on an adapter and a storage; the HTTP server is ours, not Botkit's. */
export async function createBot(options: {
  adapter: BotAdapter;
  storage: Storage;
  connection: Connection;
  locales: Locales;
  defaultLanguage: Language;
  log: Logger;
}): Promise<Bot> {
  const controller = new Botkit({
    adapter: options.adapter,
    storage: options.storage,
    disable_webserver: true,
    disable_console: true,
  });
  controller.middleware.ingest.use(conversationRecorder(options.connection, options.log));
  installGreeting(controller, options.connection, options.locales, options.defaultLanguage);
  // Dialogs are registered through controller.ready; wait so no turn arrives before them.
  await new Promise<void>((resolve) => controller.ready(() => resolve()));
  return { controller, handleTurn: createTurnHandler(controller, options.locales, options.defaultLanguage, options.log) };
}
