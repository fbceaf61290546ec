/** The intents understanding recognises; flows trigger on them. */
export const INTENTS = [
  'greeting',
  'catalog',
  'product_info',
  'price',
  'availability',
  'order',
  'order_status',
  'cancel_order',
  'delivery',
  'payment',
  'hours_location',
  'human',
  'complaint',
  'suggestion',
  'thanks',
  'goodbye',
  'unknown',
] as const;

export type Intent = (typeof INTENTS)[number];
