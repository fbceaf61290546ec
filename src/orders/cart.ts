/**
 * The order being put together in a conversation, kept in the flow's variables
 * (`vars.cart`): plain data, so it survives restarts with the dialog state.
 */
export interface Cart {
  /** Identifies this order attempt: the same confirmation handled twice places one order. */
  draft: string;
  lines: CartLine[];
  /** How many lines: what a flow's `branch` tests (`vars.cart.count > 0`). */
  count: number;
  /** The lines in the customer's language, one a line, for prompts: `{{vars.cart.text}}`. */
  text: string;
  /** The WhatsApp cart it came from: its catalog and message, kept on the order. */
  source?: CartSource;
}

/** A cart sent from the WhatsApp catalog. */
export interface CartSource {
  catalogId: string;
  message: string;
}

export interface CartLine {
  product: string;
  quantity: number;
}

/** A new empty cart. */
export function emptyCart(draft: string): Cart {
  return { draft, lines: [], count: 0, text: '' };
}

/** The cart with `quantity` more of a product; the same product twice is one line. */
export function addToCart(cart: Cart, product: string, quantity: number): Cart {
  const lines = cart.lines.some((l) => l.product === product)
    ? cart.lines.map((l) => (l.product === product ? { ...l, quantity: l.quantity + quantity } : l))
    : [...cart.lines, { product, quantity }];
  return { ...cart, lines, count: lines.length };
}

/** The cart without a product's line. */
export function removeFromCart(cart: Cart, product: string): Cart {
  const lines = cart.lines.filter((l) => l.product !== product);
  return { ...cart, lines, count: lines.length };
}

/** The quantity of a product already in the cart. */
export function quantityInCart(cart: Cart, product: string): number {
  return cart.lines.find((l) => l.product === product)?.quantity ?? 0;
}

/** Reads a cart out of flow variables, or undefined when the flow has not started one. */
export function cartOf(vars: Record<string, unknown>): Cart | undefined {
  const cart = vars.cart as Cart | undefined;
  return cart && typeof cart.draft === 'string' && Array.isArray(cart.lines) ? cart : undefined;
}
