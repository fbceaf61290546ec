import type { Connection, Types } from 'mongoose';
import { orderModel, type OrderDoc, type OrderStatus } from '../db/models/order';
import { orderClaimModel, type OrderClaimDoc } from '../db/models/order-claim';
import type { Logger } from '../logger';
import type { CartLine } from './cart';
import { canMove, TRANSITIONS } from './order-status';
import type { StockLedger } from './stock-ledger';
import { insertOnce, isDuplicateKey } from '../db/duplicate-key';
import { insertPlain } from '../db/plain-insert';
import { faultPoint } from '../faults';
import { holderGone, leaseHolderName } from '../db/models/lease';

// A placing takes well under a second; a claim this old without an order was left by a process that stopped
// (one whose placer is known to be gone is not waited for at all).
const STALE_CLAIM_MS = 30_000;

/** Everything an order needs when it is placed; prices are taken now and kept. */
export interface OrderRequest {
  draft: string;
  prefix: string;
  customer: Types.ObjectId;
  channel: string;
  language: string;
  name: string | null;
  phone: string;
  lines: (CartLine & { name: string; unitPrice: number })[];
  deliveryFee: number;
  currency: string;
  delivery: { mode: 'delivery' | 'pickup'; city: string; address: string; zone: string; location?: { latitude: number; longitude: number } };
  payment: 'cod' | 'transfer';
  whatsappCart?: { catalogId: string; message: string };
}

export type PlaceResult =
  | { ok: true; order: OrderDoc; again: boolean }
  | { ok: false; short: { product: string; wanted: number; available: number }[] };

export type StatusResult =
  | { ok: true; order: OrderDoc; from: OrderStatus }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'transition'; status: OrderStatus; allowed: OrderStatus[] };

/** What happens after an order is placed or changes status: telling the cooperative and the customer. */
export interface OrderEvents {
  /** Resolves once what must follow is recorded (the cooperative's notice); asked again for the same order, it records nothing twice. */
  placed(order: OrderDoc): Promise<void>;
  statusChanged(order: OrderDoc, from: OrderStatus, note: string | null, by: string): Promise<void>;
  backInStock(products: string[]): void;
}

/**
 * Orders: placing one (stock reserved, a number taken, once per conversation draft),
 * moving it along its statuses, and reading them. Every once-only decision is a unique
 * `_id` insert, so it holds on FerretDB 1.24 as on MongoDB, across processes.
 */
export class OrderBook {
  private lastNumber = new Map<string, number>();
  // Drafts being placed in this process now: a claim of its own is not stale while its placing
  // runs (a turn past its time limit goes on while its retry starts).
  private readonly placing = new Set<string>();
  private readonly highestNumbers = new Map<string, Promise<number>>();

  constructor(
    readonly connection: Connection,
    readonly stock: StockLedger,
    private readonly events: OrderEvents,
    private readonly log: Logger,
    /** This process's name in leases: a claim names who placed it, so a successor need not wait for a dead placer's. */
    private readonly holder: string = leaseHolderName(),
  ) {}

  /** Places the order of a draft: reserves every line or none, and returns the same order when the draft was placed before. */
  async place(request: OrderRequest): Promise<PlaceResult> {
    // One placing of a draft at a time here; a second waits for the first's order (earlierPlacing).
    const mine = !this.placing.has(request.draft);
    if (mine) this.placing.add(request.draft);
    try {
      return await this.placeOnce(request);
    } finally {
      if (mine) this.placing.delete(request.draft);
    }
  }

