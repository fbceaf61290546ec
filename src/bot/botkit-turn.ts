import { TurnContext } from 'botbuilder';
import { DialogTurnStatus } from 'botbuilder-dialogs';
import type { Botkit, BotkitMessage, BotWorker } from 'botkit';

/** The private parts of Botkit 4.15 a turn goes through (core.js handleTurn, processTriggersAndEvents). */
interface BotkitInternals {
  listenForInterrupts(bot: BotWorker, message: BotkitMessage): Promise<unknown>;
  listenForTriggers(bot: BotWorker, message: BotkitMessage): Promise<unknown>;
}

/** One of Botkit's middleware chains (the `ware` package): `run(bot, message, done)`. */
interface Ware {
  run(bot: BotWorker, message: BotkitMessage, done: (err: Error | null, bot: BotWorker, message: BotkitMessage) => void): void;
}

/** Runs a middleware chain; rejects with the error a middleware passed to next(). */
function runWare(ware: Ware, bot: BotWorker, message: BotkitMessage): Promise<[BotWorker, BotkitMessage]> {
  return new Promise((resolve, reject) => ware.run(bot, message, (err, b, m) => (err ? reject(err) : resolve([b, m]))));
}

/**
 * Runs one turn the way Botkit's `handleTurn` does (ingest, receive, interrupts, the open
 * dialog, triggers and events, then the state saved), except that a failure anywhere
 * rejects. Botkit runs those steps inside middleware callbacks whose promises it drops, so a
 * database call that rejected there left the turn unsettled forever, and the customer's
 * queue with it.
 */
export async function runBotkitTurn(controller: Botkit, context: TurnContext): Promise<void> {
  const activity = context.activity;
  const message = {
    ...activity.channelData,
    type: activity.channelData?.botkitEventType ?? activity.type,
    user: activity.from.id,
    text: activity.text,
    channel: activity.conversation.id,
    value: activity.value,
    reference: TurnContext.getConversationReference(activity),
    context,
    incoming_message: activity,
  } as BotkitMessage;
  context.turnState.set('botkitMessage', message);
  const dialogContext = await controller.dialogSet.createContext(context);
  const internals = controller as unknown as BotkitInternals;
  const middleware = controller.middleware as Record<'ingest' | 'receive' | 'interpret', Ware>;
  const [bot, ingested] = await runWare(middleware.ingest, await controller.spawn(dialogContext), message);
  const [, received] = await runWare(middleware.receive, bot, ingested);
  if ((await internals.listenForInterrupts(bot, received)) === false) {
    const results = await dialogContext.continueDialog();
    if (results?.status === DialogTurnStatus.empty) {
      const [, interpreted] = await runWare(middleware.interpret, bot, received);
      if ((await internals.listenForTriggers(bot, interpreted)) === false) await controller.trigger(interpreted.type, bot, interpreted);
    }
  }
  await controller.saveState(bot);
}
