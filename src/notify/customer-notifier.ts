import type { Connection, Types } from 'mongoose';
import { storeOutbound } from '../bot/recorder';
import { customerModel } from '../db/models/customer';
import type { Language } from '../config';
import type { Logger } from '../logger';
import type { ChannelDirectory } from './channel-directory';

/** Tells a customer something outside their turn, through their channel, and keeps it in their history. */
export class CustomerNotifier {
  constructor(
    private readonly connection: Connection,
    private readonly channels: ChannelDirectory,
    private readonly log: Logger,
  ) {}

  /** Sends the text (or the text in the customer's language) to the customer; false (logged) when their channel is off or refuses it. */
  async tell(customerId: Types.ObjectId, message: string | ((lang: Language | undefined) => string), tag: { flow: string; step: string }): Promise<boolean> {
    const customer = await customerModel(this.connection).findById(customerId, { channel: 1, externalId: 1, language: 1 }).lean();
    if (!customer) {
      this.log.warn({ customer: String(customerId) }, 'cannot notify a customer who no longer exists');
      return false;
    }
    const text = typeof message === 'string' ? message : message((customer.language as Language | undefined) ?? undefined);
    try {
      await this.channels.send(customer.channel, customer.externalId, [text], async (activities) => {
        for (const a of activities) a.channelData = { ...(a.channelData ?? {}), taawun: tag };
        await storeOutbound(this.connection, customerId, customer.channel, activities, this.channels.adapter(customer.channel));
      });
      return true;
    } catch (err) {
      this.log.error({ customer: String(customerId), channel: customer.channel, err: (err as Error).message }, 'could not notify the customer');
      return false;
    }
  }
}
