import { customerModel } from '../db/models/customer';
import type { ActionDefinition } from '../flows/actions';

/** The tag that puts a customer on the staff's "answer by a person" list. */
export const NEEDS_HUMAN_TAG = 'needs_human';

/** `do: handoff`: hands the conversation to the cooperative's team; the staff console lists these customers. */
export const handoffAction: ActionDefinition = {
  name: 'handoff',
  description: 'hand the conversation to a person of the cooperative',
  params: {
    reason: { description: 'why a person is needed, for the staff (for example "order" or "complaint")' },
  },
  async run(context, params) {
    await customerModel(context.connection).updateOne({ _id: context.customer._id }, { $addToSet: { tags: NEEDS_HUMAN_TAG } });
    context.log.warn(
      { customer: String(context.customer._id), channel: context.channel, flow: context.flow, reason: params.reason ?? null },
      'a customer is waiting for a person',
    );
    return true;
  },
};
