import type { Connection, Types } from 'mongoose';
import { customerModel } from '../db/models/customer';
import type { Language } from '../config';
import type { Locales } from '../i18n/locales';
import type { Logger } from '../logger';
import type { CustomerNotifier } from '../notify/customer-notifier';
import { NEEDS_HUMAN_TAG } from './handoff-action';

/** The staff's side of a handoff: answering a customer from the console, and giving the conversation back to the bot. */
export class StaffConversation {
  constructor(
    private readonly connection: Connection,
    private readonly customers: CustomerNotifier,
    private readonly locales: () => Locales,
    private readonly log: Logger,
  ) {}

  /** Sends a person's reply through the customer's channel, into their history; false when the channel refused it. */
  async reply(customer: Types.ObjectId, text: string, staff: string): Promise<boolean> {
    const sent = await this.customers.tell(customer, text, { flow: 'staff', step: staff });
    if (sent) this.log.info({ customer: String(customer), staff }, 'staff replied to a customer');
    return sent;
  }

  /** Ends the handoff: the bot answers this customer again, and says so in their language. */
  async giveBack(customer: Types.ObjectId): Promise<boolean> {
    const updated = await customerModel(this.connection).updateOne({ _id: customer }, { $unset: { handoff: 1 }, $pull: { tags: NEEDS_HUMAN_TAG }, $set: { fallbacks: 0 } });
    if (updated.matchedCount === 0) return false;
    await this.customers.tell(customer, (lang) => this.locales().text((lang as Language | undefined) ?? 'fr', 'human.handed_back'), { flow: 'staff', step: 'give_back' });
    this.log.info({ customer: String(customer) }, 'conversation given back to the bot');
    return true;
  }
}
