import { createHash } from 'node:crypto';
import type { Connection, Types } from 'mongoose';
import { customerModel } from '../../db/models/customer';
import { isDuplicateKey } from '../../db/duplicate-key';
import { insertPlain } from '../../db/plain-insert';
import { customerIdOf, forgetIdentitiesOf, linkIdentity, onIdentitiesForgotten, unlinkIdentity } from '../../history/customers';
import type { Logger } from '../../logger';
import { isBsuid, isWhatsAppPhone, type WhatsAppIdentity } from './whatsapp-identity';

const CHANNEL = 'whatsapp';
// Ids are linked under keys of their own, apart from the conversations' ("whatsapp:<externalId>"),
// which never move: a phone that changes hands must not take a conversation with it.
const phoneKey = (phone: string) => `phone:${phone}`;
const bsuidKey = (bsuid: string) => `bsuid:${bsuid}`;
// Identities whose customer this process has linked, to skip the lookups on every message.
const MAX_REMEMBERED = 50_000;

/** What resolving reads of a customer. */
interface Found {
  _id: Types.ObjectId;
  externalId: string;
  whatsapp?: { phone?: string | null; bsuid?: string | null; parentBsuid?: string | null; username?: string | null; profileName?: string | null; formerPhones?: string[] } | null;
}

/** A WhatsApp customer as a turn knows them: their document's id and the id their conversation is kept under. */
export interface WhatsAppCustomer {
  customer: Types.ObjectId;
  /** The customer's `externalId`: the first id Meta gave them, the conversation's key for good. */
  conversation: string;
}

/**
 * One customer whatever WhatsApp calls them: a phone, a business-scoped user id (BSUID), or
 * both. Each id seen is linked to the customer in customer_ids, so a customer first seen by
 * phone and later by BSUID (or the reverse) keeps one history, cart and dialog; their
 * conversation stays under the id they were first seen with. The BSUID decides when the two
 * disagree: a phone that comes with another person's BSUID has changed hands.
 */
export class WhatsAppCustomers {
  private readonly remembered = new Map<string, WhatsAppCustomer & { seen: string }>();

  constructor(
    private readonly connection: Connection,
    private readonly log: Logger,
    /** Told of a customer whose phone went to someone else. */
    private readonly phoneLost: (customer: Types.ObjectId) => void = () => undefined,
  ) {
    onIdentitiesForgotten(connection, (customer) => this.forgetRemembered(customer));
  }

