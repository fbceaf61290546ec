import type { Connection } from 'mongoose';
import type { Catalog } from '../catalog/catalog';
import { stockHeadModel, stockMovementModel, type StockMovementDoc } from '../db/models/stock-movement';
import { isDuplicateKey } from '../db/duplicate-key';
import { insertPlain } from '../db/plain-insert';
import { KeyedSerialQueue } from '../channels/serial-queue';

// Each lost race means another customer's movement landed; this many in a row is not contention but a fault.
const MAX_ATTEMPTS = 500;

/** The outcome of a reservation: done, or how many units there were. */
export type Reservation = { ok: true } | { ok: false; available: number };

/**
 * The live stock of each product, kept as a chain of versions in `stock_movements`
 * (see the model for why). `catalog.yml` gives the count on hand: saving a new count
 * sets the level anew, and orders and cancellations move it from there.
 */
export class StockLedger {
  /** The newest version this process has seen per product, and its level. */
  private readonly seen = new Map<string, StockMovementDoc>();
  // One movement of a product at a time in this process: concurrent placings of the same
  // product would otherwise all race for the same version, and each lost race costs reads
  // and a retry (8 at once: dozens of queries). Other processes still race, and retry.
  private readonly moving = new KeyedSerialQueue();
  /** Told when a product sells out or comes back (its level crosses 0), by any movement of this process. */
  onAvailability: ((product: string) => void) | undefined;

  /** `alone`: this process is the database's only writer of stock, so the version it last saw is the newest. */
  constructor(
    private readonly connection: Connection,
    private readonly options: { alone?: boolean } = {},
  ) {}

  /** The level last seen here, without a database read: for showing, never for deciding. */
  cachedLevel(product: string): number | undefined {
    return this.seen.get(product)?.level;
  }

  /** The current level of a product, or undefined when the catalog never declared it. */
  async level(product: string): Promise<number | undefined> {
    return (await this.head(product))?.level;
  }

  /** Takes the catalog's counts: a product new to the ledger, or whose count was edited, gets that level. Returns the products whose level went from 0 to more. */
  async sync(catalog: Catalog): Promise<string[]> {
    const back: string[] = [];
    for (const product of catalog.products) {
      await this.moving.run(product.id, async () => {
        for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
          const head = await this.head(product.id);
          if (head && head.declared === product.stock) return;
          const inserted = await this.insertAfter(head, product.id, { level: product.stock, declared: product.stock, reason: 'catalog', ref: null });
          if (inserted) {
            if (head && head.level === 0 && product.stock > 0) back.push(product.id);
            return;
          }
        }
      });
    }
    return back;
  }

  /** Takes `quantity` units if that many are left; never below zero, whatever runs at the same time. */
  reserve(product: string, quantity: number, ref: string): Promise<Reservation> {
    return this.moving.run(product, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const head = await this.head(product);
        const available = head?.level ?? 0;
        if (!head || available < quantity) return { ok: false, available };
        if (await this.insertAfter(head, product, { level: available - quantity, declared: head.declared, reason: 'order', ref })) return { ok: true };
      }
      throw new Error(`stock of "${product}" is changing too fast to reserve; try again`);
    });
  }

  /** Gives units back (a cancelled order, a reservation undone); returns true when the product was at 0 before. */
  release(product: string, quantity: number, ref: string): Promise<boolean> {
    return this.moving.run(product, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const head = await this.head(product);
        if (!head) return false;
        if (await this.insertAfter(head, product, { level: head.level + quantity, declared: head.declared, reason: 'release', ref })) return head.level === 0 && quantity > 0;
      }
      throw new Error(`stock of "${product}" is changing too fast to release; try again`);
    });
  }

  /** The movements that carry a reference (an order's): for recovering a placing that stopped half-way. */
  async movementsFor(ref: string): Promise<StockMovementDoc[]> {
    return stockMovementModel(this.connection).find({ ref }).lean<StockMovementDoc[]>();
  }

  /** The newest version: from the last one seen (or the hint), read forward by `_id` until there is none. */
  private async head(product: string): Promise<StockMovementDoc | undefined> {
    const Movement = stockMovementModel(this.connection);
    let head = this.seen.get(product);
    // The only writer wrote it itself; after a failed insert (a second writer after all) it is read again.
    if (head && this.options.alone) return head;
    if (!head) {
      const hint = await stockHeadModel(this.connection).findById(product).lean();
      if (hint) head = (await Movement.findById(`${product}#${hint.version}`).lean<StockMovementDoc>()) ?? undefined;
    }
    for (;;) {
      const next = await Movement.findById(`${product}#${(head?.version ?? 0) + 1}`).lean<StockMovementDoc>();
      if (!next) break;
      head = next;
    }
    if (head) this.seen.set(product, head);
    return head;
  }

  /** Inserts the version after `head`; false when another writer took that version first. */
  private async insertAfter(head: StockMovementDoc | undefined, product: string, fields: Pick<StockMovementDoc, 'level' | 'declared' | 'reason' | 'ref'>): Promise<boolean> {
    // Written through the driver, without the schema's checks: so checked here.
    if (!Number.isInteger(fields.level) || fields.level < 0) throw new Error(`stock of "${product}" would be ${fields.level}; a level is a whole number, 0 or more`);
    const version = (head?.version ?? 0) + 1;
    const doc: StockMovementDoc = { _id: `${product}#${version}`, product, version, change: fields.level - (head?.level ?? 0), at: new Date(), ...fields };
    try {
      await insertPlain(stockMovementModel(this.connection), [doc]);
    } catch (err) {
      // Another writer took that version, or the write may have landed all the same (a
      // timeout): the head is read from the database again (from the hint).
      this.seen.delete(product);
      if (isDuplicateKey(err)) return false;
      throw err;
    }
    this.seen.set(product, doc);
    if (head && (head.level > 0) !== (fields.level > 0)) this.onAvailability?.(product);
    // The hint only ever names a version that exists, and a stale one costs a few reads
    // forward: it is written after the movement, and the next movement need not wait for it.
    void stockHeadModel(this.connection)
      .updateOne({ _id: product }, { $set: { version } }, { upsert: true })
      .catch(() => undefined);
    return true;
  }
}
