import { insertOnce } from '../db/duplicate-key';
import { ratingModel } from '../db/models/rating';
import { ratingRequestModel } from '../db/models/rating-request';
import type { ActionDefinition } from '../flows/actions';
import { renderTemplate } from '../flows/texts';

/** At or below this score the cooperative is alerted at once. */
export const LOW_RATING = 2;

/**
 * `do: save_rating`: keeps a customer's 1-5 score and comment for the digest, marks the
 * request it answers, and alerts the cooperative of a low score with the comment and a
 * link to the conversation.
 */
export const saveRatingAction: ActionDefinition = {
  name: 'save_rating',
  description: "store the customer's rating; a low one alerts the cooperative",
  params: {
    score: { required: true, description: 'the score 1-5, usually "{{vars.score}}"' },
    comment: { description: 'what the customer added, usually "{{vars.comment}}"' },
    order: { description: 'the order number the rating is about, "{{vars.order}}"' },
    request: { description: 'the rating request answered, "{{vars.request}}"' },
  },
  async run(context, params) {
    const score = Number(params.score);
    if (!Number.isInteger(score) || score < 1 || score > 5) throw new Error(`save_rating: score must be 1-5, got ${JSON.stringify(params.score)}`);
    const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);
    const comment = text(params.comment);
    const requestId = text(params.request);
    const request = requestId ? await ratingRequestModel(context.connection).findById(requestId).lean() : null;
    const order = text(params.order) ?? request?.order ?? null;
    // Keyed by the turn: a turn run again after a crash keeps one rating (and one alert).
    await insertOnce(ratingModel(context.connection).create({
      _id: context.turn,
      customer: context.customer._id,
      score,
      comment,
      order,
      request: request?._id ?? null,
      products: request?.products ?? [],
      channel: context.channel,
      askedAt: request?.sentAt ?? null,
      answeredAt: new Date(),
    }));
    if (request) await ratingRequestModel(context.connection).updateOne({ _id: request._id }, { $set: { status: 'answered', answeredAt: new Date() } });
    if (score <= LOW_RATING) {
      const staffText = renderTemplate(context.locales.text(context.services.staffLanguage, 'satisfaction.coop_low'), {
        score,
        name: context.customer.name ?? context.customer.externalId,
        channel: context.channel,
        order: order ?? '',
        comment: comment ?? '',
        link: context.services.links.customer(String(context.customer._id)),
      });
      await context.services.cooperative.notify('rating.low', staffText, { rating: { score, comment, order, customer: String(context.customer._id), channel: context.channel } }, `rating.low:${String(context.turn)}`);
    }
    return String(context.turn);
  },
};
