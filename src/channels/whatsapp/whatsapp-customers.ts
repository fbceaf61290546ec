import { createHash } from 'node:crypto';
import type { Connection, Types } from 'mongoose';
import { customerModel } from '../../db/models/customer';
import { isDuplicateKey } from '../../db/duplicate-key';
import { insertPlain } from '../../db/plain-insert';
import { customerIdOf, forgetIdentitiesOf, linkIdentity, onIdentitiesForgotten, unlinkIdentity } from '../../history/customers';
import type { Logger } from '../../logger';
import { isWhatsAppPhone, type WhatsAppIdentity } from './whatsapp-identity';

// Ids are linked under keys of their own, apart from the conversations' ("whatsapp:<externalId>"),
// which never move: a phone that changes hands must not take a conversation with it.
const phoneKey = (phone: string) => `phone:${phone}`;
// Identities whose customer this process has linked, to skip the lookups on every message.
const MAX_REMEMBERED = 50_000;

/** What resolving reads of a customer. */
interface Found {
  _id: Types.ObjectId;
  externalId: string;
  whatsapp?: { phone?: string | null; bsuid?: string | null; lid?: string | null; parentBsuid?: string | null; username?: string | null; profileName?: string | null; formerPhones?: string[] } | null;
}

/**
 * How a WhatsApp channel names its customers: besides the phone, a hidden id that stays theirs
 * (WhatsApp Cloud's business-scoped user id, WhatsApp Web's `@lid`), and the keys of their conversations.
 */
export interface WhatsAppIdScheme {
  channel: string;
  /** The hidden id's field in the identity and the customer's `whatsapp` record, and its key prefix in customer_ids. */
  hidden: 'bsuid' | 'lid';
  /** The conversation key of a new customer's phone or hidden id. */
  conversationOf(id: { phone: string } | { hidden: string }): string;
}

/** WhatsApp Cloud: phone and BSUID; conversations under the bare id Meta gave first. */
export const CLOUD_IDS: WhatsAppIdScheme = {
  channel: 'whatsapp',
  hidden: 'bsuid',
  conversationOf: (id) => ('phone' in id ? id.phone : id.hidden),
};

/** A WhatsApp customer as a turn knows them: their document's id and the id their conversation is kept under. */
export interface WhatsAppCustomer {
  customer: Types.ObjectId;
  /** The customer's `externalId`: the first id WhatsApp gave them, the conversation's key for good. */
  conversation: string;
}

/**
 * One customer whatever WhatsApp calls them: a phone, a hidden id (Cloud's business-scoped
 * user id, BSUID; WhatsApp Web's `@lid`), or both. Each id seen is linked to the customer in
 * customer_ids, so a customer first seen by phone and later by hidden id (or the reverse)
 * keeps one history, cart and dialog; their conversation stays under the id they were first
 * seen with. The hidden id decides when the two disagree: a phone that comes with another
 * person's hidden id has changed hands.
 */
export class WhatsAppCustomers {
  private readonly remembered = new Map<string, WhatsAppCustomer & { seen: string }>();
  // idsOf's answers that named both ids, by the id(s) asked with.
  private readonly bothIds = new Map<string, { phone: string; hidden: string; customer: Types.ObjectId }>();
  private readonly channel: string;

  constructor(
    private readonly connection: Connection,
    private readonly log: Logger,
    /** Told of a customer whose phone went to someone else. */
    private readonly phoneLost: (customer: Types.ObjectId) => void = () => undefined,
    private readonly ids: WhatsAppIdScheme = CLOUD_IDS,
  ) {
    this.channel = ids.channel;
    onIdentitiesForgotten(connection, (customer) => this.forgetRemembered(customer));
  }

  private hiddenKey(hidden: string): string {
    return `${this.ids.hidden}:${hidden}`;
  }

  private hiddenOf(identity: WhatsAppIdentity): string | undefined {
    return identity[this.ids.hidden];
  }