  /** The customer behind an identity, created when `create` and none is known; their ids and profile are kept up to date. */
  async resolve(identity: WhatsAppIdentity, options: { create: boolean }): Promise<WhatsAppCustomer | undefined> {
    const key = `${identity.phone ?? ''}|${identity.bsuid ?? ''}`;
    const seen = `${identity.username ?? ''}|${identity.name ?? ''}|${identity.parentBsuid ?? ''}`;
    const known = this.remembered.get(key);
    if (known && known.seen === seen) return known;
    const byBsuid = identity.bsuid ? await customerIdOf(this.connection, CHANNEL, bsuidKey(identity.bsuid)) : null;
    // Linked under its key, or (a customer stored before identities were kept) found by their conversation's.
    const phoneLinked = identity.phone ? await customerIdOf(this.connection, CHANNEL, phoneKey(identity.phone)) : null;
    const byPhone = phoneLinked ?? (identity.phone ? await this.legacyPhoneOwner(identity.phone) : null);
    const Customer = customerModel(this.connection);
    let id = byBsuid ?? byPhone;
    let doc: Found | null = id ? await Customer.findById(id, { externalId: 1, whatsapp: 1 }).lean<Found>() : null;
    // The phone's customer has a BSUID of their own: this is another person who has that number now.
    if (!byBsuid && doc && identity.bsuid && doc.whatsapp?.bsuid && doc.whatsapp.bsuid !== identity.bsuid) {
      this.log.warn({ channel: CHANNEL, customer: String(doc._id) }, 'a phone came with another user id: it has changed hands; a new customer is made for its new owner');
      doc = null;
      id = null;
    }
    if (!doc) {
      if (!options.create) return undefined;
      doc = await this.create(identity);
      id = doc._id;
    }
    const customer = id!;
    if (identity.bsuid) await linkIdentity(this.connection, CHANNEL, bsuidKey(identity.bsuid), customer);
    // The BSUID's customer takes the phone from whoever had it (their number now).
    if (identity.phone && !(phoneLinked?.equals(customer) ?? false)) await this.givePhone(identity.phone, customer, byPhone);
    const w = doc.whatsapp ?? {};
    // Writing from another phone than the one kept: the old one is no longer theirs (as a number change says).
    if (identity.phone && w.phone && w.phone !== identity.phone) {
      if ((await customerIdOf(this.connection, CHANNEL, phoneKey(w.phone)))?.equals(customer)) await unlinkIdentity(this.connection, CHANNEL, phoneKey(w.phone));
      await Customer.updateOne({ _id: customer }, { $set: { 'whatsapp.formerPhones': [...(w.formerPhones ?? []).filter((p) => p !== w.phone), w.phone].slice(-5) } });
    }
    const fields: Record<string, string> = {};
    if (identity.phone && w.phone !== identity.phone) fields['whatsapp.phone'] = identity.phone;
    if (identity.bsuid && w.bsuid !== identity.bsuid) fields['whatsapp.bsuid'] = identity.bsuid;
    if (identity.parentBsuid && w.parentBsuid !== identity.parentBsuid) fields['whatsapp.parentBsuid'] = identity.parentBsuid;
    if (identity.username && w.username !== identity.username) fields['whatsapp.username'] = identity.username;
    if (identity.name && w.profileName !== identity.name) fields['whatsapp.profileName'] = identity.name;
    if (Object.keys(fields).length > 0) await Customer.updateOne({ _id: customer }, { $set: fields });
    const found = { customer, conversation: doc.externalId, seen };
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(key, found);
    return found;
  }

  /** The customer a phone or a BSUID (as statuses name the recipient) belongs to now, if any. */
  async customerOf(id: string): Promise<Types.ObjectId | null> {
    if (isBsuid(id)) return customerIdOf(this.connection, CHANNEL, bsuidKey(id));
    return (await customerIdOf(this.connection, CHANNEL, phoneKey(id))) ?? this.legacyPhoneOwner(id);
  }

  /**
   * Moves a customer to their new phone and/or BSUID (`user_changed_number`,
   * `user_changed_user_id`): the old phone is no longer theirs. Their conversation keeps its key.
   */
  async move(customer: Types.ObjectId, next: { phone?: string; bsuid?: string }): Promise<void> {
    const Customer = customerModel(this.connection);
    const doc = await Customer.findById(customer, { whatsapp: 1, externalId: 1 }).lean<Found>();
    if (!doc) return;
    const old = doc.whatsapp?.phone ?? (!doc.whatsapp && isWhatsAppPhone(doc.externalId) ? doc.externalId : undefined);
    const set: Record<string, unknown> = {};
    if (next.phone && next.phone !== old) {
      await this.givePhone(next.phone, customer, await this.customerOf(next.phone));
      if (old) {
        await unlinkIdentity(this.connection, CHANNEL, phoneKey(old));
        set['whatsapp.formerPhones'] = [...(doc.whatsapp?.formerPhones ?? []).filter((p) => p !== old), old].slice(-5);
      }
      set['whatsapp.phone'] = next.phone;
    }
    if (next.bsuid && next.bsuid !== doc.whatsapp?.bsuid) {
      await linkIdentity(this.connection, CHANNEL, bsuidKey(next.bsuid), customer, { replace: true });
      if (doc.whatsapp?.bsuid) await unlinkIdentity(this.connection, CHANNEL, bsuidKey(doc.whatsapp.bsuid));
      set['whatsapp.bsuid'] = next.bsuid;
    }
    // A customer stored before identities were kept gets the record that says what is theirs now.
    if (!doc.whatsapp && !set['whatsapp.phone'] && old) set['whatsapp.phone'] = old;
    if (Object.keys(set).length > 0) await Customer.updateOne({ _id: customer }, { $set: set });
    this.forgetCustomer(customer);
  }

