import type { ActionContext, ActionDefinition } from '../flows/actions';
import { renderTemplate } from '../flows/texts';
import type { ProductView } from './catalog';

/** The product a `product` parameter names ("{{vars.product.id}}"), in the customer's language. */
function productOf(context: ActionContext, params: Record<string, unknown>): ProductView {
  const id = String(params.product ?? '').trim();
  const product = context.catalog.product(id);
  if (!product) throw new Error(`no product "${id}" in the catalog`);
  return context.catalog.view(product, context.lang);
}

/** Says a locale text filled with `view`; `products` are the catalog products it is about (WhatsApp can show them). */
async function sayText(context: ActionContext, key: string, view: Record<string, unknown>, products?: string[]): Promise<void> {
  await context.say(renderTemplate(context.locales.text(context.lang, key), view), products ? { products } : undefined);
}

/** A question was answered: once the conversation is over, the customer may be asked how well. */
async function answered(context: ActionContext, product: string | null = null): Promise<void> {
  await context.services.ratings.answered(context.customer._id, context.channel, product);
}

const productParam = { product: { required: true, description: 'the product id, usually "{{vars.product.id}}"' } };

/** `do: answer_price`: the price with its unit and currency. */
export const answerPriceAction: ActionDefinition = {
  name: 'answer_price',
  description: "say a product's price, unit and currency",
  params: productParam,
  async run(context, params) {
    const product = productOf(context, params);
    await sayText(context, 'catalog_answers.price', { product }, [product.id]);
    await answered(context, product.id);
    return true;
  },
};

const LOW_STOCK = 5;

/** `do: answer_availability`: in stock, nearly out, or sold out, from the live stock. */
export const answerAvailabilityAction: ActionDefinition = {
  name: 'answer_availability',
  description: 'say whether a product is in stock',
  params: productParam,
  async run(context, params) {
    // The live stock (orders take from it), not the count in the file.
    const listed = productOf(context, params);
    const product = { ...listed, stock: (await context.services.orders.stock.level(listed.id)) ?? listed.stock };
    const key = product.stock === 0 ? 'catalog_answers.sold_out' : product.stock <= LOW_STOCK ? 'catalog_answers.few_left' : 'catalog_answers.in_stock';
    await sayText(context, key, { product }, [product.id]);
    await answered(context, product.id);
    return product.stock > 0;
  },
};

/** `do: answer_description`: what the product is. */
export const answerDescriptionAction: ActionDefinition = {
  name: 'answer_description',
  description: "say a product's description",
  params: productParam,
  async run(context, params) {
    const product = productOf(context, params);
    await sayText(context, product.description ? 'catalog_answers.description' : 'catalog_answers.no_description', { product }, [product.id]);
    await answered(context, product.id);
    return true;
  },
};

/** `do: list_products`: every product with its price, one a line. */
export const listProductsAction: ActionDefinition = {
  name: 'list_products',
  description: 'list the products with their prices',
  params: {},
  async run(context) {
    const lines = context.catalog.products.map((p) => {
      const v = context.catalog.view(p, context.lang);
      return renderTemplate(context.locales.text(context.lang, 'catalog_answers.list_line'), { product: v });
    });
    await sayText(context, 'catalog_answers.list', { cooperative: context.catalog.data.cooperative.name, list: lines.join('\n') }, context.catalog.products.map((p) => p.id));
    await answered(context);
    return context.catalog.products.length;
  },
};

/** An action that says one of the cooperative's informations (delivery, payment, hours), in the customer's language. */
function cooperativeInfo(name: string, field: 'delivery' | 'payment' | 'hours', description: string): ActionDefinition {
  return {
    name,
    description,
    params: {},
    async run(context) {
      const info = context.catalog.cooperativeText(field, context.lang);
      if (!info) throw new Error(`the catalog has no cooperative.${field}; add it to flows/catalog.yml`);
      await context.say(info);
      await answered(context);
      return true;
    },
  };
}

export const answerDeliveryAction = cooperativeInfo('answer_delivery', 'delivery', 'say how, where and at what cost the cooperative delivers');
export const answerPaymentAction = cooperativeInfo('answer_payment', 'payment', 'say how customers can pay');
export const answerHoursAction = cooperativeInfo('answer_hours', 'hours', 'say the opening hours and the address');

/** Every catalog answer, for registration. */
export const catalogAnswerActions = [
  answerPriceAction,
  answerAvailabilityAction,
  answerDescriptionAction,
  listProductsAction,
  answerDeliveryAction,
  answerPaymentAction,
  answerHoursAction,
];
