import type { ActionDefinition } from '../flows/actions';
import { eraseCustomer } from './customer-data';

/**
 * `do: erase_my_data`: erases the customer's messages and profile (orders stay,
 * anonymised), after telling them: that last message is not kept either.
 */
export const eraseMyDataAction: ActionDefinition = {
  name: 'erase_my_data',
  description: "erase the customer's messages and profile; orders are kept anonymised",
  params: {},
  async run(context) {
    await context.say(context.locales.text(context.lang, 'privacy.erased'), { record: false });
    const removed = await eraseCustomer(context.connection, context.customer._id);
    context.log.info({ customer: String(context.customer._id), channel: context.channel, removed }, 'a customer erased their data');
    return true;
  },
};