  /** The customer behind an identity, created when `create` and none is known; their ids and profile are kept up to date. */
  async resolve(identity: WhatsAppIdentity, options: { create: boolean }): Promise<WhatsAppCustomer | undefined> {
    const hidden = this.hiddenOf(identity);
    const key = `${identity.phone ?? ''}|${hidden ?? ''}`;
    const seen = `${identity.username ?? ''}|${identity.name ?? ''}|${identity.parentBsuid ?? ''}`;
    const known = this.remembered.get(key);
    if (known && known.seen === seen) return known;
    const byHidden = hidden ? await this.customerOf({ hidden }) : null;
    // Linked under its key, or (a customer stored before identities were kept) found by their conversation's.
    const phoneLinked = identity.phone ? await customerIdOf(this.connection, this.channel, phoneKey(identity.phone)) : null;
    const byPhone = phoneLinked ?? (identity.phone ? await this.legacyOwner({ phone: identity.phone }) : null);
    const Customer = customerModel(this.connection);
    let id = byHidden ?? byPhone;
    let doc: Found | null = id ? await Customer.findById(id, { externalId: 1, whatsapp: 1 }).lean<Found>() : null;
    // The phone's customer has a BSUID of their own: this is another person who has that number now.
    const theirs = doc?.whatsapp?.[this.ids.hidden];
    if (!byHidden && doc && hidden && theirs && theirs !== hidden) {
      this.log.warn({ channel: this.channel, customer: String(doc._id) }, 'a phone came with another user id: it has changed hands; a new customer is made for its new owner');
      doc = null;
      id = null;
    }
    if (!doc) {
      if (!options.create) return undefined;
      doc = await this.create(identity);
      id = doc._id;
    }
    const customer = id!;
    if (hidden) await linkIdentity(this.connection, this.channel, this.hiddenKey(hidden), customer);
    // The hidden id's customer takes the phone from whoever had it (their number now).
    if (identity.phone && !(phoneLinked?.equals(customer) ?? false)) await this.givePhone(identity.phone, customer, byPhone);
    const w = doc.whatsapp ?? {};
    // Writing from another phone than the one kept: the old one is no longer theirs (as a number change says).
    if (identity.phone && w.phone && w.phone !== identity.phone) {
      if ((await customerIdOf(this.connection, this.channel, phoneKey(w.phone)))?.equals(customer)) await unlinkIdentity(this.connection, this.channel, phoneKey(w.phone));
      await Customer.updateOne({ _id: customer }, { $set: { 'whatsapp.formerPhones': [...(w.formerPhones ?? []).filter((p) => p !== w.phone), w.phone].slice(-5) } });
    }
    const fields: Record<string, string> = {};
    if (identity.phone && w.phone !== identity.phone) fields['whatsapp.phone'] = identity.phone;
    if (hidden && w[this.ids.hidden] !== hidden) fields[`whatsapp.${this.ids.hidden}`] = hidden;
    if (identity.parentBsuid && w.parentBsuid !== identity.parentBsuid) fields['whatsapp.parentBsuid'] = identity.parentBsuid;
    if (identity.username && w.username !== identity.username) fields['whatsapp.username'] = identity.username;
    if (identity.name && w.profileName !== identity.name) fields['whatsapp.profileName'] = identity.name;
    if (Object.keys(fields).length > 0) await Customer.updateOne({ _id: customer }, { $set: fields });
    const found = { customer, conversation: doc.externalId, seen };
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(key, found);
    return found;
  }

  /** The customer a phone or a hidden id (as statuses name the recipient) belongs to now, if any. */
  async customerOf(id: { phone: string } | { hidden: string }): Promise<Types.ObjectId | null> {
    const key = 'hidden' in id ? this.hiddenKey(id.hidden) : phoneKey(id.phone);
    return (await customerIdOf(this.connection, this.channel, key)) ?? this.legacyOwner(id);
  }

  /** The phone and hidden id kept for the customer whom one of them names, if they are known. */
  async idsOf(identity: WhatsAppIdentity): Promise<{ phone?: string; hidden?: string } | undefined> {
    const hidden = this.hiddenOf(identity);
    // Both known once: every later message of theirs is answered from memory (a read a message otherwise).
    const key = `${identity.phone ?? ''}|${hidden ?? ''}`;
    const both = this.bothIds.get(key);
    if (both) return { phone: both.phone, hidden: both.hidden };
    const customer = (hidden ? await this.customerOf({ hidden }) : null) ?? (identity.phone ? await this.customerOf({ phone: identity.phone }) : null);
    if (!customer) return undefined;
    const w = (await customerModel(this.connection).findById(customer, { whatsapp: 1 }).lean<Found>())?.whatsapp;
    const theirs = w?.[this.ids.hidden];
    if (w?.phone && theirs) {
      if (this.bothIds.size >= MAX_REMEMBERED) this.bothIds.delete(this.bothIds.keys().next().value!);
      this.bothIds.set(key, { phone: w.phone, hidden: theirs, customer });
    }
    return { ...(w?.phone ? { phone: w.phone } : {}), ...(theirs ? { hidden: theirs } : {}) };
  }

  /**
   * Moves a customer to their new phone and/or BSUID (`user_changed_number`,
   * `user_changed_user_id`): the old phone is no longer theirs. Their conversation keeps its key.
   */
  async move(customer: Types.ObjectId, next: { phone?: string; hidden?: string }): Promise<void> {
    const Customer = customerModel(this.connection);
    const doc = await Customer.findById(customer, { whatsapp: 1, externalId: 1 }).lean<Found>();
    if (!doc) return;
    const old = doc.whatsapp?.phone ?? (!doc.whatsapp && isWhatsAppPhone(doc.externalId) ? doc.externalId : undefined);
    const set: Record<string, unknown> = {};
    if (next.phone && next.phone !== old) {
      await this.givePhone(next.phone, customer, await this.customerOf({ phone: next.phone }));
      if (old) {
        await unlinkIdentity(this.connection, this.channel, phoneKey(old));
        set['whatsapp.formerPhones'] = [...(doc.whatsapp?.formerPhones ?? []).filter((p) => p !== old), old].slice(-5);
      }
      set['whatsapp.phone'] = next.phone;
    }
    const was = doc.whatsapp?.[this.ids.hidden];
    if (next.hidden && next.hidden !== was) {
      await linkIdentity(this.connection, this.channel, this.hiddenKey(next.hidden), customer, { replace: true });
      if (was) await unlinkIdentity(this.connection, this.channel, this.hiddenKey(was));
      set[`whatsapp.${this.ids.hidden}`] = next.hidden;
    }
    // A customer stored before identities were kept gets the record that says what is theirs now.
    if (!doc.whatsapp && !set['whatsapp.phone'] && old) set['whatsapp.phone'] = old;
    if (Object.keys(set).length > 0) await Customer.updateOne({ _id: customer }, { $set: set });
    this.forgetCustomer(customer);
  }

