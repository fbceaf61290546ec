import path from 'node:path';
import { Types, type Connection } from 'mongoose';
import { Catalog } from '../../src/catalog/catalog';
import { orderClaimModel } from '../../src/db/models/order-claim';
import { stockMovementModel } from '../../src/db/models/stock-movement';
import { orderModel, type OrderDoc } from '../../src/db/models/order';
import { createLogger } from '../../src/logger';
import { OrderBook, type OrderEvents, type OrderRequest } from '../../src/orders/order-book';
import { StockLedger } from '../../src/orders/stock-ledger';
import { dropDatabase, freshDatabase } from '../support/database';

const log = createLogger('silent', 'json');
const catalog = Catalog.load(path.join(__dirname, '../../flows/catalog.yml'));

function recorder(): OrderEvents & { placedOrders: string[]; changes: string[]; back: string[][] } {
  const placedOrders: string[] = [];
  const changes: string[] = [];
  const back: string[][] = [];
  return {
    placedOrders,
    changes,
    back,
    placed: async (o) => void placedOrders.push(o._id),
    statusChanged: async (o, from) => void changes.push(`${o._id} ${from}->${o.status}`),
    backInStock: (p) => back.push(p),
  };
}

function request(draft: string, lines: { product: string; quantity: number }[], overrides: Partial<OrderRequest> = {}): OrderRequest {
  return {
    draft,
    prefix: 'TIF',
    customer: new Types.ObjectId(),
    channel: 'web',
    language: 'fr',
    name: 'Fatima',
    phone: '+212612345678',
    lines: lines.map((l) => ({ ...l, name: l.product, unitPrice: catalog.product(l.product)!.price })),
    deliveryFee: 20,
    currency: 'MAD',
    delivery: { mode: 'delivery', city: 'Agadir', address: 'Hay Salam', zone: 'local' },
    payment: 'cod',
    ...overrides,
  };
}

