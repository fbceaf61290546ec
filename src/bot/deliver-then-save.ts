import type { TurnContext } from 'botbuilder';
import { recordsOnDelivery } from './recorder';

// The saving of a turn's conversation state, held back until its replies went out.
const SAVE_STATE = Symbol('taawun.saveState');

/** Whether the turn sends its replies at its end (a customer's turn on a Meta channel), so its state is saved only after them. */
export function savesAfterDelivery(context: TurnContext): boolean {
  return recordsOnDelivery(context.adapter) && context.adapter.gathersReplies(context);
}

/** Holds back the turn's state saving (the latest asked for wins: it saves the whole state). */
export function holdStateSave(context: TurnContext, save: () => Promise<void>): void {
  context.turnState.set(SAVE_STATE, save);
}

/**
 * Ends a turn whose replies are sent at its end: sends them, then saves the state they
 * follow from. When they cannot go out for now (UndeliveredTurnError), nothing is saved
 * and the inbox runs the turn again from where it was, instead of reading the customer's
 * message against the step that came after.
 */
export async function finishTurn(context: TurnContext): Promise<void> {
  if (!recordsOnDelivery(context.adapter) || !context.adapter.gathersReplies(context)) return;
  await context.adapter.flushTurn(context);
  const save = context.turnState.get(SAVE_STATE) as (() => Promise<void>) | undefined;
  context.turnState.delete(SAVE_STATE);
  if (save) await save();
}
