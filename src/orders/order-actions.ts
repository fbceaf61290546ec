import { randomUUID } from 'node:crypto';
import type { Product } from '../catalog/catalog';
import { stockAlertModel } from '../db/models/stock-alert';
import type { OrderDoc } from '../db/models/order';
import { readNumber } from '../flows/answers/parse-answer';
import type { ActionContext, ActionDefinition } from '../flows/actions';
import { containsPhrase, normalizeText } from '../nlu/normalize';
import { addToCart, cartOf, emptyCart, quantityInCart, removeFromCart, type Cart } from './cart';
import { deliveryFee } from './delivery';
import { cancellable } from './order-status';
import { OrderTexts } from './order-texts';
import { isDuplicateKey } from '../db/duplicate-key';

const texts = (c: ActionContext) => new OrderTexts(c.locales, c.catalog, c.lang);

/** The cart of the running order flow; an action that needs one before `start_order` ran is a flow mistake. */
function cart(context: ActionContext): Cart {
  const found = cartOf(context.vars);
  if (!found) throw new Error('no cart: the flow must run start_order first');
  return found;
}

function setCart(context: ActionContext, next: Cart): void {
  context.setVar('cart', { ...next, text: texts(context).cart(next) });
}

function product(context: ActionContext, params: Record<string, unknown>): Product {
  const id = String(params.product ?? '').trim();
  const found = context.catalog.product(id);
  if (!found) throw new Error(`no product "${id}" in the catalog`);
  return found;
}

/** The live stock of a product; the catalog's count when the ledger has not heard of it yet. */
async function stockOf(context: ActionContext, p: Product): Promise<number> {
  return (await context.services.orders.stock.level(p.id)) ?? p.stock;
}

