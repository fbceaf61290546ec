import type { Connection, Types } from 'mongoose';
import type { Catalog } from '../catalog/catalog';
import type { Language } from '../config';
import type { Locales } from '../i18n/locales';
import type { Customer } from '../history/customers';
import type { Logger } from '../logger';
import type { Understanding } from '../nlu/understand';
import type { CooperativeNotifier } from '../notify/cooperative-notifier';
import type { OrderBook } from '../orders/order-book';
import type { RatingScheduler } from '../satisfaction/rating-scheduler';

/** What the server lends actions beyond the turn: orders and stock, rating requests, the cooperative's notifications. */
export interface ActionServices {
  orders: OrderBook;
  ratings: RatingScheduler;
  cooperative: CooperativeNotifier;
  /** Addresses of the staff console's pages, for links in notifications. */
  links: { customer(customer: string): string };
  /** Forgets the digest's kept figures of the day of an instant (an erasure removes words they quote). */
  digestDays: { invalidate(instant: Date): Promise<void> };
  /** How long a handoff keeps the bot quiet for a customer. */
  handoff: { timeoutMs: number };
  /** The language the cooperative's staff read their notifications in. */
  staffLanguage: Language;
  /** The durable inbox, whose archive an erasure clears of the customer's handled events. */
  inbox?: { forget(channel: string, senders: string[]): Promise<number> };
  /** The voice notes' files, which an erasure removes with the customer's messages. */
  voice?: { forget(channel: string, senders: string[]): Promise<number> };
}

/** What an action may use while it runs inside a flow. */
export interface ActionContext {
  connection: Connection;
  customer: Customer;
  channel: string;
  lang: Language;
  flow: string;
  step: string;
  /** The flow's variables so far (answers, set values). */
  vars: Record<string, unknown>;
  /** Sets a flow variable, for actions that fill in several at once. */
  setVar(name: string, value: unknown): void;
  /**
   * The stored id of the message this turn answers (a new id outside a customer's message):
   * what an action writes once per turn is keyed by it, so a turn run again after a crash
   * writes nothing twice.
   */
  turn: Types.ObjectId;
  /** The words of the message this turn answers ("bghit 2 dyal amlou"); empty when a button was tapped. */
  message: string;
  /** Sends a message to the customer; `products` (catalog ids) lets WhatsApp show them from its catalog, the text as the message's body. */
  say(text: string, options?: { products?: string[] }): Promise<void>;
  /** Keeps nothing more of this turn: the customer's message and the replies from now on are not stored (an erasure). */
  forgetTurn(): void;
  /** The cooperative's catalog and the reply texts, as live now. */
  catalog: Catalog;
  locales: Locales;
  /** What the bot understands of words, trained on the live catalog and examples. */
  understanding: Understanding;
  services: ActionServices;
  log: Logger;
}

/** A built-in action a flow can `do`, with the parameters it accepts (checked by the validator). */
export interface ActionDefinition {
  name: string;
  description: string;
  params: Record<string, { required?: boolean; description: string }>;
  /** Flow variables the action sets itself, besides its result (the validator counts them as defined). */
  sets?: string[];
  /** Runs the action; the result is stored in the step's `var` when it has one. */
  run(context: ActionContext, params: Record<string, unknown>): Promise<unknown>;
}

/** The actions flows may call; capabilities register theirs at start, one line each. */
export class ActionRegistry {
  private readonly actions = new Map<string, ActionDefinition>();

  /** Adds an action; a second action of the same name is a programming error. */
  register(action: ActionDefinition): this {
    if (this.actions.has(action.name)) throw new Error(`action "${action.name}" is registered twice`);
    this.actions.set(action.name, action);
    return this;
  }

  /** The action of that name, if registered. */
  get(name: string): ActionDefinition | undefined {
    return this.actions.get(name);
  }

  /** The names of all registered actions. */
  names(): string[] {
    return [...this.actions.keys()];
  }
}
