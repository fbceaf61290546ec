import type { Connection } from 'mongoose';
import type { Catalog } from '../catalog/catalog';
import type { Language } from '../config';
import type { OrderDoc } from '../db/models/order';
import { stockAlertModel } from '../db/models/stock-alert';
import type { Locales } from '../i18n/locales';
import type { Logger } from '../logger';
import type { CooperativeNotifier } from '../notify/cooperative-notifier';
import type { CustomerNotifier } from '../notify/customer-notifier';
import type { OrderEvents } from './order-book';
import { OrderTexts } from './order-texts';

/**
 * Who hears of what happens to orders: the cooperative of each new order and of each
 * cancellation by a customer; the customer of each change the cooperative makes; those
 * who asked, of a product back in stock. All run in the background of the change.
 */
export function orderNotifications(options: {
  connection: Connection;
  customers: CustomerNotifier;
  cooperative: CooperativeNotifier;
  locales: () => Locales;
  catalog: () => Catalog;
  /** The language the cooperative reads its notifications in. */
  staffLanguage: Language;
  /** The order's card on the staff console, for links in notifications. */
  orderLink(number: string): string;
  /** Called when an order is delivered: the time to ask how it was. */
  delivered(order: OrderDoc): Promise<void>;
  /** Called when an order is cancelled, by anyone: its day's figures change. */
  cancelled(order: OrderDoc): Promise<void>;
  log: Logger;
}): OrderEvents {
  const texts = (lang: string | undefined) => new OrderTexts(options.locales(), options.catalog(), ((lang as Language | undefined) ?? options.staffLanguage));
  const staff = () => texts(options.staffLanguage);
  const link = (order: OrderDoc) => options.orderLink(order._id);
  const background = (what: string, work: Promise<unknown>) => void work.catch((err: Error) => options.log.error({ err: err.message }, `${what} failed`));

  return {
    async placed(order) {
      const t = staff();
      const text = t.text('order.coop_new', { summary: t.order(order), name: order.name ?? '', phone: order.phone, channel: order.channel, link: link(order) });
      await options.cooperative.notify('order.placed', text, { order: orderJson(order) }, `order.placed:${order._id}`);
    },
    async statusChanged(order, from, note, by) {
      if (order.status === 'cancelled') background('updating the digest after a cancellation', options.cancelled(order));
      if (by === 'customer') {
        const t = staff();
        const text = t.text('order.coop_cancelled', { number: order._id, name: order.name ?? '', phone: order.phone, link: link(order) });
        await options.cooperative.notify('order.cancelled', text, { order: orderJson(order), from }, `order.cancelled:${order._id}`);
        return;
      }
      if (order.status === 'delivered') background('scheduling the rating of a delivered order', options.delivered(order));
      background(
        'telling the customer of a status change',
        options.customers.tell(order.customer, () => texts(order.language).text(`order.status_changed.${order.status}`, { number: order._id, note: note ?? '' }).trim(), { flow: 'orders', step: `status:${order.status}` }),
      );
    },
    backInStock(products) {
      background(
        'telling customers a product is back',
        (async () => {
          const Alert = stockAlertModel(options.connection);
          for (const product of products) {
            for (const alert of await Alert.find({ product }).lean()) {
              const told = await options.customers.tell(alert.customer, (lang) => texts(lang).text('order.back_in_stock', { name: texts(lang).productName(product) }), { flow: 'orders', step: 'back_in_stock' });
              if (told) await Alert.deleteOne({ _id: alert._id });
            }
          }
        })(),
      );
    },
  };
}

/** An order as the admin API and webhooks show it. */
export function orderJson(order: OrderDoc): Record<string, unknown> {
  return {
    number: order._id,
    status: order.status,
    createdAt: order.createdAt,
    customer: String(order.customer),
    channel: order.channel,
    language: order.language,
    name: order.name,
    phone: order.phone,
    lines: order.lines.map((l) => ({ product: l.product, name: l.name, quantity: l.quantity, unitPrice: l.unitPrice, total: l.total })),
    subtotal: order.subtotal,
    deliveryFee: order.deliveryFee,
    total: order.total,
    currency: order.currency,
    delivery: order.delivery,
    payment: order.payment,
    history: order.history.map((h) => ({ status: h.status, at: h.at, note: h.note || null, by: h.by })),
  };
}
