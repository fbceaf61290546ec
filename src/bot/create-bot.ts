import type { BotAdapter, Storage } from 'botbuilder';
import type { Router } from 'express';
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

/** Builds the Botkit controller on an adapter, a storage and our express router, where Botkit adds its webhook. */
export async function createBot(options: {
  adapter: BotAdapter;
  webserver: Router;
  webhookUri: string;
  storage: Storage;
  connection: Connection;
  locales: Locales;
  defaultLanguage: Language;
  log: Logger;
}): Promise<Bot> {
  const controller = new Botkit({
    adapter: options.adapter,
    storage: options.storage,
    // Our router, not a server of Botkit's own: it would listen on PORT by itself.
    webserver: options.webserver,
    webhook_uri: options.webhookUri,
    disable_console: true,
  });
  controller.middleware.ingest.use(conversationRecorder(options.connection, options.log));
  installGreeting(controller, options.connection, options.locales, options.defaultLanguage);
  // Dialogs are registered through controller.ready; wait so no turn arrives before them.
  await new Promise<void>((resolve) => controller.ready(() => resolve()));
  return { controller, handleTurn: createTurnHandler(controller, options.locales, options.defaultLanguage, options.log) };
}