/** A whole number in one word or a run of digits ("2", "jouj", "ثلاثة"), else undefined. */
function numberWord(token: string, context: Pick<ActionContext, 'locales'>): number | undefined {
  const n = readNumber(token, context.locales, true);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

// Sizes are not counts: "100 ml", "500 g".
const SIZES = /\d+\s*(ml|cl|l|g|kg|gr|مل|غ|كلغ)(?![\p{L}])/giu;

/**
 * What the words of the message ask for, product by product: "bghit 2 saboun w 3 amlou"
 * is 2 soaps and 3 amlou; a count stands just before its product (a word or two between).
 * A product named with no count has `quantity` undefined.
 */
export function linesIn(message: string, context: Pick<ActionContext, 'locales' | 'understanding'>): { product: string; quantity: number | undefined }[] {
  if (/(^|\s)[-−]\s*\d/.test(message)) return [];
  const cleaned = message.replace(SIZES, ' ');
  const tokens = normalizeText(cleaned).split(' ');
  let from = 0;
  return context.understanding.productsIn(cleaned).map((p) => {
    let quantity: number | undefined;
    for (let i = p.first - 1; i >= Math.max(from, p.first - 3); i -= 1) {
      quantity = numberWord(tokens[i] ?? '', context);
      if (quantity !== undefined) break;
    }
    from = p.last + 1;
    return { product: p.id, quantity };
  });
}

/** The one count a message gives for the one product it names: "bghit 2 dyal amlou" → 2; undefined when it gives none. */
export function quantityIn(message: string, p: Product, context: Pick<ActionContext, 'locales'>): number | undefined {
  if (/(^|\s)[-−]\s*\d/.test(message)) return undefined;
  let said = normalizeText(message.replace(SIZES, ' '));
  for (const name of Object.values(p.names).flat().map(normalizeText)) if (containsPhrase(said, name)) said = ` ${said} `.replace(` ${name} `, ' ').trim();
  return numberWord(said, context);
}

/**
 * `do: start_order`: a new cart, with what the message already said. One product with a
 * count ("bghit 2 dyal amlou") sets `vars.quantity`; several ("2 saboun w 3 amlou") go into
 * the cart at once, and the first one without a count stays in `vars.product` to be asked.
 * A count above the limit is said, then asked again.
 */
export const startOrderAction: ActionDefinition = {
  name: 'start_order',
  description: 'start a new order: an empty cart, and the products and quantities the message gave',
  params: {},
  sets: ['cart', 'quantity', 'product'],
  async run(context) {
    const incoming = context.vars.incoming_cart;
    if (incoming && typeof incoming === 'object') {
      setCart(context, emptyCart(randomUUID()));
      context.setVar('quantity', null);
      context.setVar('product', null);
      await fillFromWhatsAppCart(context, incoming as Record<string, unknown>);
      return true;
    }
    const named = (context.vars.product as { id?: string } | undefined)?.id;
    const p = named ? context.catalog.product(named) : undefined;
    const max = context.catalog.orders.max_quantity;
    const t = texts(context);
    setCart(context, emptyCart(randomUUID()));
    context.setVar('quantity', null);
    const lines = context.message ? linesIn(context.message, context) : [];
    if (lines.length >= 2) {
      let next = cart(context);
      let pending: string | undefined;
      for (const line of lines) {
        const product = context.catalog.product(line.product)!;
        if (line.quantity === undefined) {
          pending ??= line.product;
          continue;
        }
        const left = (await stockOf(context, product)) - quantityInCart(next, product.id);
        if (line.quantity < 1 || line.quantity > max) await context.say(t.text('order.too_many', { max, name: t.productName(product.id) }));
        else if (left >= line.quantity) next = addToCart(next, product.id, line.quantity);
        else if (left > 0) await context.say(t.text('order.only_left', { left, name: t.productName(product.id) }));
        else await context.say(t.text('order.sold_out', { name: t.productName(product.id) }));
      }
      setCart(context, next);
      const pendingProduct = pending ? context.catalog.product(pending) : undefined;
      context.setVar('product', pendingProduct ? context.catalog.view(pendingProduct, context.lang, context.services.orders.stock.cachedLevel(pendingProduct.id)) : null);
      return true;
    }
    // A count counts only beside a product it counts: "bghit 2 dyal amlou", not "2" tapping the menu.
    if (p && context.message) {
      const quantity = quantityIn(context.message, p, context);
      if (quantity !== undefined && (quantity < 1 || quantity > max)) await context.say(t.text('order.too_many', { max, name: t.productName(p.id) }));
      else context.setVar('quantity', quantity ?? null);
    }
    // "zit argan" could be either oil: the product is asked, with those offered first.
    const alike = named ? context.catalog.namedAlike(named, context.message) : [];
    if (alike.length > 1) {
      context.setVar('product', null);
      context.setVar('_suggested', alike);
    }
    return true;
  },
};

// A cart is a customer's tap, not a feed: more lines than this are not read.
const MAX_CART_ITEMS = 100;

/**
 * The lines of a WhatsApp cart (`vars.incoming_cart`: catalog_id, product_items) put in the new
 * cart: each mapped by retailer id to the catalog's product, its stock checked as for a typed
 * order. Unknown and sold-out lines are said plainly, and so is a price that is not the
 * catalog's (its price applies). The cart keeps where it came from for the order.
 */
async function fillFromWhatsAppCart(context: ActionContext, incoming: Record<string, unknown>): Promise<void> {
  const t = texts(context);
  const max = context.catalog.orders.max_quantity;
  const currency = context.catalog.data.cooperative.currency;
  const items = Array.isArray(incoming.product_items) ? (incoming.product_items as unknown[]).slice(0, MAX_CART_ITEMS) : [];
  let next = cart(context);
  const unknown: string[] = [];
  const prices: string[] = [];
  for (const raw of items) {
    const item = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const id = typeof item.product_retailer_id === 'string' ? item.product_retailer_id.trim().slice(0, 100) : '';
    const p = id ? context.catalog.product(id) : undefined;
    const quantity = Number(item.quantity);
    if (!p || !Number.isInteger(quantity) || quantity < 1) {
      unknown.push(id || '?');
      continue;
    }
    const shown = Number(item.item_price);
    const shownCurrency = typeof item.currency === 'string' ? item.currency : currency;
    if (Number.isFinite(shown) && (shown !== p.price || shownCurrency !== currency)) {
      prices.push(t.text('order.cart_price_line', { name: t.productName(p.id), price: p.price, currency, shown, shown_currency: shownCurrency }));
    }
    const inCart = quantityInCart(next, p.id);
    const left = (await stockOf(context, p)) - inCart;
    if (inCart + quantity > max) await context.say(t.text('order.too_many', { max, name: t.productName(p.id) }));
    else if (left >= quantity) next = addToCart(next, p.id, quantity);
    else if (left > 0) await context.say(t.text('order.only_left', { left, name: t.productName(p.id) }));
    else await context.say(t.text('order.sold_out', { name: t.productName(p.id) }));
  }
  if (unknown.length > 0) await context.say(t.text('order.cart_unknown', { products: unknown.join(', ') }));
  if (prices.length > 0) await context.say(t.text('order.cart_prices', { lines: prices.join('\n') }));
  const source = { catalogId: String(incoming.catalog_id ?? '').slice(0, 100), message: String(incoming.message ?? '').slice(0, 200) };
  // Nothing of the cart could be sold: an order the customer puts together now is not the cart's.
  setCart(context, next.count > 0 ? { ...next, source } : next);
}

/** `do: keep_previous_cart`: a cart sent while another order was being put together is dropped, and that order goes on. */
export const keepPreviousCartAction: ActionDefinition = {
  name: 'keep_previous_cart',
  description: 'keep the order that was being put together (vars.previous_cart) instead of the cart just sent',
  params: {},
  sets: ['cart'],
  async run(context) {
    const previous = cartOf({ cart: context.vars.previous_cart });
    if (!previous) throw new Error('no previous cart: keep_previous_cart follows a cart sent during an order (vars.previous_cart)');
    setCart(context, previous);
    return true;
  },
};

/** `do: check_stock`: "yes" when some of the product is left beyond what the cart holds; else offers others and says "none". */
export const checkStockAction: ActionDefinition = {
  name: 'check_stock',
  description: 'check that a product is in stock before asking how many; offers others when it is not',
  params: { product: { required: true, description: 'the product id, "{{vars.product.id}}"' } },
  sets: ['unavailable', 'max_quantity'],
  async run(context, params) {
    const p = product(context, params);
    const left = (await stockOf(context, p)) - quantityInCart(cart(context), p.id);
    // The quantity question offers no more than is left.
    context.setVar('max_quantity', Math.max(1, Math.min(context.catalog.orders.max_quantity, left)));
    if (left > 0) return 'yes';
    await saySoldOut(context, p);
    return 'none';
  },
};

async function saySoldOut(context: ActionContext, p: Product): Promise<void> {
  const t = texts(context);
  context.setVar('unavailable', p.id);
  const others = await alternatives(context, p);
  await context.say(
    others.length > 0
      ? t.text('order.sold_out_alternatives', { name: t.productName(p.id), alternatives: others.map((o) => t.productName(o.id)).join(', ') })
      : t.text('order.sold_out', { name: t.productName(p.id) }),
  );
}

/** `do: add_to_cart`: adds a line if the stock has it ("yes"); says how many are left ("few") or offers others ("none"). */
export const addToCartAction: ActionDefinition = {
  name: 'add_to_cart',
  description: 'add a product and quantity to the order, checking the stock',
  params: {
    product: { required: true, description: 'the product id, "{{vars.product.id}}"' },
    quantity: { required: true, description: 'how many, "{{vars.quantity}}"' },
  },
  sets: ['cart', 'unavailable'],
  async run(context, params) {
    const p = product(context, params);
    const quantity = Number(params.quantity);
    if (!Number.isInteger(quantity) || quantity < 1) throw new Error(`quantity "${String(params.quantity)}" is not a whole number of 1 or more`);
    const current = cart(context);
    const t = texts(context);
    const left = (await stockOf(context, p)) - quantityInCart(current, p.id);
    const max = context.catalog.orders.max_quantity;
    if (quantityInCart(current, p.id) + quantity > max) {
      await context.say(t.text('order.too_many', { max, name: t.productName(p.id) }));
      return 'few';
    }
    if (left >= quantity) {
      setCart(context, addToCart(current, p.id, quantity));
      return 'yes';
    }
    if (left > 0) {
      await context.say(t.text('order.only_left', { left, name: t.productName(p.id) }));
      return 'few';
    }
    await saySoldOut(context, p);
    return 'none';
  },
};

/** Products in stock to offer instead: those sharing a word of the name first ("miel" for a honey), then any. */
async function alternatives(context: ActionContext, missing: Product): Promise<Product[]> {
  const words = (p: Product) => new Set(Object.values(p.names).flat().flatMap((n) => normalizeText(n).split(' ')).filter((w) => w.length >= 4));
  const mine = words(missing);
  const candidates: { p: Product; shared: number }[] = [];
  for (const p of context.catalog.products) {
    if (p.id === missing.id || (await stockOf(context, p)) <= 0) continue;
    candidates.push({ p, shared: [...words(p)].filter((w) => mine.has(w)).length });
  }
  const related = candidates.filter((c) => c.shared > 0).sort((a, b) => b.shared - a.shared);
  return (related.length > 0 ? related : candidates).slice(0, 3).map((c) => c.p);
}

/** `do: remove_from_cart`: takes a product's line out of the order. */
export const removeFromCartAction: ActionDefinition = {
  name: 'remove_from_cart',
  description: "remove a product's line from the order",
  params: { product: { required: true, description: 'the product id, "{{vars.removed.id}}"' } },
  sets: ['cart'],
  async run(context, params) {
    const next = removeFromCart(cart(context), product(context, params).id);
    setCart(context, next);
    return next.count;
  },
};

/** `do: notify_when_back`: keeps the customer's wish to hear when a sold-out product is back. */
export const notifyWhenBackAction: ActionDefinition = {
  name: 'notify_when_back',
  description: 'remember to tell the customer when a product is back in stock',
  params: { product: { required: true, description: 'the product id, "{{vars.unavailable}}"' } },
  async run(context, params) {
    const p = product(context, params);
    await stockAlertModel(context.connection)
      .create({ _id: `${p.id}:${String(context.customer._id)}`, product: p.id, customer: context.customer._id, at: new Date() })
      .catch((err: { code?: number }) => {
        if (!isDuplicateKey(err)) throw err; // asked before: one alert is enough
      });
    await context.say(texts(context).text('order.alert_saved', { name: texts(context).productName(p.id) }));
    return true;
  },
};

/** `do: bank_details`: the cooperative's account for a bank transfer, from the catalog. */
export const bankDetailsAction: ActionDefinition = {
  name: 'bank_details',
  description: "say the cooperative's bank account for a transfer",
  params: {},
  async run(context) {
    const details = context.catalog.orderText('bank_transfer', context.lang);
    const t = texts(context);
    await context.say(details ? t.text('order.bank', { details }) : t.text('order.bank_missing', { phone: context.catalog.data.cooperative.phone ?? '' }));
    return Boolean(details);
  },
};

/** What the order comes to now, from the cart, the delivery choice and the catalog's prices and fees. */
/** The coordinates of the location the customer shared for this delivery (`vars.location`), as the order keeps them. */
function locationOf(context: ActionContext): { location?: { latitude: number; longitude: number } } {
  const l = context.vars.location as { latitude?: unknown; longitude?: unknown } | undefined;
  return l && typeof l.latitude === 'number' && typeof l.longitude === 'number' ? { location: { latitude: l.latitude, longitude: l.longitude } } : {};
}

function quote(context: ActionContext) {
  const c = cart(context);
  const settings = context.catalog.orders;
  const mode = context.vars.mode === 'pickup' ? 'pickup' : 'delivery';
  const city = context.customer.city ?? '';
  const address = context.customer.address ?? '';
  const lines = c.lines.map((l) => {
    const p = context.catalog.product(l.product);
    if (!p) throw new Error(`product "${l.product}" left the catalog during the order`);
    return { product: p.id, quantity: l.quantity, name: texts(context).productName(p.id), unitPrice: p.price };
  });
  const subtotal = lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
  const fee = deliveryFee(settings, { mode, city }, subtotal);
  const payment: 'cod' | 'transfer' = context.vars.payment === 'transfer' ? 'transfer' : 'cod';
  return { lines, subtotal, fee, total: subtotal + fee.fee, mode, city, address, payment } as const;
}

/** `do: quote_order`: sets `vars.quote` (`text`, `total`) to show before the confirmation. */
export const quoteOrderAction: ActionDefinition = {
  name: 'quote_order',
  description: 'compute the total with the delivery fee; the result has text and total',
  params: {},
  async run(context) {
    const q = quote(context);
    const t = texts(context);
    const currency = context.catalog.data.cooperative.currency;
    const text = t.text('order.quote', {
      lines: t.cart(cart(context)),
      fulfilment: t.fulfilment(q, q.fee.fee, currency),
      total: q.total,
      currency,
      payment: t.payment(q.payment, q.mode),
      name: context.customer.name ?? '',
      phone: context.customer.phone ?? '',
    });
    return { text, total: q.total, fee: q.fee.fee, currency };
  },
};

/** `do: place_order`: stores the order with its stock reserved; false (after saying what is short) when the stock fell meanwhile. */
export const placeOrderAction: ActionDefinition = {
  name: 'place_order',
  description: 'place the order: reserve the stock, take a number, tell the cooperative',
  params: {},
  sets: ['cart'],
  async run(context) {
    const c = cart(context);
    const q = quote(context);
    if (!context.customer.phone) throw new Error('no phone: the flow must ask for it before place_order');
    const result = await context.services.orders.place({
      draft: `${String(context.customer._id)}:${c.draft}`,
      prefix: context.catalog.orders.number_prefix,
      customer: context.customer._id,
      channel: context.channel,
      language: context.lang,
      name: context.customer.name ?? null,
      phone: context.customer.phone,
      lines: q.lines,
      deliveryFee: q.fee.fee,
      currency: context.catalog.data.cooperative.currency,
      delivery: { mode: q.mode, city: q.mode === 'pickup' ? '' : q.city, address: q.mode === 'pickup' ? '' : q.address, zone: q.fee.zone, ...(q.mode === 'delivery' ? locationOf(context) : {}) },
      payment: q.payment,
      ...(c.source ? { whatsappCart: c.source } : {}),
    });
    const t = texts(context);
    if (result.ok) return { number: result.order._id, total: result.order.total, currency: result.order.currency };
    // Someone else took the last ones: the cart keeps what is left, and the customer decides again.
    let next = c;
    for (const s of result.short) {
      next = removeFromCart(next, s.product);
      if (s.available > 0) next = addToCart(next, s.product, s.available);
      await context.say(t.text(s.available > 0 ? 'order.stock_fell' : 'order.stock_gone', { name: t.productName(s.product), left: s.available }));
    }
    setCart(context, next);
    return false;
  },
};

/** `do: order_status`: says where the customer's recent orders are; returns how many they have. */
export const orderStatusAction: ActionDefinition = {
  name: 'order_status',
  description: "say the status of the customer's recent orders",
  params: {},
  async run(context) {
    const orders = await context.services.orders.ofCustomer(context.customer._id, 3);
    const t = texts(context);
    if (orders.length === 0) {
      await context.say(t.text('order.no_orders'));
      return 0;
    }
    await context.say(t.text('order.status_list', { list: orders.map((o) => listLine(t, o)).join('\n') }));
    return orders.length;
  },
};

/** `do: find_cancellable`: the customer's orders that can still be cancelled, as `count`, `number` (the newest) and `text`. */
export const findCancellableAction: ActionDefinition = {
  name: 'find_cancellable',
  description: 'find the orders the customer can still cancel; says so when there are none',
  params: {},
  async run(context) {
    const orders = (await context.services.orders.ofCustomer(context.customer._id, 20)).filter((o) => cancellable(o.status));
    const t = texts(context);
    if (orders.length === 0) await context.say(t.text('order.none_to_cancel'));
    return { count: orders.length, number: orders[0]?._id ?? '', text: orders.map((o) => listLine(t, o)).join('\n') };
  },
};

function listLine(t: OrderTexts, o: OrderDoc): string {
  return t.text('order.status_line', { number: o._id, date: o.createdAt.toISOString().slice(0, 10), total: o.total, currency: o.currency, status: t.status(o.status) });
}

/** `do: choose_order`: the customer's order their answer names ("123", "TIF-000123"), or false after saying none matched. */
export const chooseOrderAction: ActionDefinition = {
  name: 'choose_order',
  description: 'find which of the customer’s orders an answer names',
  params: { answer: { required: true, description: 'what the customer wrote, "{{vars.which}}"' } },
  async run(context, params) {
    const digits = /(\d+)/.exec(String(params.answer ?? ''))?.[1];
    const orders = (await context.services.orders.ofCustomer(context.customer._id, 20)).filter((o) => cancellable(o.status));
    const found = digits ? orders.filter((o) => Number(o._id.replace(/^\D+-/, '')) === Number(digits)) : [];
    if (found.length === 1) return found[0]!._id;
    await context.say(texts(context).text('order.which_unknown'));
    return false;
  },
};

/** `do: cancel_order`: cancels one of the customer's own orders if its status still allows it; the stock goes back. */
export const cancelOrderAction: ActionDefinition = {
  name: 'cancel_order',
  description: 'cancel an order of this customer and release its stock',
  params: { number: { required: true, description: 'the order number, "{{vars.chosen}}"' } },
  async run(context, params) {
    const number = String(params.number ?? '');
    const t = texts(context);
    const order = await context.services.orders.find(number);
    if (!order || String(order.customer) !== String(context.customer._id)) {
      await context.say(t.text('order.which_unknown'));
      return false;
    }
    const result = await context.services.orders.changeStatus(number, 'cancelled', null, 'customer', String(context.turn));
    if (result.ok) {
      await context.say(t.text('order.cancel_done', { number }));
      return true;
    }
    await context.say(t.text('order.cancel_too_late', { number, status: t.status(result.reason === 'transition' ? result.status : order.status) }));
    return false;
  },
};

/** The order actions, registered by the server, the validator and the flow tests alike. */
export const orderActions: ActionDefinition[] = [
  startOrderAction,
  keepPreviousCartAction,
  checkStockAction,
  addToCartAction,
  removeFromCartAction,
  notifyWhenBackAction,
  bankDetailsAction,
  quoteOrderAction,
  placeOrderAction,
  orderStatusAction,
  findCancellableAction,
  chooseOrderAction,
  cancelOrderAction,
];