  /** Points a phone at `customer`, taking it from `from` (who no longer has it: not addressed there again). */
  private async givePhone(phone: string, customer: Types.ObjectId, from: Types.ObjectId | null): Promise<void> {
    if (from && !from.equals(customer)) {
      this.log.warn({ channel: this.channel, customer: String(customer), from: String(from) }, 'a phone moves to another customer: their user id came with it, or they changed to it');
      const Customer = customerModel(this.connection);
      const previous = await Customer.findById(from, { whatsapp: 1, externalId: 1 }).lean<Found>();
      // One stored before identities were kept: their record now says they have no phone (their conversation key was it).
      if (previous && !previous.whatsapp) await Customer.updateOne({ _id: from }, { $set: { 'whatsapp.formerPhones': [phone] } });
      else await Customer.updateOne({ _id: from, 'whatsapp.phone': phone }, { $unset: { 'whatsapp.phone': 1 } });
      this.forgetCustomer(from);
      this.phoneLost(from);
    }
    await linkIdentity(this.connection, this.channel, phoneKey(phone), customer, { replace: true });
  }

  /**
   * A customer stored before identities were kept (no `whatsapp` record) whose conversation is
   * under this phone, or this hidden id (WhatsApp Web's `…@lid`, its sender then): theirs,
   * until a message links it under its own key.
   */
  private async legacyOwner(id: { phone: string } | { hidden: string }): Promise<Types.ObjectId | null> {
    const legacy = await customerIdOf(this.connection, this.channel, this.ids.conversationOf(id));
    if (!legacy) return null;
    const doc = await customerModel(this.connection).findById(legacy, { whatsapp: 1 }).lean<Found>();
    return doc && !doc.whatsapp ? legacy : null;
  }

  /** Forgets what this process remembers of a customer (moved or erased). */
  forgetCustomer(customer: Types.ObjectId): void {
    forgetIdentitiesOf(this.connection, customer);
  }

  private forgetRemembered(customer: Types.ObjectId): void {
    for (const [key, known] of this.remembered) if (known.customer.equals(customer)) this.remembered.delete(key);
    for (const [key, known] of this.bothIds) if (known.customer.equals(customer)) this.bothIds.delete(key);
  }

  /** A new customer, kept under their phone, else their hidden id; an id another customer's conversation already has (a number they left) gets a suffix. */
  private async create(identity: WhatsAppIdentity): Promise<Found> {
    const now = new Date();
    const hidden = this.hiddenOf(identity);
    const whatsapp = {
      ...(identity.phone ? { phone: identity.phone } : {}),
      ...(hidden ? { [this.ids.hidden]: hidden } : {}),
      ...(identity.parentBsuid ? { parentBsuid: identity.parentBsuid } : {}),
      ...(identity.username ? { username: identity.username } : {}),
      ...(identity.name ? { profileName: identity.name } : {}),
    };
    const first = this.ids.conversationOf(identity.phone ? { phone: identity.phone } : { hidden: hidden! });
    // The last choice is made from the ids themselves: a replay after a crash finds the customer it made.
    const fallback = `${first}~${createHash('sha256').update(`${identity.phone ?? ''}|${hidden ?? ''}`).digest('hex').slice(0, 12)}`;
    for (const externalId of [first, ...(hidden && identity.phone ? [this.ids.conversationOf({ hidden })] : []), fallback]) {
      try {
        const [doc] = await insertPlain(customerModel(this.connection), [{ channel: this.channel, externalId, tags: [], firstSeenAt: now, lastSeenAt: now, whatsapp }]);
        // The conversation's key (the recorder finds the customer by it), then their ids.
        await linkIdentity(this.connection, this.channel, externalId, doc!._id, { replace: true });
        return { _id: doc!._id, externalId, whatsapp };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Someone has that id already: a first message of the same person that raced this one
        // (theirs), one stored before identities were kept (theirs), or a customer who left
        // that number, or has another user id (not theirs).
        const doc = await customerModel(this.connection).findOne({ channel: this.channel, externalId }, { externalId: 1, whatsapp: 1 }).lean<Found>();
        const w = doc?.whatsapp;
        const theirs = w?.[this.ids.hidden];
        const same = !w || ((identity.phone ? w.phone === identity.phone : theirs === hidden) && (!hidden || !theirs || theirs === hidden));
        if (doc && same) return doc;
      }
    }
    throw new Error(`WhatsApp customer ${first} could not be stored`);
  }
}