describe('orders and stock (real database)', () => {
  let connection: Connection;

  beforeEach(async () => {
    connection = await freshDatabase('orders');
  });
  afterEach(() => dropDatabase(connection));

  it('20 customers ordering the last 5 jars at once, through 4 processes: exactly 5 orders, stock ends at 0', async () => {
    // Four "processes": each its own ledger and book, with their own caches, on one database.
    const books = Array.from({ length: 4 }, () => new OrderBook(connection, new StockLedger(connection), recorder(), log));
    const five = Catalog.load(path.join(__dirname, '../../flows/catalog.yml'));
    (five.data.products.find((p) => p.id === 'amlou')!).stock = 5;
    await books[0]!.stock.sync(five);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => books[i % 4]!.place(request(`draft-${i}`, [{ product: 'amlou', quantity: 1 }]))));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.short[0]!.available === 0)).toBe(true);
    expect(await new StockLedger(connection).level('amlou')).toBe(0);
    expect(await orderModel(connection).countDocuments({})).toBe(5);
    const numbers = results.flatMap((r) => (r.ok ? [r.order._id] : [])).sort();
    expect(new Set(numbers).size).toBe(5);
    const levels = (await stockMovementModel(connection).find({ product: 'amlou' }).lean()).map((m) => m.level);
    expect(Math.min(...levels)).toBe(0);
  });

  it('placings at once in one process take turns on a product and numbers, instead of racing and retrying', async () => {
    const book = new OrderBook(connection, new StockLedger(connection), recorder(), log);
    await book.stock.sync(catalog);
    const movements = jest.spyOn(stockMovementModel(connection).collection, 'insertOne');
    const orders = jest.spyOn(orderModel(connection), 'create');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => book.place(request(`at-once-${i}`, [{ product: 'amlou', quantity: 1 }]))));
    // One insert each: before, each lost race was a refused insert and a retry (dozens for 8).
    expect(movements).toHaveBeenCalledTimes(8);
    expect(orders).toHaveBeenCalledTimes(8);
    movements.mockRestore();
    orders.mockRestore();
    expect(results.map((r) => (r.ok ? r.order._id : 'failed')).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `TIF-00000${i + 1}`));
    expect(await book.stock.level('amlou')).toBe(30 - 8);
  });

  it('alone, reserves with one insert and no read; a writer it did not expect costs a retry, not a wrong level', async () => {
    const alone = new StockLedger(connection, { alone: true });
    await alone.sync(catalog);
    expect(await alone.level('amlou')).toBe(30);
    const reads = jest.spyOn(stockMovementModel(connection), 'findById');
    expect(await alone.reserve('amlou', 2, 'a')).toEqual({ ok: true });
    expect(reads).not.toHaveBeenCalled();
    // Another ledger moves the stock behind its back.
    expect(await new StockLedger(connection).reserve('amlou', 5, 'b')).toEqual({ ok: true });
    expect(await alone.reserve('amlou', 1, 'c')).toEqual({ ok: true });
    reads.mockRestore();
    expect(await new StockLedger(connection).level('amlou')).toBe(30 - 2 - 5 - 1);
    await expect(alone.release('amlou', 0.5, 'd')).rejects.toThrow('stock of "amlou" would be 22.5; a level is a whole number, 0 or more');
  });

  it('the same draft placed twice, even at the same moment, gives one order and one stock movement', async () => {
    const events = recorder();
    const book = new OrderBook(connection, new StockLedger(connection), events, log);
    await book.stock.sync(catalog);
    const [a, b] = await Promise.all([book.place(request('same', [{ product: 'amlou', quantity: 2 }])), book.place(request('same', [{ product: 'amlou', quantity: 2 }]))]);
    const c = await book.place(request('same', [{ product: 'amlou', quantity: 2 }]));
    const numbers = [a, b, c].map((r) => (r.ok ? r.order._id : 'failed'));
    expect(new Set(numbers).size).toBe(1);
    expect(numbers[0]).toBe('TIF-000001');
    expect(await orderModel(connection).countDocuments({})).toBe(1);
    expect(await stockMovementModel(connection).countDocuments({ reason: 'order' })).toBe(1);
    expect(await book.stock.level('amlou')).toBe(28);
    // Each placing tells of the same order; the cooperative's notifier sends it once (its name is the order's).
    expect(new Set(events.placedOrders)).toEqual(new Set(['TIF-000001']));
  });

  it('keeps prices, fee and total; numbers follow each other', async () => {
    const book = new OrderBook(connection, new StockLedger(connection), recorder(), log);
    await book.stock.sync(catalog);
    const first = await book.place(request('d1', [{ product: 'amlou', quantity: 2 }, { product: 'argan-soap', quantity: 3 }]));
    const second = await new OrderBook(connection, new StockLedger(connection), recorder(), log).place(request('d2', [{ product: 'amlou', quantity: 1 }]));
    expect(first.ok && first.order).toMatchObject({ _id: 'TIF-000001', subtotal: 2 * 90 + 3 * 35, deliveryFee: 20, total: 2 * 90 + 3 * 35 + 20, status: 'pending' });
    expect(first.ok && first.order.lines[1]).toMatchObject({ product: 'argan-soap', quantity: 3, unitPrice: 35, total: 105 });
    expect(second.ok && second.order._id).toBe('TIF-000002');
  });

  it('a line without enough stock places nothing and keeps the other lines in stock', async () => {
    const book = new OrderBook(connection, new StockLedger(connection), recorder(), log);
    await book.stock.sync(catalog);
    const result = await book.place(request('d', [{ product: 'amlou', quantity: 2 }, { product: 'thyme-honey', quantity: 13 }]));
    expect(result).toEqual({ ok: false, short: [{ product: 'thyme-honey', wanted: 13, available: 12 }] });
    expect(await book.stock.level('amlou')).toBe(30);
    expect(await orderModel(connection).countDocuments({})).toBe(0);
    // The same draft, changed, can then be placed.
    const retry = await book.place(request('d', [{ product: 'amlou', quantity: 2 }, { product: 'thyme-honey', quantity: 12 }]));
    expect(retry.ok).toBe(true);
    expect(await book.stock.level('thyme-honey')).toBe(0);
  });

  it('resuming a placing a stopped process left half-way reserves what an earlier refused attempt gave back', async () => {
    const book = new OrderBook(connection, new StockLedger(connection), recorder(), log);
    await book.stock.sync(catalog);
    // Refused (thyme honey short): the amlou reserved on the way is given back.
    expect((await book.place(request('r', [{ product: 'amlou', quantity: 2 }, { product: 'thyme-honey', quantity: 13 }]))).ok).toBe(false);
    // Then a placing of the same draft claimed it and stopped before reserving anything.
    await orderClaimModel(connection).create({ _id: 'request:r', order: null, at: new Date(Date.now() - 60_000) });
    const resumed = await book.place(request('r', [{ product: 'amlou', quantity: 2 }]));
    expect(resumed.ok).toBe(true);
    expect(await book.stock.level('amlou')).toBe(28);
  });

  it('moves along the statuses, refuses a wrong move with the allowed ones, and a cancellation gives the stock back once', async () => {
    const events = recorder();
    const book = new OrderBook(connection, new StockLedger(connection), events, log);
    await book.stock.sync(catalog);
    const placed = (await book.place(request('d', [{ product: 'thyme-honey', quantity: 12 }]))) as { ok: true; order: OrderDoc };
    expect(await book.stock.level('thyme-honey')).toBe(0);
    expect(await book.changeStatus(placed.order._id, 'delivered', null, 'admin')).toEqual({ ok: false, reason: 'transition', status: 'pending', allowed: ['confirmed', 'cancelled'] });
    expect((await book.changeStatus(placed.order._id, 'confirmed', 'called her', 'admin')).ok).toBe(true);
    const cancels = await Promise.all([book.changeStatus(placed.order._id, 'cancelled', null, 'customer'), book.changeStatus(placed.order._id, 'cancelled', null, 'admin')]);
    expect(cancels.filter((c) => c.ok)).toHaveLength(1);
    expect(cancels.find((c) => !c.ok)).toEqual({ ok: false, reason: 'transition', status: 'cancelled', allowed: [] });
    expect(await book.stock.level('thyme-honey')).toBe(12);
    expect(events.back).toEqual([['thyme-honey']]);
    const stored = await book.find(placed.order._id);
    expect(stored!.status).toBe('cancelled');
    expect(stored!.history.map((h) => h.status)).toEqual(['pending', 'confirmed', 'cancelled']);
    expect(stored!.history[1]!.note).toBe('called her');
    expect(await book.changeStatus('TIF-999999', 'confirmed', null, 'admin')).toEqual({ ok: false, reason: 'not_found' });
  });

  it('a catalog edit of the count sets the level anew; an unchanged count leaves orders counted', async () => {
    const ledger = new StockLedger(connection);
    await ledger.sync(catalog);
    await ledger.reserve('amlou', 4, 'x');
    await new StockLedger(connection).sync(catalog);
    expect(await ledger.level('amlou')).toBe(26);
    const edited = Catalog.load(path.join(__dirname, '../../flows/catalog.yml'));
    edited.data.products.find((p) => p.id === 'euphorbia-honey')!.stock = 7;
    expect(await new StockLedger(connection).sync(edited)).toEqual(['euphorbia-honey']);
    expect(await ledger.level('euphorbia-honey')).toBe(7);
  });
});