  private async placeOnce(request: OrderRequest): Promise<PlaceResult> {
    const Claim = orderClaimModel(this.connection);
    const claimId = `request:${request.draft}`;
    let resumed = false;
    for (let claimed = false; !claimed; ) {
      try {
        await insertPlain(Claim, [{ _id: claimId, order: null, holder: this.holder, at: new Date() }]);
        claimed = true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const earlier = await this.earlierPlacing(claimId, request.draft);
        if (earlier === 'gone') continue; // that placing was refused (short of stock): this one decides anew
        // Told again: the cooperative hears of it once (a stop may have come before it was told).
        if (earlier) {
          await this.events.placed(earlier);
          return { ok: true, order: earlier, again: true };
        }
        // Claimed long ago and never finished: the process that took it stopped half-way. Carry on from its reservations.
        resumed = claimed = true;
      }
    }

    const done = resumed ? await this.stock.movementsFor(request.draft) : [];
    // Still held: more reservations of the product for this draft than releases (a refused attempt released its own).
    const count = (product: string, reason: string) => done.filter((m) => m.product === product && m.reason === reason).length;
    const reserved: CartLine[] = request.lines.filter((l) => count(l.product, 'order') > count(l.product, 'release'));
    const short: { product: string; wanted: number; available: number }[] = [];
    for (const line of request.lines) {
      if (reserved.some((r) => r.product === line.product)) continue;
      const result = await this.stock.reserve(line.product, line.quantity, request.draft);
      if (result.ok) reserved.push(line);
      else short.push({ product: line.product, wanted: line.quantity, available: result.available });
    }
    if (short.length > 0) {
      for (const line of reserved) await this.stock.release(line.product, line.quantity, request.draft);
      // The customer may change the cart and confirm this draft again.
      await Claim.deleteOne({ _id: claimId });
      return { ok: false, short };
    }

    const now = new Date();
    const lines = request.lines.map((l) => ({ product: l.product, name: l.name, quantity: l.quantity, unitPrice: l.unitPrice, total: l.quantity * l.unitPrice }));
    const subtotal = lines.reduce((sum, l) => sum + l.total, 0);
    const order = await this.insertWithNumber(request.prefix, {
      request: request.draft,
      customer: request.customer,
      channel: request.channel,
      language: request.language,
      name: request.name,
      phone: request.phone,
      lines,
      subtotal,
      deliveryFee: request.deliveryFee,
      total: subtotal + request.deliveryFee,
      currency: request.currency,
      delivery: request.delivery,
      payment: request.payment,
      ...(request.whatsappCart ? { whatsappCart: request.whatsappCart } : {}),
      status: 'pending',
      history: [{ status: 'pending', at: now, note: '', by: 'customer' }],
      createdAt: now,
    });
    // Two documents, written at once: the first status, and the placing's claim naming its order.
    await Promise.all([
      insertOnce(insertPlain(Claim, [{ _id: `status:${order._id}#1`, order: order._id, status: 'pending', note: null, by: 'customer', at: now }])),
      Claim.updateOne({ _id: claimId }, { $set: { order: order._id } }),
    ]);
    faultPoint('order-placed');
    this.log.info({ order: order._id, total: order.total, lines: lines.length }, 'order placed');
    await this.events.placed(order);
    return { ok: true, order, again: false };
  }

