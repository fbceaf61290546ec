import { insertOnce } from '../db/duplicate-key';
import { suggestionModel } from '../db/models/suggestion';
import type { ActionDefinition } from '../flows/actions';

/** `do: save_suggestion`: keeps what the customer wished the cooperative offered, with the product they named, for the digest. */
export const saveSuggestionAction: ActionDefinition = {
  name: 'save_suggestion',
  description: "store the customer's suggestion (the message that started the flow) with the product it names",
  params: { product: { description: 'the product it is about, "{{vars.product.id}}"' } },
  async run(context, params) {
    const text = context.message.trim();
    if (!text) return false;
    const product = typeof params.product === 'string' && context.catalog.product(params.product.trim()) ? params.product.trim() : null;
    // Keyed by the turn: one suggestion however often the turn runs.
    await insertOnce(suggestionModel(context.connection).create({ _id: context.turn, customer: context.customer._id, channel: context.channel, text, product, language: context.lang, at: new Date() }));
    return true;
  },
};
