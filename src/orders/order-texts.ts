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

  /** A locale text filled with `view`. */
  text(key: string, view: Record<string, unknown> = {}): string {
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

  /** Where the order goes: "Hay Salam, Agadir" or the pick-up place. */
  place(delivery: Pick<DeliveryChoice, 'mode' | 'city' | 'address'>): string {
    if (delivery.mode === 'pickup') return this.text('order.pickup_place', { place: this.catalog.orderText('pickup', this.lang) ?? this.catalog.data.cooperative.name });
    return this.text('order.delivery_place', { address: delivery.address, city: delivery.city });
  }

  /** The payment way in words. */
  payment(payment: 'cod' | 'transfer'): string {
    return this.text(payment === 'cod' ? 'order.payment_cod' : 'order.payment_transfer');
  }

  /** An order's status in words. */
  status(status: string): string {
    return this.text(`order.status.${status}`);
  }

  /** A stored order's full summary: lines, delivery, total, payment. */
  order(order: OrderDoc): string {
    const lines = order.lines.map((l) => this.text('order.line', { quantity: l.quantity, name: l.name, total: l.total, currency: order.currency })).join('\n');
    return this.text('order.order_summary', {
      number: order._id,
      lines,
      place: this.place(order.delivery),
      fee: order.deliveryFee,
      total: order.total,
      currency: order.currency,
      payment: this.payment(order.payment),
      status: this.status(order.status),
    });
  }
}