  /**
   * The order an earlier placing of the same draft made. One still running (claimed moments
   * ago) is waited for; one claimed long ago and unfinished gives undefined, to be resumed;
   * 'gone' when that placing was refused meanwhile.
   */
  private async earlierPlacing(claimId: string, draft: string): Promise<OrderDoc | 'gone' | undefined> {
    const Claim = orderClaimModel(this.connection);
    for (;;) {
      const claim = await Claim.findById(claimId).lean<OrderClaimDoc>();
      const number = claim?.order ?? (await orderModel(this.connection).findOne({ request: draft }, { _id: 1 }).lean())?._id;
      const order = number ? await this.find(number) : null;
      if (order) return order;
      if (!claim) return 'gone';
      // Left by a process that stopped (a crash here, or elsewhere without a heartbeat): carried on
      // at once. This process's own is waited for while its placing runs, however long.
      const ownRunning = claim.holder === this.holder && this.placing.has(draft);
      if (!ownRunning && (Date.now() - claim.at.getTime() > STALE_CLAIM_MS || (claim.holder && (await holderGone(this.connection, claim.holder, this.holder))))) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Moves an order to a new status, if its current one allows it; a cancellation gives the
   * stock back. `op` names the request (a customer's message): asked again, as when its turn
   * runs again after a crash, the change it made is finished and returned, not refused.
   */
  async changeStatus(number: string, to: OrderStatus, note: string | null, by: string, op?: string): Promise<StatusResult> {
    const Claim = orderClaimModel(this.connection);
    for (;;) {
      const order = await this.find(number);
      if (!order) return { ok: false, reason: 'not_found' };
      const history = await this.statusClaims(number);
      const made = op ? history.findIndex((c) => c.op === op) : -1;
      if (made >= 0) return this.finishChange(order, (history[made - 1]?.status as OrderStatus | undefined) ?? 'pending', to, note, by, true);
      const from = (history.at(-1)?.status as OrderStatus | undefined) ?? order.status;
      if (!canMove(from, to)) return { ok: false, reason: 'transition', status: from, allowed: TRANSITIONS[from] };
      try {
        await Claim.create({ _id: `status:${number}#${history.length + 1}`, order: number, status: to, note, by, op: op ?? null, at: new Date() });
      } catch (err) {
        if (isDuplicateKey(err)) continue; // another change landed first: decide again from it
        throw err;
      }
      return this.finishChange(order, from, to, note, by, false);
    }
  }

  /** What follows a status change: the stock back on a cancellation (what a stopped try gave back is not given twice), the order written, and who hears of it. */
  private async finishChange(order: OrderDoc, from: OrderStatus, to: OrderStatus, note: string | null, by: string, again: boolean): Promise<StatusResult> {
    const number = order._id;
    if (to === 'cancelled') {
      const done = again ? await this.stock.movementsFor(number) : [];
      const back: string[] = [];
      for (const line of order.lines) {
        if (done.some((m) => m.product === line.product && m.reason === 'release')) continue;
        if (await this.stock.release(line.product, line.quantity, number)) back.push(line.product);
      }
      if (back.length > 0) this.events.backInStock(back);
    }
    const updated = await this.writeStatus(number);
    this.log.info({ order: number, from, to, by, ...(again ? { again } : {}) }, 'order status changed');
    await this.events.statusChanged(updated, from, note, by);
    return { ok: true, order: updated, from };
  }

  /** An order by its number. */
  async find(number: string): Promise<OrderDoc | null> {
    return orderModel(this.connection).findById(number).lean<OrderDoc>();
  }

  /** A customer's orders, newest first. */
  async ofCustomer(customer: Types.ObjectId, limit = 10): Promise<OrderDoc[]> {
    return orderModel(this.connection).find({ customer }).sort({ createdAt: -1, _id: -1 }).limit(limit).lean<OrderDoc[]>();
  }

  /** The status changes of an order, in order, read by `_id` one after the other. */
  private async statusClaims(number: string): Promise<OrderClaimDoc[]> {
    const Claim = orderClaimModel(this.connection);
    const out: OrderClaimDoc[] = [];
    for (let n = 1; ; n += 1) {
      const claim = await Claim.findById(`status:${number}#${n}`).lean<OrderClaimDoc>();
      if (!claim) return out;
      out.push(claim);
    }
  }

  /** Writes the status and history the claims say onto the order; again if a newer change landed meanwhile. */
  private async writeStatus(number: string): Promise<OrderDoc> {
    const Order = orderModel(this.connection);
    for (;;) {
      const claims = await this.statusClaims(number);
      const history = claims.map((c) => ({ status: c.status as OrderStatus, at: c.at, note: c.note ?? '', by: c.by ?? '' }));
      await Order.updateOne({ _id: number }, { $set: { status: history.at(-1)!.status, history } });
      const newer = await orderClaimModel(this.connection).exists({ _id: `status:${number}#${claims.length + 1}` });
      if (!newer) return (await this.find(number))!;
    }
  }

  /** Inserts the order under the next free number of its prefix; a number another process took is skipped. */
  private async insertWithNumber(prefix: string, fields: Omit<OrderDoc, '_id'>): Promise<OrderDoc> {
    const Order = orderModel(this.connection);
    // Read once a prefix, however many placings start at the same time.
    let highest = this.highestNumbers.get(prefix);
    if (!highest) {
      this.highestNumbers.set(prefix, (highest = this.highestNumber(prefix)));
      highest.catch(() => this.highestNumbers.delete(prefix));
    }
    const found = await highest;
    if (!this.lastNumber.has(prefix)) this.lastNumber.set(prefix, found);
    for (;;) {
      // Taken here before the insert (no await in between): placings running at once in this
      // process get different numbers instead of racing for the same one.
      const taken = this.lastNumber.get(prefix)! + 1;
      this.lastNumber.set(prefix, taken);
      try {
        const doc = await Order.create({ _id: `${prefix}-${String(taken).padStart(6, '0')}`, ...fields });
        return doc.toObject() as OrderDoc;
      } catch (err) {
        // Another process took it: try the next. Any other failure gives the number back when it is still the last one.
        if (isDuplicateKey(err)) continue;
        if (this.lastNumber.get(prefix) === taken) this.lastNumber.set(prefix, taken - 1);
        throw err;
      }
    }
  }

  private async highestNumber(prefix: string): Promise<number> {
    const pattern = new RegExp(`^${prefix}-(\\d+)$`);
    const ids = await orderModel(this.connection).find({}, { _id: 1 }).lean<{ _id: string }[]>();
    return ids.reduce((max, { _id }) => Math.max(max, Number(pattern.exec(_id)?.[1] ?? 0)), 0);
  }
}
