import { catalogAnswerActions } from '../catalog/answer-actions';
import { handoffAction } from '../handoff/handoff-action';
import { saveRatingAction } from '../satisfaction/save-rating-action';
import { saveSuggestionAction } from '../satisfaction/save-suggestion-action';
import { ActionRegistry } from '../flows/actions';
import { orderActions } from '../orders/order-actions';
import { eraseMyDataAction } from '../privacy/erase-action';

/** The actions flows can call, one line each; the server, the validator and the flow tests all use this list. */
export function builtinActions(): ActionRegistry {
  const actions = new ActionRegistry().register(handoffAction).register(saveRatingAction).register(saveSuggestionAction).register(eraseMyDataAction);
  for (const action of [...catalogAnswerActions, ...orderActions]) actions.register(action);
  return actions;
}