  /** Points a phone at `customer`, taking it from `from` (who no longer has it: not addressed there again). */
  private async givePhone(phone: string, customer: Types.ObjectId, from: Types.ObjectId | null): Promise<void> {
    if (from && !from.equals(customer)) {
      this.log.warn({ channel: CHANNEL, customer: String(customer), from: String(from) }, 'a phone moves to another customer: their user id came with it, or they changed to it');
      const Customer = customerModel(this.connection);
      const previous = await Customer.findById(from, { whatsapp: 1, externalId: 1 }).lean<Found>();
      // One stored before identities were kept: their record now says they have no phone (their conversation key was it).
      if (previous && !previous.whatsapp) await Customer.updateOne({ _id: from }, { $set: { 'whatsapp.formerPhones': [phone] } });
      else await Customer.updateOne({ _id: from, 'whatsapp.phone': phone }, { $unset: { 'whatsapp.phone': 1 } });
      this.forgetCustomer(from);
      this.phoneLost(from);
    }
    await linkIdentity(this.connection, CHANNEL, phoneKey(phone), customer, { replace: true });
  }

  /**
   * A customer stored before identities were kept (no `whatsapp` record) whose conversation is
   * under this phone: theirs, until a message links it under its own key.
   */
  private async legacyPhoneOwner(phone: string): Promise<Types.ObjectId | null> {
    const legacy = await customerIdOf(this.connection, CHANNEL, phone);
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
  }

  /** A new customer, kept under their phone, else their BSUID; an id another customer's conversation already has (a number they left) gets a suffix. */
  private async create(identity: WhatsAppIdentity): Promise<Found> {
    const now = new Date();
    const whatsapp = {
      ...(identity.phone ? { phone: identity.phone } : {}),
      ...(identity.bsuid ? { bsuid: identity.bsuid } : {}),
      ...(identity.parentBsuid ? { parentBsuid: identity.parentBsuid } : {}),
      ...(identity.username ? { username: identity.username } : {}),
      ...(identity.name ? { profileName: identity.name } : {}),
    };
    const first = (identity.phone ?? identity.bsuid)!;
    // The last choice is made from the ids themselves: a replay after a crash finds the customer it made.
    const fallback = `${first}~${createHash('sha256').update(`${identity.phone ?? ''}|${identity.bsuid ?? ''}`).digest('hex').slice(0, 12)}`;
    for (const externalId of [first, ...(identity.bsuid && identity.phone ? [identity.bsuid] : []), fallback]) {
      try {
        const [doc] = await insertPlain(customerModel(this.connection), [{ channel: CHANNEL, externalId, tags: [], firstSeenAt: now, lastSeenAt: now, whatsapp }]);
        // The conversation's key (the recorder finds the customer by it), then their ids.
        await linkIdentity(this.connection, CHANNEL, externalId, doc!._id, { replace: true });
        return { _id: doc!._id, externalId, whatsapp };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Someone has that id already: a first message of the same person that raced this one
        // (theirs), one stored before identities were kept (theirs), or a customer who left
        // that number, or has another user id (not theirs).
        const doc = await customerModel(this.connection).findOne({ channel: CHANNEL, externalId }, { externalId: 1, whatsapp: 1 }).lean<Found>();
        const w = doc?.whatsapp;
        const same = !w || ((identity.phone ? w.phone === identity.phone : w.bsuid === identity.bsuid) && (!identity.bsuid || !w.bsuid || w.bsuid === identity.bsuid));
        if (doc && same) return doc;
      }
    }
    throw new Error(`WhatsApp customer ${first} could not be stored`);
  }
}
