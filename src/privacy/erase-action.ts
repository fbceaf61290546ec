import type { ActionDefinition } from '../flows/actions';
import { eraseCustomer } from './customer-data';

/**
 * `do: erase_my_data`: erases the customer's messages and profile (orders stay,
 * anonymised), after telling them: nothing of this turn is kept, their "yes" included.
 */
export const eraseMyDataAction: ActionDefinition = {
  name: 'erase_my_data',
  description: "erase the customer's messages and profile; orders are kept anonymised",
  params: {},
  async run(context) {
    context.forgetTurn();
    await context.say(context.locales.text(context.lang, 'privacy.erased'));
    const { inbox, voice } = context.services;
    const removed = await eraseCustomer(
      context.connection,
      context.customer._id,
      (instant) => context.services.digestDays.invalidate(instant),
      inbox ? (channel, senders) => inbox.forget(channel, senders) : undefined,
      voice ? (channel, senders) => voice.forget(channel, senders) : undefined,
    );
    context.log.info({ customer: String(context.customer._id), channel: context.channel, removed }, 'a customer erased their data');
    return true;
  },
};
