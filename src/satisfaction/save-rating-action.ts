import { ratingModel } from '../db/models/rating';
import type { ActionDefinition } from '../flows/actions';

/** `do: save_rating`: keeps a customer's 1-5 score and comment for the satisfaction digest. */
export const saveRatingAction: ActionDefinition = {
  name: 'save_rating',
  description: "store the customer's rating",
  params: {
    score: { required: true, description: 'the score 1-5, usually "{{vars.score}}"' },
    comment: { description: 'what the customer added, usually "{{vars.comment}}"' },
    order: { description: 'the order number the rating is about' },
  },
  async run(context, params) {
    const score = Number(params.score);
    if (!Number.isInteger(score) || score < 1 || score > 5) throw new Error(`save_rating: score must be 1-5, got ${JSON.stringify(params.score)}`);
    const comment = typeof params.comment === 'string' && params.comment.trim() ? params.comment.trim() : null;
    const order = typeof params.order === 'string' && params.order.trim() ? params.order.trim() : null;
    const rating = await ratingModel(context.connection).create({ customer: context.customer._id, score, comment, order, channel: context.channel, answeredAt: new Date() });
    return String(rating._id);
  },
};
