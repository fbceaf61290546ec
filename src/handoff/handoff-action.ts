import { customerModel } from '../db/models/customer';
import type { ActionDefinition } from '../flows/actions';
import { renderTemplate } from '../flows/texts';

/** The tag that puts a customer on the staff's "answer by a person" list. */
export const NEEDS_HUMAN_TAG = 'needs_human';

/**
 * `do: handoff`: hands the conversation to the cooperative's team. The bot stays quiet for
 * this customer until a person gives it back, or until the handoff times out; the
 * cooperative is told at once (COOP_NOTIFY) with a link to the conversation in the console.
 */
export const handoffAction: ActionDefinition = {
  name: 'handoff',
  description: 'hand the conversation to a person of the cooperative; the bot pauses for this customer',
  params: {
    reason: { description: 'why a person is needed, for the staff (for example "order" or "complaint")' },
  },
  async run(context, params) {
    const now = new Date();
    const reason = typeof params.reason === 'string' && params.reason.trim() ? params.reason.trim() : 'human';
    const handoff = { since: now, until: new Date(now.getTime() + context.services.handoff.timeoutMs), reason };
    await customerModel(context.connection).updateOne({ _id: context.customer._id }, { $addToSet: { tags: NEEDS_HUMAN_TAG }, $set: { handoff, fallbacks: 0 } });
    context.customer.handoff = handoff;
    context.log.warn({ customer: String(context.customer._id), channel: context.channel, flow: context.flow, reason }, 'a customer is waiting for a person');
    await context.services.cooperative.notify(
      'handoff',
      renderTemplate(context.locales.text(context.services.staffLanguage, 'human.coop_waiting'), {
        name: context.customer.name ?? context.customer.externalId,
        channel: context.channel,
        reason,
        link: context.services.links.customer(String(context.customer._id)),
      }),
      { customer: String(context.customer._id), channel: context.channel, reason },
      `handoff:${String(context.turn)}`,
    );
    return true;
  },
};
