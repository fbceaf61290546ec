import { handoffAction } from '../handoff/handoff-action';
import { saveRatingAction } from '../satisfaction/save-rating-action';
import { ActionRegistry } from '../flows/actions';

/** The actions flows can call, one line each; the server, the validator and the flow tests all use this list. */
export function builtinActions(): ActionRegistry {
  return new ActionRegistry().register(handoffAction).register(saveRatingAction);
}
