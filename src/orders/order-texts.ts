import type { Catalog } from '../catalog/catalog';
import type { Language } from '../config';
import type { OrderDoc } from '../db/models/order';
import { renderTemplate } from '../flows/texts';
import type { Locales } from '../i18n/locales';
import type { Cart } from './cart';
import type { DeliveryChoice } from './delivery';

/** Writes orders and carts in a customer's language, from the `order.*` texts of the locales. */
export class OrderTexts {
  constructor(
    private readonly locales: Locales,
    private readonly catalog: Catalog,
    private readonly lang: Language,
  ) {}

  /** A locale text filled with `view`, its first letter a capital (a product name may open it). */
  text(key: string, view: Record<string, unknown> = {}): string {
    const text = this.words(key, view);
    return text.charAt(0).toLocaleUpperCase(this.lang === 'en' ? 'en' : 'fr') + text.slice(1);
  }

  /** A locale text filled with `view`, as it stands: for words set inside another text. */
  private words(key: string, view: Record<string, unknown> = {}): string {
    return renderTemplate(this.locales.text(this.lang, key), view);
  }

  /** A product's name in this language, or its id when the catalog no longer has it. */
  productName(id: string): string {
    const product = this.catalog.product(id);
    return product ? this.catalog.view(product, this.lang).name : id;
  }

  /** The cart's lines with their prices, one a line. */
  cart(cart: Cart): string {
    const currency = this.catalog.data.cooperative.currency;
    return cart.lines
      .map((l) => {
        const price = this.catalog.product(l.product)?.price ?? 0;
        return this.text('order.line', { quantity: l.quantity, name: this.productName(l.product), total: price * l.quantity, currency });
      })
      .join('\n');
  }

  /** The payment way in words: cash is paid on delivery, or at pick-up. */
  payment(payment: 'cod' | 'transfer', mode: 'delivery' | 'pickup' = 'delivery'): string {
    if (payment === 'transfer') return this.words('order.payment_transfer');
    return this.words(mode === 'pickup' ? 'order.payment_cod_pickup' : 'order.payment_cod');
  }

  /** The summary's line on how the order comes: delivery with its fee, or pick-up. */
  fulfilment(delivery: Pick<DeliveryChoice, 'mode' | 'city' | 'address'>, fee: number, currency: string): string {
    return delivery.mode === 'pickup'
      ? this.text('order.pickup_line', { place: this.catalog.orderText('pickup', this.lang) ?? this.catalog.data.cooperative.name })
      : this.text('order.delivery_line', { address: delivery.address, city: delivery.city, fee, currency });
  }

  /** An order's status in words. */
  status(status: string): string {
    return this.words(`order.status.${status}`);
  }

  /** A stored order's full summary: lines, delivery, total, payment. */
  order(order: OrderDoc): string {
    const lines = order.lines.map((l) => this.text('order.line', { quantity: l.quantity, name: l.name, total: l.total, currency: order.currency })).join('\n');
    return this.text('order.order_summary', {
      number: order._id,
      lines,
      fulfilment: this.fulfilment(order.delivery, order.deliveryFee, order.currency),
      total: order.total,
      currency: order.currency,
      payment: this.payment(order.payment, order.delivery.mode),
      status: this.status(order.status),
    });
  }
}
