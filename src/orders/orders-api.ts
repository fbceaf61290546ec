import { Router, type Request } from 'express';
import { z } from 'zod';
import { orderModel, ORDER_STATUSES, type OrderDoc, type OrderStatus } from '../db/models/order';
import { HttpError } from '../errors';
import { pageBody, parsePage } from '../admin/pagination';
import type { OrderBook } from './order-book';
import { orderJson } from './order-notifications';

const NUMBER = /^[A-Z0-9]{1,8}-\d{1,12}$/;
const patchBody = z.object({ status: z.enum(ORDER_STATUSES), note: z.string().max(500).optional() }).strict();

/**
 * The orders admin API: GET /orders (filters status, from, to; paginated), GET /orders.csv
 * (the same filters, every match), GET /orders/:number, PATCH /orders/:number (a status
 * change with a note; the customer is told in their language).
 */
export function ordersApi(book: OrderBook): Router {
  const router = Router();

  router.get('/orders', async (req, res) => {
    const filter = orderFilter(req);
    const page = parsePage(req);
    const Order = orderModel(book.connection);
    const [items, total] = await Promise.all([
      Order.find(filter).sort({ createdAt: -1, _id: -1 }).skip(page.offset).limit(page.limit).lean<OrderDoc[]>(),
      Order.countDocuments(filter),
    ]);
    res.json(pageBody(items.map(orderJson), total, page));
  });

  router.get('/orders.csv', async (req, res) => {
    const filter = orderFilter(req);
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="orders-${new Date().toISOString().slice(0, 10)}.csv"`);
    // A byte-order mark, so that spreadsheet programs read the Arabic names as UTF-8.
    res.write(`\uFEFF${CSV_COLUMNS.join(',')}\r\n`);
    for await (const order of orderModel(book.connection).find(filter).sort({ createdAt: -1, _id: -1 }).lean<OrderDoc>().cursor()) {
      if (!res.write(`${csvRow(order as OrderDoc)}\r\n`)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  });

  router.get('/orders/:number', async (req, res) => {
    const order = await book.find(orderNumber(req));
    if (!order) throw new HttpError(404, 'unknown_order', `no order has the number "${req.params.number}"`);
    res.json(orderJson(order));
  });

  router.patch('/orders/:number', async (req, res) => {
    const number = orderNumber(req);
    const body = patchBody.safeParse(req.body);
    if (!body.success) {
      const issue = body.error.issues[0]!;
      throw new HttpError(400, 'bad_body', `${issue.path.join('.') || 'body'}: ${issue.message}; send {"status": one of ${ORDER_STATUSES.join(', ')}, "note": optional text}`);
    }
    const result = await book.changeStatus(number, body.data.status, body.data.note ?? null, 'admin');
    if (!result.ok && result.reason === 'not_found') throw new HttpError(404, 'unknown_order', `no order has the number "${number}"`);
    if (!result.ok && result.reason === 'transition') {
      const allowed = result.allowed.length ? `it can go to ${result.allowed.join(' or ')}` : 'it cannot change any more';
      throw new HttpError(409, 'invalid_transition', `order ${number} is ${result.status}: ${allowed}`, { status: result.status, allowed: result.allowed });
    }
    res.json(orderJson((result as { order: OrderDoc }).order));
  });

  return router;
}

function orderNumber(req: Request): string {
  const number = String(req.params.number ?? '');
  if (!NUMBER.test(number)) throw new HttpError(404, 'unknown_order', `"${number}" is not an order number; they look like TIF-000123`);
  return number;
}

/** The status and date filters of the query string, checked. */
function orderFilter(req: Request): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  const status = req.query.status;
  if (status !== undefined) {
    if (typeof status !== 'string' || !(ORDER_STATUSES as readonly string[]).includes(status))
      throw new HttpError(400, 'bad_status', `status must be one of ${ORDER_STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
    filter.status = status as OrderStatus;
  }
  const from = dateParam(req, 'from', false);
  const to = dateParam(req, 'to', true);
  if (from && to && from > to) throw new HttpError(400, 'bad_dates', 'from is after to');
  if (from || to) filter.createdAt = { ...(from ? { $gte: from } : {}), ...(to ? { $lte: to } : {}) };
  return filter;
}

/** A date from the query: "2026-11-26" (a whole day; `to` takes in its end) or a full ISO time. */
function dateParam(req: Request, name: string, endOfDay: boolean): Date | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  const text = typeof raw === 'string' ? raw : '';
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const date = new Date(day ? `${text}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z` : text);
  if (!text || Number.isNaN(date.getTime())) throw new HttpError(400, 'bad_date', `${name} must be a date such as 2026-11-26 or an ISO time, got ${JSON.stringify(raw)}`);
  return date;
}

const CSV_COLUMNS = ['number', 'created_at', 'status', 'name', 'phone', 'channel', 'mode', 'city', 'address', 'payment', 'items', 'subtotal', 'delivery_fee', 'total', 'currency'];

function csvRow(o: OrderDoc): string {
  const items = o.lines.map((l) => `${l.quantity} x ${l.product} @ ${l.unitPrice}`).join('; ');
  return [o._id, o.createdAt.toISOString(), o.status, o.name ?? '', o.phone, o.channel, o.delivery.mode, o.delivery.city, o.delivery.address, o.payment, items, o.subtotal, o.deliveryFee, o.total, o.currency]
    .map(csvCell)
    .join(',');
}

/** One CSV cell: quoted when needed, and a leading = + - @ defused so a spreadsheet does not run it as a formula. */
function csvCell(value: unknown): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
